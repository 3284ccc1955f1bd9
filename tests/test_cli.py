"""The command line: files -> characterisation -> one JSON and one PNG per file, and a table."""

import json
import shutil
import subprocess
import sys
import tomllib

import h5py
import numpy as np
import pandas as pd
import pytest

from helpers import cli, paths
from helpers.characterisation import NOT_DETERMINABLE
from helpers.measurement import instrument

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def model_dir(characteriser, small_library, tmp_path_factory):
    """The shared tiny model saved as ``make model`` would save it, naming the small library."""
    folder = tmp_path_factory.mktemp("models") / "characterise"
    return characteriser.save(folder, small_library.path.name)


@pytest.fixture(autouse=True)
def library_found(small_library, monkeypatch):
    """A saved model finds its library by name under paths.LIBRARY_DIR: the small library's."""
    monkeypatch.setattr(paths, "LIBRARY_DIR", small_library.path.parent)


def _curve(lib, k=5):
    """A library curve, polydisperse, in arbitrary units, with a 2 % sigma."""
    intensity = 1e-3 * instrument.polydisperse(lib, [k], 0.05)[0]
    return lib.q, intensity, 0.02 * intensity


def _ascii(path, q, intensity, sigma, header="# simulated Au particle\nq (1/nm)  I  sigma"):
    rows = "\n".join(
        f"{float(a)!r} {float(b)!r} {float(c)!r}" for a, b, c in zip(q, intensity, sigma)
    )
    path.write_text(f"{header}\n{rows}\n")
    return path


def _nxcansas(path, q, intensity, sigma, units="1/A"):
    with h5py.File(path, "w") as f:
        entry = f.create_group("sasentry01")
        entry.attrs.update(NX_class="NXentry", canSAS_class="SASentry", version="1.1")
        entry["definition"] = "NXcanSAS"
        entry["title"] = "simulated particle"
        data = entry.create_group("sasdata01")
        data.attrs.update(NX_class="NXdata", canSAS_class="SASdata", signal="I", I_axes="Q")
        data["Q"] = q
        data["Q"].attrs["units"] = units
        data["I"] = intensity
        data["I"].attrs.update(units="1/cm", uncertainties="Idev")
        data["Idev"] = sigma
    return path


def _no_nan(name):
    raise AssertionError(f"{name} in the JSON: it must be null")


def _read(path):
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_nan)


def _run(*args):
    return cli.main(["characterise", *map(str, args)])


def test_files_in_nm_and_nxcansas_round_trip_to_json_and_png(
    model_dir, characteriser, small_library, tmp_path, capsys
):
    lib = small_library
    q, intensity, sigma = _curve(lib)
    text = _ascii(tmp_path / "gold.dat", 10 * q, intensity, sigma)  # q in 1/nm, so stated
    other = _nxcansas(tmp_path / "iron.h5", *_curve(lib, 30))
    out = tmp_path / "answers"
    assert _run(text, other, "--out", out, "--model", model_dir) == cli.EXIT_OK

    direct = characteriser.characterise(q, intensity, sigma)
    for stem, unit in (("gold", "1/nm"), ("iron", "1/Å")):
        record = _read(out / f"{stem}.json")
        assert record["file"].endswith(f"{stem}.dat" if stem == "gold" else f"{stem}.h5")
        assert record["q_unit"] == unit and record["q_unit_from"] == "file"
        assert sum(record["probabilities"].values()) == pytest.approx(1.0)
        assert set(record["probabilities"]) == set(characteriser.model.labels)
        assert record["radius_A_low"] <= record["radius_A"] <= record["radius_A_high"]
        assert record["n_atoms_low"] <= record["n_atoms"] <= record["n_atoms_high"]
        assert 0 <= record["novelty_score"] <= 1 and isinstance(record["warnings"], list)
        assert record["coverage"]["shape_determinable"] is True
        assert record["fit"]["chi2_red"] > 0 and record["fit"]["weighted_by_sigma"] is True
        stages = {row["stage"]: row for row in reversed(record["fits"])}  # each stage's first
        assert [row["stage"] for row in record["fits"][:2]] == ["size", "refine"]
        assert stages["refine"]["chi2_red"] == pytest.approx(record["fit"]["chi2_red"])
        assert stages["size"]["radius_A"] == pytest.approx(record["size_fit"]["radius_A"])
        assert record["input"]["q_max_inverse_angstrom"] == pytest.approx(lib.q[-1])
        assert record["model"]["library_name"] == lib.path.name
        assert record["model"]["folder"] == str(model_dir.resolve())
        assert (out / f"{stem}.png").read_bytes()[:8] == PNG_SIGNATURE
    gold = _read(out / "gold.json")  # read in 1/nm: the same answer as q in 1/Å directly
    assert gold["radius_A"] == pytest.approx(direct.radius_A)
    assert gold["probabilities"] == pytest.approx(direct.probabilities)
    assert gold["fit"]["radius_A"] == pytest.approx(direct.fit.radius_A)
    assert sorted(p.name for p in out.iterdir()) == [
        "gold.json",
        "gold.png",
        "iron.json",
        "iron.png",
    ]  # no temporary file left behind
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:3] == ["file", "shape", "p"]
    assert str(text) in table and str(other) in table
    assert "2 of 2 file(s) characterised" in table


