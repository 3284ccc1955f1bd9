"""helpers.characterise: a measured curve -> shape, size with intervals, a fit, warnings."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import helpers
from helpers import paths
from helpers.characterisation import NOT_DETERMINABLE, Characteriser
from helpers.learning import logq
from helpers.measurement import fit as physics
from helpers.measurement import instrument
from helpers.simulation import library


def _measured(lib, k=5, scale=1e-3):
    """A library curve, polydisperse and in arbitrary units."""
    return scale * instrument.polydisperse(lib, [k], 0.05)[0]


def test_one_curve_gets_probabilities_sizes_a_fit_and_warnings(characteriser, small_library):
    lib = small_library
    result = helpers.characterise(lib.q, _measured(lib), model=characteriser)
    assert sum(result.probabilities.values()) == pytest.approx(1.0)
    assert result.shape in result.probabilities  # the wide angles are measured
    assert result.radius_A_low <= result.radius_A <= result.radius_A_high
    assert result.n_atoms_low <= result.n_atoms <= result.n_atoms_high
    assert 0 <= result.novelty_score <= 1 and result.coverage.shape_determinable
    assert result.fit is not None and np.isfinite(result.fit.chi2_red)
    assert len(result.fits) >= 4  # every element and B_iso of the shapes tried
    assert isinstance(result.warnings, list)
    assert result.shape_set[0] == result.shape  # the set starts with the answer
    assert sum(result.probabilities[s] for s in result.shape_set) >= 0.9 - 1e-12


def test_without_wide_angles_the_shape_is_not_determinable(characteriser, small_library):
    lib = small_library
    saxs = lib.q < 1.0
    result = characteriser.characterise(lib.q[saxs], _measured(lib)[saxs])
    assert result.shape == NOT_DETERMINABLE and np.isfinite(result.radius_A)
    assert any(w.startswith("shape not determinable") for w in result.warnings)
    assert set(result.fits["shape"]) == set(lib.metadata["shape"])  # every shape fitted


def test_a_batch_gives_one_row_per_curve_and_nm_equals_angstrom(characteriser, small_library):
    lib = small_library
    curves = np.stack([_measured(lib, k) for k in (0, 7, 20)])
    table = characteriser.characterise(lib.q, curves)
    assert isinstance(table, pd.DataFrame) and len(table) == 3
    labels = [f"p_{s}" for s in characteriser.model.labels]
    needed = ["shape", "n_atoms", "n_atoms_low", "n_atoms_high", "radius_A", "radius_A_low"]
    assert set(labels + needed + ["radius_A_high", "warnings", "shape_set"]) <= set(table.columns)
    np.testing.assert_allclose(table[labels].sum(axis=1), 1.0, rtol=1e-9)
    in_nm = characteriser.characterise(10.0 * lib.q, curves, q_unit="1/nm")
    pd.testing.assert_frame_equal(in_nm, table)


def test_a_given_element_is_the_only_one_fitted(characteriser, small_library):
    lib = small_library
    elements = sorted(lib.metadata["element"].unique())
    assert len(elements) >= 2  # else the test could not tell
    k = 5
    element = str(lib.metadata["element"].iloc[k])
    free = characteriser.characterise(lib.q, _measured(lib, k))
    assert free.given_element is None and len(set(free.fits["element"])) >= 2
    given = characteriser.characterise(lib.q, _measured(lib, k), element=element)
    assert given.given_element == element and set(given.fits["element"]) == {element}
    assert given.fit.element == element and given.as_record()["given_element"] == element
    assert given.as_row()["given_element"] == element
    table = characteriser.characterise(lib.q, np.stack([_measured(lib, k)] * 2), element=element)
    assert list(table["given_element"]) == [element] * 2
    for bad in ("Unobtainium", "au", 79):
        with pytest.raises(ValueError, match=r"is not in the physics fit's library: give one of"):
            characteriser.characterise(lib.q, _measured(lib, k), element=bad)


def test_bad_curves_are_named(characteriser, small_library):
    lib = small_library
    bad = _measured(lib).copy()
    bad[3] = -1.0
    with pytest.raises(ValueError, match="<= 0"):
        characteriser.characterise(lib.q, bad)
    with pytest.raises(ValueError, match="1/Å"):
        characteriser.characterise(lib.q, _measured(lib), q_unit="furlongs")


def test_saved_model_is_found_and_a_missing_one_names_the_command(
    characteriser, small_library, tmp_path, monkeypatch
):
    with pytest.raises(FileNotFoundError, match="make model"):
        Characteriser.load(tmp_path / "nothing")
    monkeypatch.setattr(paths, "LIBRARY_DIR", tmp_path / "library")
    copy = library.build_library(
        paths.library_dir("small"), progress=False, **_params(small_library)
    )
    model = Characteriser(
        characteriser.model, characteriser.novelty, copy, 4.0, None, characteriser.fit_size_factor
    )
    model.save(tmp_path / "model", "small")
    again = Characteriser.load(tmp_path / "model")
    assert again.fit_size_factor == characteriser.fit_size_factor
    a = again.characterise(copy.q, _measured(copy))
    b = model.characterise(copy.q, _measured(copy))
    assert a.probabilities == pytest.approx(b.probabilities) and a.radius_A == pytest.approx(
        b.radius_A
    )


def _params(lib):
    p = lib.manifest["params"]
    return dict(
        shapes=p["shapes"], sizes=p["sizes"], elements=p["elements"], b_iso=p["b_iso"], q=lib.q
    )


def _holding_out(small_library, tmp_path, monkeypatch, k=5):
    """(library, structure id, other rows): a copy of the small library where a saved model
    finds it, the structure of row ``k``, and the rows of every other structure."""
    monkeypatch.setattr(paths, "LIBRARY_DIR", tmp_path / "library")
    lib = library.build_library(
        paths.library_dir("small"), progress=False, **_params(small_library)
    )
    held_out = lib.metadata["structure_id"].iloc[k]
    return lib, held_out, np.flatnonzero(lib.metadata["structure_id"] != held_out)


def test_reference_rows_keep_held_out_structures_out_of_the_fit(
    characteriser, small_library, tmp_path, monkeypatch
):
    k = 5
    lib, held_out, others = _holding_out(small_library, tmp_path, monkeypatch, k)
    meta = lib.metadata
    limited = Characteriser(
        characteriser.model,
        characteriser.novelty,
        lib,
        characteriser.trained_q_max,
        others,
        characteriser.fit_size_factor,
    )
    assert held_out not in set(limited.reference.metadata["structure_id"])
    result = limited.characterise(lib.q, _measured(lib, k))
    ref = limited.reference.metadata
    family = ref[
        (ref["shape"] == result.fit.shape)
        & (ref["element"] == result.fit.element)
        & np.isclose(ref["b_iso"], result.fit.b_iso)
    ]
    # R_0 from the reference's curves: among its sizes or between two of them (dilated)
    assert family["eq_radius"].min() <= result.fit.radius_A <= family["eq_radius"].max()
    # the held-out particle's size (a cube of R_eq 9.1 Å) from the small angles, between the
    # sizes left (measured: 8.7 Å, an icosahedron of 8.1 Å dilated)
    true_radius = meta["eq_radius"].iloc[k]
    assert not np.isclose(ref["eq_radius"], result.fit_radius_A).any()  # between the sizes
    assert result.size_fit is not None and result.fit_radius_A == result.size_fit.radius_A
    assert result.fit_radius_A == pytest.approx(true_radius, rel=0.1)
    limited.save(tmp_path / "model", "small")
    assert np.array_equal(Characteriser.load(tmp_path / "model").rows, others)


def test_the_fit_alone_names_a_held_out_particle_only_when_its_curve_is_a_candidate(
    characteriser, small_library, tmp_path, monkeypatch
):
    from helpers.characterisation import _fit_characteriser, fit_shapes
    from helpers.measurement import files

    lib, held_out, others = _holding_out(small_library, tmp_path, monkeypatch)
    meta = lib.metadata
    limited = replace(characteriser, library=lib, rows=others)
    folder = limited.save(tmp_path / "model", "small")
    rows = [5, int(others[-1])]  # the held-out cube's curve, a curve the fit keeps
    made = [
        files.write_ascii(
            tmp_path / f"c{k}.dat", lib.q, 1e-3 * lib.intensities[k], element=meta["element"][k]
        )
        for k in rows
    ]
    elements = [meta["element"][k] for k in rows]
    truth = [meta["shape"][k] for k in rows]
    # the held-out particle's own exact curve among the candidates: each named
    assert fit_shapes(folder, made, elements, whole_library=True) == truth
    # the measurement's resolution may be given ((0, 0): as None, the fit tries its resolutions)
    smeared = files.write_ascii(
        tmp_path / "s.dat", lib.q, instrument.smear(lib.q, 1e-3 * lib.intensities[5], 0.01, 0.02)
    )
    given = [(0.0, 0.0), None, (0.01, 0.02)]
    assert fit_shapes(folder, [*made, smeared], [*elements, elements[0]], True, 1, given) == [
        *truth,
        truth[0],
    ]
    alone = fit_shapes(folder, made, elements)
    assert alone[1] == truth[1] and alone[0] in set(meta["shape"])
    # the oracle's candidates hold the held-out structure, the model's own fit's do not
    for whole, holds in [(True, True), (False, False)]:
        fitted = _fit_characteriser(folder, None, whole).reference.metadata["structure_id"]
        assert (held_out in set(fitted)) == holds
    assert fit_shapes(folder, made, elements, jobs=2) == alone  # workers: the same answers
    with pytest.raises(ValueError, match="zip"):
        fit_shapes(folder, made, elements[:1])


def test_make_model_trains_saves_and_replaces_whole(small_library, tmp_path, monkeypatch):
    from helpers.characterisation import make_model

    monkeypatch.setattr(paths, "LIBRARY_DIR", tmp_path / "library")
    monkeypatch.setitem(library.PRESETS, "small", _params(small_library))  # load_library's name
    library.build_library(paths.library_dir("small"), progress=False, **_params(small_library))
    options = dict(
        library_name="small",
        elements=["Au", "Fe"],
        b_iso=None,
        rounds=1,
        epochs=1,
        width=4,
        grid=logq.LogQGrid(q_min=0.02, q_max=6.0, n=64),
        epoch_fraction=1.0,
        validation_size=0.4,
        ranges={"q_max": (4.0, 6.0)},
        calibration_curves=4,
        progress=False,
    )
    folder = make_model(tmp_path / "models" / "characterise", **options)
    first = Characteriser.load(folder)
    assert first.rows is None and len(first.reference) == len(small_library)
    # the recipe's fields not overridden reach the saved model: its networks, each with the
    # temperature's floor, saved and loaded back as one model
    recipe = helpers.characterisation.MODEL_RECIPE
    networks = first.model.members if recipe["members"] > 1 else [first.model]
    assert len(networks) == recipe["members"]
    floor = recipe["min_temperature"]
    assert all(m.min_temperature == floor and m.temperature >= floor for m in networks)
    make_model(folder, seed=1, **options)
    assert sorted(p.name for p in folder.parent.iterdir()) == ["characterise"]
    with pytest.raises(ValueError, match="not in the library"):
        make_model(folder, **{**options, "elements": ["Xx"]})
    again = Characteriser.load(folder).model
    seeds = [m.seed for m in again.members] if recipe["members"] > 1 else [again.seed]
    assert seeds == list(range(1, 1 + recipe["members"]))  # member k: seed + k


def test_train_members_share_the_validation_structures_and_predict_together(small_library):
    from helpers.characterisation import train

    options = dict(
        rounds=1,
        validation_size=0.4,
        ranges={"q_max": (4.0, 6.0)},
        epochs=1,
        width=4,
        grid=logq.LogQGrid(q_min=0.02, q_max=6.0, n=64),
        epoch_fraction=1.0,
        calibration_curves=4,
    )
    for members, pooling, message in [
        (0, "mean", "members must be an integer"),
        (True, "mean", "members must be an integer"),
        (2, "median", "pooling must be one of"),
    ]:
        with pytest.raises(ValueError, match=message):
            train(small_library, members=members, pooling=pooling, **options)
    with pytest.raises(ValueError, match="jobs must be an integer"):
        train(small_library, members=2, jobs=0, **options)
    pair = train(small_library, members=2, pooling="log", **options)
    assert isinstance(pair.model, logq.LogQEnsemble) and pair.model.pooling == "log"
    assert [m.seed for m in pair.model.members] == [0, 1]
    one = train(small_library, **options)  # member 0 is the single network of the same seed
    Z = logq.prepare(small_library.q, small_library.intensities[:3], grid=one.model.grid)
    np.testing.assert_allclose(
        pair.model.members[0].predict_inputs(Z).proba, one.model.predict_inputs(Z).proba
    )
    parts = [m.predict_inputs(Z).proba for m in pair.model.members]
    assert not np.allclose(parts[0], parts[1])  # other seeds, other networks
    # in worker processes, while this one builds the novelty reference, which needs no network
    workers = train(small_library, members=2, jobs=2, **options)
    assert [m.seed for m in workers.model.members] == [0, 1]
    assert workers.model.grid == pair.model.grid
    np.testing.assert_array_equal(workers.novelty.reference, pair.novelty.reference)
    np.testing.assert_array_equal(
        workers.novelty.validation_distances, pair.novelty.validation_distances
    )


def test_the_figure_marks_the_fitted_lattice_and_the_record_is_plain_json(
    characteriser, small_library
):
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.simulation import structures

    lib = small_library
    intensity = _measured(lib)
    result = characteriser.characterise(lib.q, intensity, sigma=0.02 * intensity)
    np.testing.assert_allclose(result.sigma, 0.02 * intensity)
    fig = result.figure(source="a.dat")
    waxs = next(ax for ax in fig.axes if ax.get_label() == "waxs")
    lattice = structures.SHAPE_SPECS[result.fit.shape].lattice
    expected = structures.bragg_positions(result.fit.element, "bcc" if lattice == "bcc" else "fcc")
    marked = sorted(
        line.get_xdata()[0]
        for line in waxs.lines
        if line.get_linestyle() == ":" and len(line.get_xdata()) == 2
    )
    assert marked == pytest.approx(sorted(v for v in expected.values() if v <= lib.q[-1]))
    assert f"χ²_red = {result.fit.chi2_red:.3g}" in fig.get_suptitle()
    plt.close(fig)

    record = result.as_record()
    text = json.dumps(record, allow_nan=False)  # no NaN, no numpy types
    assert json.loads(text)["fit"]["chi2_red"] == pytest.approx(result.fit.chi2_red)
    assert record["probabilities"] == pytest.approx(result.probabilities)
    assert record["coverage"]["q_max"] == pytest.approx(lib.q[-1])
    assert len(record["fits"]) == len(result.fits)


def test_the_fit_leaves_the_models_window_when_the_data_pull_it_out(
    characteriser, small_library, monkeypatch
):
    """A window of one size (the factor squeezes the model's interval to its centre): a best fit
    pinned at that window's edge is refitted over every size of the library."""
    from helpers import characterisation as C

    lib = small_library
    monkeypatch.setattr(C, "FIT_RADIUS_FACTOR", 1e-6)
    for row in np.flatnonzero(lib.metadata["size_parameter_1"].to_numpy() == 3):  # middle size
        curve = lib.intensities[row]
        result = characteriser.one(lib.q, curve)
        p = result.probabilities
        order = sorted(p, key=lambda label: -p[label])
        chosen = [s for s in order[: C.FIT_SHAPES] if p[s] >= C.FIT_SHARE * p[order[0]]]
        centre = np.sqrt(result.radius_A_low * result.radius_A_high)
        window = (centre * 1e6, centre / 1e6)  # what the squeezed factor gives
        fits = [characteriser._fit(lib.q, curve, None, chosen, w) for w in (window, None)]
        (pinned, free) = [f["refined"] for _, f in fits]
        if pinned.at_range_edge and free.radius_A != pinned.radius_A:
            assert free.chi2_red < pinned.chi2_red
            assert (result.fit.shape, result.fit.radius_A) == (free.shape, free.radius_A)
            assert result.fit.chi2_red == free.chi2_red  # refitted over every size
            return
    pytest.fail("no middle-size particle had its fit pinned at the window: no case to test")


def test_the_fit_smears_by_a_given_resolution_in_the_curves_unit(characteriser, small_library):
    lib = small_library
    row = int(np.flatnonzero(lib.metadata["size_parameter_1"].to_numpy() == 3)[0])
    curve = 3.0 * instrument.smear(lib.q, lib.intensities[row], 0.02, 0.02)
    dq = instrument.resolution_width(lib.q, 0.02, 0.02)
    given = characteriser.one(lib.q, curve, dq=dq)
    assert given.fit.resolution == "given σ_q"
    free = characteriser.one(lib.q, curve)
    labels = {physics.resolution_label(s0, r) for s0, r in physics.RESOLUTIONS}
    assert free.fit.resolution in labels  # the best of fit.RESOLUTIONS
    assert given.size_fit.resolution == "given σ_q" and free.size_fit.resolution in labels
    in_nm = characteriser.characterise(lib.q * 10, curve, q_unit="1/nm", dq=dq * 10)
    assert in_nm.fit.radius_A == pytest.approx(given.fit.radius_A)
    assert in_nm.fit.chi2_red == pytest.approx(given.fit.chi2_red)
    assert given.fit.resolution in helpers.characterisation.fit_description(given.fit)


def test_the_answer_s_size_is_the_fit_s_with_the_calibrated_interval(characteriser, small_library):
    from helpers.characterisation import SIZE_FROM_FIT, SIZE_FROM_MODEL, fit_sizes, size_halfwidth

    lib = small_library
    k = characteriser.fit_size_factor
    assert np.isfinite(k) and k > 0
    result = characteriser.characterise(lib.q, _measured(lib, 5))
    size = result.size_fit or result.fit
    assert result.size_source == SIZE_FROM_FIT and result.radius_A == size.radius_A
    h = size_halfwidth(size.log_radius_halfwidth, result.model_radius_A, size.radius_A)
    spread = k * float(h)
    assert result.radius_A_low == pytest.approx(size.radius_A * np.exp(-spread))
    assert result.radius_A_high == pytest.approx(size.radius_A * np.exp(spread))
    assert result.n_atoms_high / result.n_atoms == pytest.approx(np.exp(3 * spread))
    # the model's own answer is kept beside it, and is the answer when there is no calibration
    uncalibrated = replace(characteriser, fit_size_factor=None)
    alone = uncalibrated.characterise(lib.q, _measured(lib, 5))
    assert alone.size_source == SIZE_FROM_MODEL and alone.radius_A == result.model_radius_A
    assert (alone.radius_A_low, alone.radius_A_high) == (
        result.model_radius_A_low,
        result.model_radius_A_high,
    )
    assert result.as_row()["size_source"] == SIZE_FROM_FIT
    with pytest.raises(ValueError, match="factor"):
        fit_sizes(size, float("nan"))


def test_the_size_interval_widens_where_model_and_fit_disagree(monkeypatch):
    import helpers.characterisation as ch

    u, radius = np.array([0.01, 0.03]), 40.0
    monkeypatch.setattr(ch, "FIT_SIZE_DISAGREEMENT", 0.0)
    np.testing.assert_array_equal(ch.size_halfwidth(u, 80.0, radius), u + ch.FIT_SIZE_FLOOR)
    monkeypatch.setattr(ch, "FIT_SIZE_DISAGREEMENT", 0.5)
    expected = np.hypot(u + ch.FIT_SIZE_FLOOR, 0.5 * np.log(2.0))
    np.testing.assert_allclose(ch.size_halfwidth(u, 80.0, radius), expected, rtol=1e-15)
    np.testing.assert_allclose(ch.size_halfwidth(u, 20.0, radius), expected, rtol=1e-15)
    # agreement, an unknown model size: the fit's own width
    np.testing.assert_array_equal(ch.size_halfwidth(u, radius, radius), u + ch.FIT_SIZE_FLOOR)
    np.testing.assert_array_equal(ch.size_halfwidth(u, None, radius), u + ch.FIT_SIZE_FLOOR)
    np.testing.assert_array_equal(ch.size_halfwidth(u, np.nan, radius), u + ch.FIT_SIZE_FLOOR)


def test_the_size_interval_is_calibrated_on_held_out_structures(characteriser, small_library):
    from helpers.characterisation import LEVEL, calibrate

    lib = small_library
    meta = lib.metadata
    held = meta["structure_id"].unique()[:3]
    rows = np.flatnonzero(meta["structure_id"].isin(held).to_numpy())
    out = calibrate(characteriser, rows, 10, seed=3)
    scores = out["scores"][np.isfinite(out["scores"])]
    assert scores.size >= 8 and (scores >= 0).all()
    # the conformal rank: the ⌈(n + 1) LEVEL⌉-th smallest score, so at least LEVEL of them
    assert out["factor"] in scores and np.mean(scores <= out["factor"]) >= LEVEL
    assert set(out["rows"]) <= set(rows)
    # the same seed gives the same factor; the structures were kept out of the fit, so the
    # fitted sizes are not simply the true ones (scores of exactly 0 for every curve)
    assert calibrate(characteriser, rows, 10, seed=3)["factor"] == out["factor"]
    assert scores.max() > 0
    # in two worker processes: the same curves, fits and calibrations
    shared = calibrate(characteriser, rows, 10, seed=3, jobs=2)
    np.testing.assert_allclose(shared["scores"], out["scores"], rtol=1e-6)
    assert shared["factor"] == pytest.approx(out["factor"], rel=1e-6)
    assert shared["true_shapes"] == out["true_shapes"]
    for key in ("tau", "radius_A"):
        assert shared["shape_weighting"][key] == out["shape_weighting"][key]
    with pytest.raises(ValueError, match="jobs must be an integer"):
        calibrate(characteriser, rows, 10, jobs=0)
    # the shape weighting, fitted on the same curves, never does worse than the model alone
    weighting = out["shape_weighting"]
    assert weighting["curves"] == scores.size and weighting["nll"] <= weighting["model_nll"]
    with pytest.raises(ValueError, match="needs curves"):
        calibrate(characteriser, rows, 0)


def test_a_model_saved_before_the_size_calibration_names_make_model(
    characteriser, small_library, tmp_path, monkeypatch
):
    import json

    monkeypatch.setattr(paths, "LIBRARY_DIR", tmp_path / "library")
    copy = library.build_library(
        paths.library_dir("small"), progress=False, **_params(small_library)
    )
    model = Characteriser(characteriser.model, characteriser.novelty, copy, 4.0, None, 1.0)
    model.save(tmp_path / "model", "small")
    record = tmp_path / "model" / "characteriser.json"
    old = json.loads(record.read_text())
    del old["fit_size_factor"]
    record.write_text(json.dumps(old))
    with pytest.raises(ValueError, match="make model"):
        Characteriser.load(tmp_path / "model")
    # a factor calibrated for another interval width (another β) is stale too
    old.update(fit_size_factor=1.0, fit_size_disagreement=old["fit_size_disagreement"] + 0.25)
    record.write_text(json.dumps(old))
    with pytest.raises(ValueError, match="make model"):
        Characteriser.load(tmp_path / "model")
    old["fit_size_disagreement"] -= 0.25
    record.write_text(json.dumps(old))
    assert Characteriser.load(tmp_path / "model").fit_size_factor == 1.0


def test_the_shape_dilations_are_saved_and_an_older_model_keeps_none(
    characteriser, small_library, tmp_path, monkeypatch
):
    import json

    monkeypatch.setattr(paths, "LIBRARY_DIR", tmp_path / "library")
    copy = library.build_library(
        paths.library_dir("small"), progress=False, **_params(small_library)
    )
    model = Characteriser(
        characteriser.model,
        characteriser.novelty,
        copy,
        4.0,
        None,
        1.0,
        shape_dilations=(-2, 0, 2),
    )
    model.save(tmp_path / "model", "small")
    again = Characteriser.load(tmp_path / "model")
    assert again.shape_dilations == (-2, 0, 2)
    answer = again.characterise(copy.q, _measured(copy))
    Z = logq.prepare(copy.q, _measured(copy)[None], grid=again.model.grid)
    expected = logq.shape_over_dilations(again.model, Z, (-2, 0, 2))
    assert answer.model_shape == expected.shape[0]
    record = tmp_path / "model" / "characteriser.json"
    old = json.loads(record.read_text())
    del old["shape_dilations"]  # saved before the dilations: calibrated without them
    record.write_text(json.dumps(old))
    assert Characteriser.load(tmp_path / "model").shape_dilations == (0,)


def test_the_fit_weighs_the_shape_of_large_particles_only():
    from helpers.characterisation import calibrate_shape_weighting, weigh_shapes

    model = {"cube": 0.6, "octahedron": 0.3, "icosahedron": 0.1}
    ratios = {"cube": 0.2, "octahedron": 0.0}  # the octahedron fits best; icosahedron not refined
    weighting = {"tau": 20.0, "radius_A": 30.0}
    small = weigh_shapes(model, ratios, 10.0, weighting)
    large = weigh_shapes(model, ratios, 90.0, weighting)
    assert sum(large.values()) == pytest.approx(1.0) and sum(small.values()) == pytest.approx(1.0)
    assert max(small, key=small.get) == "cube" and small["cube"] == pytest.approx(0.6, abs=0.01)
    assert max(large, key=large.get) == "octahedron" and large["octahedron"] > 0.9
    # a shape the fit did not refine is taken as bad as the worst refined one
    assert large["icosahedron"] / large["cube"] == pytest.approx(1 / 6)
    # calibration: where the fit is right for large particles, it gets a weight there
    evidence = [(model, ratios, 90.0)] * 8 + [(model, ratios, 10.0)] * 8
    truth = ["octahedron"] * 8 + ["cube"] * 8
    found = calibrate_shape_weighting(evidence, truth)
    assert found["tau"] > 0 and found["radius_A"] > 10.0
    assert found["accuracy"] == 1.0 and found["model_accuracy"] == 0.5
    assert found["nll"] < found["model_nll"]
    # where the fit is never right, it gets no weight
    assert calibrate_shape_weighting(evidence, ["cube"] * 16)["tau"] == 0.0
    with pytest.raises(ValueError, match="no validation curve"):
        calibrate_shape_weighting([], [])


def test_the_shape_set_is_the_fewest_labels_reaching_the_level():
    from helpers.characterisation import shape_set

    p = {"cube": 0.05, "octahedron": 0.55, "icosahedron": 0.3, "tetrahedron": 0.1}
    assert shape_set(p) == ["octahedron", "icosahedron", "tetrahedron"]  # 0.95 >= 0.9
    assert shape_set(p, level=0.85) == ["octahedron", "icosahedron"]  # exactly 0.85
    assert shape_set({"cube": 0.97, "octahedron": 0.03}) == ["cube"]
    assert shape_set({"cube": 0.5, "octahedron": 0.5}) == ["cube", "octahedron"]
    for level in (0.0, 1.0, float("nan")):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            shape_set(p, level=level)
    with pytest.raises(ValueError, match="at least one label"):
        shape_set({})


def test_published_curves_are_fitted_with_their_element_where_the_library_has_it(
    characteriser, small_library, tmp_path
):
    from helpers import characterisation
    from helpers.measurement import files

    lib = small_library
    element = str(lib.metadata["element"].iloc[5])
    assert "Pt" not in set(lib.metadata["element"])  # the second row names an element it lacks
    for name in ("a.dat", "b.dat", "c.dat"):
        files.write_ascii(tmp_path / name, lib.q, _measured(lib), q_unit="1/nm")  # q in 1/Å
    pd.DataFrame(
        {
            "file": ["a.dat", "b.dat", "c.dat"],
            "q_unit": ["1/nm"] * 3,
            "element": [element, "Pt", None],  # c.dat: no element published
            "published_radius_A": [10.0] * 3,
            "q_min_A": [np.nan] * 3,
            "mask_nonpositive": [False] * 3,
        }
    ).to_csv(tmp_path / "published.csv", index=False)
    published = characterisation.read_published(tmp_path)
    table, answers = characterisation.characterise_published(
        published, model=characteriser, folder=tmp_path
    )
    assert list(table["file"]) == ["a.dat", "b.dat", "c.dat"]
    given, other, unnamed = answers["a.dat"], answers["b.dat"], answers["c.dat"]
    assert unnamed.given_element is None and len(set(unnamed.fits["element"])) >= 2
    assert not any("published element" in w for w in unnamed.warnings)
    assert given.given_element == element and set(given.fits["element"]) == {element}
    assert not any("published element" in w for w in given.warnings)
    assert other.given_element is None and len(set(other.fits["element"])) >= 2
    assert any(
        w.startswith("the published element Pt is not in the physics fit's library")
        for w in other.warnings
    )