def test_worker_processes_give_the_same_answers_in_the_same_order(
    model_dir, small_library, tmp_path, capsys
):
    files = [
        _ascii(tmp_path / f"curve{k}.dat", 10 * q, i, s)
        for k, (q, i, s) in enumerate(_curve(small_library, k) for k in (3, 17, 30))
    ]
    files.insert(1, tmp_path / "missing.dat")  # a failure in the middle keeps its place
    answers = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        code = _run(*files, "--out", out, "--model", model_dir, "--jobs", jobs)
        assert code == cli.EXIT_FAILED
        printed = capsys.readouterr()
        assert "missing.dat: FAILED" in printed.err
        table = [line.split()[0] for line in printed.out.splitlines()[1:-1]]
        assert table == [str(f) for f in files]
        answers[jobs] = {p.name: p.read_bytes() for p in out.glob("*.json")}
    assert len(answers[1]) == 3 and answers[1] == answers[2]
    assert _run(files[0], "--jobs", 0) == cli.EXIT_NO_MODEL
    assert "--jobs must be a whole number >= 1" in capsys.readouterr().err


def test_a_bad_file_is_reported_and_the_others_are_written(
    model_dir, small_library, tmp_path, capsys
):
    q, intensity, sigma = _curve(small_library)
    good = _ascii(tmp_path / "good.dat", q, intensity, sigma, header="q (1/A) I sigma")
    negative = intensity.copy()
    negative[10] = -1.0
    bad = _ascii(tmp_path / "bad.dat", q, negative, sigma, header="q (1/A) I sigma")
    missing = tmp_path / "missing.dat"
    out = tmp_path / "out"
    code = _run(bad, missing, good, "--out", out, "--model", model_dir, "--quiet")
    assert code == cli.EXIT_FAILED
    captured = capsys.readouterr()
    assert f"{bad}: FAILED: the intensity is <= 0 at 1 point (line 12" in captured.err
    assert f"{missing}: FAILED: no file at" in captured.err
    assert "Traceback" not in captured.err
    assert (out / "good.json").exists() and (out / "good.png").exists()
    assert not (out / "bad.json").exists() and not (out / "missing.json").exists()
    assert captured.out.count("FAILED") == 2 and "1 of 3 file(s) characterised, 2 failed" in (
        captured.out
    )


def test_intensities_at_or_below_zero_are_masked_on_request(
    model_dir, small_library, tmp_path, capsys
):
    q, intensity, sigma = _curve(small_library)
    subtracted = intensity.copy()
    subtracted[[10, 40]] = (-1.0, 0.0)
    path = _ascii(tmp_path / "subtracted.dat", q, subtracted, sigma, header="q (1/A) I sigma")
    out = tmp_path / "out"
    assert _run(path, "--out", out, "--model", model_dir, "--quiet") == cli.EXIT_FAILED
    assert "--mask-nonpositive" in capsys.readouterr().err
    code = _run(path, "--out", out, "--model", model_dir, "--quiet", "--mask-nonpositive")
    assert code == cli.EXIT_OK
    record = _read(out / "subtracted.json")
    assert record["input"]["masked_nonpositive"] == ["line 12", "line 42"]
    assert record["input"]["n_measured"] == q.size - 2


def test_a_file_without_a_q_unit_needs_the_option(model_dir, small_library, tmp_path, capsys):
    q, intensity, sigma = _curve(small_library)
    plain = _ascii(tmp_path / "plain.txt", q, intensity, sigma, header="q I sigma")
    out = tmp_path / "out"
    assert _run(plain, "--out", out, "--model", model_dir) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert f"{plain}: FAILED: the q unit was not found in the file" in err
    assert "on this command line q_unit= is --q-unit" in err and "Traceback" not in err
    assert not (out / "plain.json").exists()

    assert _run(plain, "--out", out, "--model", model_dir, "--q-unit", "A^-1") == cli.EXIT_OK
    record = _read(out / "plain.json")
    assert record["q_unit"] == "1/Å" and record["q_unit_from"] == "--q-unit"

    assert _run(plain, "--model", model_dir, "--q-unit", "furlongs") == cli.EXIT_NO_MODEL
    assert "'furlongs' is not an accepted q unit" in capsys.readouterr().err


def test_a_given_element_reaches_the_fit_and_a_wrong_one_is_refused(
    model_dir, small_library, tmp_path, capsys
):
    q, intensity, sigma = _curve(small_library)
    element = str(small_library.metadata["element"].iloc[5])
    path = _ascii(tmp_path / "one.txt", 10 * q, intensity, sigma)  # q in 1/nm
    out = tmp_path / "out"
    assert _run(path, "--out", out, "--model", model_dir, "--element", element) == cli.EXIT_OK
    record = _read(out / "one.json")
    assert record["given_element"] == element and record["fit"]["element"] == element
    assert {row["element"] for row in record["fits"]} == {element}

    assert _run(path, "--out", out, "--model", model_dir, "--element", "Xx") == cli.EXIT_NO_MODEL
    assert "--element: element 'Xx' is not in the physics fit's library" in capsys.readouterr().err


def test_files_that_state_their_element_are_fitted_with_it_in_one_command(
    model_dir, small_library, tmp_path, capsys
):
    meta = small_library.metadata
    gold, iron = (int(np.flatnonzero(meta["element"] == e)[0]) for e in ("Au", "Fe"))
    made = {}
    for name, k, comment in [("au", gold, "# element: Au"), ("fe", iron, "# element = Fe")]:
        q, intensity, sigma = _curve(small_library, k)
        made[name] = _ascii(tmp_path / f"{name}.dat", q, intensity, sigma, f"{comment}\nq (1/A) I")
    q, intensity, sigma = _curve(small_library, gold)
    unknown = _ascii(tmp_path / "zn.dat", q, intensity, sigma, "# element: Zn\nq (1/A) I")
    h5 = _nxcansas(tmp_path / "h5.h5", q, intensity, sigma)
    with h5py.File(h5, "a") as f:
        sample = f["sasentry01"].create_group("sassample")
        sample.attrs.update(NX_class="NXsample", canSAS_class="SASsample")
        sample["chemical_formula"] = "Fe"
    out = tmp_path / "out"
    code = _run(made["au"], made["fe"], unknown, h5, "--out", out, "--model", model_dir, "--quiet")
    assert code == cli.EXIT_FAILED
    err = capsys.readouterr().err
    for name, element, source in [
        ("au", "Au", "file"),
        ("fe", "Fe", "file"),
        ("h5", "Fe", "file"),
    ]:
        record = _read(out / f"{name}.json")
        assert record["given_element"] == element and record["element_from"] == source
        assert {row["element"] for row in record["fits"]} == {element}
    assert f"{unknown}: FAILED: the file states the element 'Zn' (line 1: element: Zn)" in err
    assert "Correct or remove that statement in the file." in err
    assert not (out / "zn.json").exists()

    # --element agrees with a file that states the same one, and refuses one that states another
    code = _run(made["au"], made["fe"], "--out", out, "--model", model_dir, "--element", "Au")
    assert code == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert _read(out / "au.json")["element_from"] == "--element"
    refused = f"{made['fe']}: FAILED: the file states the element 'Fe' (line 1: element = Fe) but "
    assert refused + "element='Au' was passed" in err
    assert "on this command line element= is --element" in err
    # a file that states none: every element, as before
    plain = _ascii(tmp_path / "plain.dat", q, intensity, sigma, "q (1/A) I")
    assert _run(plain, "--out", out, "--model", model_dir, "--quiet") == cli.EXIT_OK
    record = _read(out / "plain.json")
    assert record["given_element"] is None and record["element_from"] is None
    assert {row["element"] for row in record["fits"]} == {"Au", "Fe"}


def test_a_missing_or_stale_model_names_make_model(model_dir, small_library, tmp_path, capsys):
    q, intensity, sigma = _curve(small_library)
    good = _ascii(tmp_path / "good.dat", q, intensity, sigma)
    assert _run(good, "--model", tmp_path / "nothing", "--out", tmp_path) == cli.EXIT_NO_MODEL
    err = capsys.readouterr().err
    assert "make model" in err and "Traceback" not in err

    stale = shutil.copytree(model_dir, tmp_path / "stale")
    record = json.loads((stale / "characteriser.json").read_text())
    record["library"] = "another fingerprint"
    (stale / "characteriser.json").write_text(json.dumps(record))
    assert _run(good, "--model", stale, "--out", tmp_path) == cli.EXIT_NO_MODEL
    err = capsys.readouterr().err
    assert "another version of the library" in err and "make model" in err
    assert not (tmp_path / "good.json").exists()


def test_the_table_shows_no_shape_set_where_no_shape_is_claimed():
    record = {
        "probabilities": {"cubefcc": 0.9, "icosahedron": 0.1},
        "shape_set": ["cubefcc"],
        "radius_A": 10.0,
        "radius_A_low": 9.0,
        "radius_A_high": 11.0,
        "fit": {"chi2_red": 1.2},
        "warnings": ["shape not determinable"],
    }
    table = cli.result_table(
        [
            ("a.dat", {**record, "shape": "cubefcc"}),
            ("b.dat", {**record, "shape": NOT_DETERMINABLE}),
        ]
    ).splitlines()
    assert table[1].split()[:4] == ["a.dat", "cubefcc", "0.90", "1"]  # 1 label
    assert table[2].split()[:5] == ["b.dat", "not", "determinable", "-", "-"]


def test_inputs_that_share_a_stem_get_their_full_names():
    names = cli.output_names(["a/x.dat", "b/x.h5", "c/x.dat", "y.csv"])
    assert [n for n, _ in names] == ["x.dat", "x.h5", None, "y"]
    assert "would overwrite those of a/x.dat" in names[2][1]


def test_help_through_python_m_and_the_console_script(capsys):
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "characterise", "--help"],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for option in ("--q-unit", "--out", "--model", "--entry", "--quiet", "make model"):
        assert option in done.stdout
    scripts = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, function = scripts[cli.SCRIPT].split(":")
    assert module == "helpers.cli" and getattr(cli, function) is cli.characterise_main
    with pytest.raises(SystemExit) as stop:
        cli.characterise_main(["--help"])
    assert stop.value.code == 0 and capsys.readouterr().out.startswith(f"usage: {cli.SCRIPT}")


def test_blind_files_round_trip_through_the_command_line_and_are_scored(
    model_dir, small_library, tmp_path, capsys
):
    from helpers.characterisation import read_answers, score_answers, write_blind_files

    lib = small_library
    conditions = {
        "ideal": instrument.Measurement(),
        "window": instrument.Measurement(q_min=0.05, q_max=4.5, photons=1e7),
    }
    folder = tmp_path / "blind"
    truth = write_blind_files(lib, range(len(lib)), folder, conditions, n_files=5, seed=3)
    assert list(truth["condition"]) == ["ideal", "window", "ideal", "window", "ideal"]
    again = write_blind_files(lib, range(len(lib)), folder, conditions, n_files=5, seed=3)
    pd.testing.assert_frame_equal(truth, again)  # seeded, and its own folder may be rewritten
    text = (folder / truth["file"][0]).read_text()
    assert truth["shape"][0] not in text and truth["element"][0] not in text  # blind
    files_ = sorted(folder.glob("blind_*.dat"))
    out = tmp_path / "answers"
    assert _run(*files_, "--out", out, "--model", model_dir, "--quiet") == cli.EXIT_OK
    answers = read_answers(out)
    summary, per_file = score_answers(truth, answers)
    assert list(summary.index) == ["ideal", "window", "all files"]
    # monodisperse conditions: the size distribution is the particle's own size
    assert truth["centre_radius_A"].equals(truth["eq_radius"]) and truth["sizes"].eq(1).all()
    assert per_file["centre_covered"].equals(per_file["covered"])
    assert summary.loc["all files", "files"] == 5 and summary["answered"].eq(1.0).all()
    right = per_file["shape_right"].mean()
    assert summary.loc["all files", "shape_right"] == pytest.approx(right)
    model_right = (per_file["model_shape"] == per_file["shape"]).mean()
    assert summary.loc["all files", "model_shape_right"] == pytest.approx(model_right)
    # the shape sets: read from the JSON, scored against the true shapes
    covers = [s in labels for s, labels in zip(per_file["shape"], per_file["shape_set"])]
    assert summary.loc["all files", "set_covers"] == pytest.approx(np.mean(covers))
    sizes = per_file["shape_set"].map(len)
    assert summary.loc["all files", "set_size"] == pytest.approx(sizes.mean())
    assert summary.loc["all files", "single_label"] == pytest.approx((sizes == 1).mean())
    if (sizes == 1).any():
        one = per_file[sizes == 1]
        expected = (one["shape_set"].str[0] == one["shape"]).mean()
        assert summary.loc["all files", "single_right"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="did not write"):
        write_blind_files(lib, range(len(lib)), out, conditions, n_files=2)
    # the same curves, stating their element: fitted with it, the files otherwise the same
    stated = tmp_path / "stated"
    truth_e = write_blind_files(lib, range(len(lib)), stated, conditions, 5, 3, state_element=True)
    pd.testing.assert_frame_equal(truth, truth_e)
    for name, element in zip(truth["file"], truth["element"]):
        lines = (stated / name).read_text().splitlines()
        assert lines.pop(1) == f"# element: {element}"
        assert lines == (folder / name).read_text().splitlines()
    out_e = tmp_path / "answers_e"
    files_e = sorted(stated.glob("blind_*.dat"))
    assert _run(*files_e, "--out", out_e, "--model", model_dir, "--quiet") == cli.EXIT_OK
    answers_e = read_answers(out_e).set_index("file").loc[list(truth["file"])]
    assert list(answers_e["given_element"]) == list(truth["element"])
    assert answers_e["element_from"].eq("file").all()
    assert answers["given_element"].isna().all() and answers["element_from"].isna().all()
