"""The library: grid, contents, reproducibility, manifest checks and regeneration."""

import json

import ase
import numpy as np
import pytest

from helpers import paths
from helpers.simulation import debye as X
from helpers.simulation import library as D
from helpers.simulation import structures as S

SMALL = dict(
    shapes=["icosahedron", "rhombic_dodecahedron"],
    sizes=[2, 3],
    elements=["Au", "Fe"],
    b_iso=[0.1, 0.9],
)


def test_q_grid_is_the_study_grid_in_exact_decimals():
    assert D.Q_GRID.size == 1999 and D.Q_GRID[0] == 0.01 and D.Q_GRID[-1] == 19.99
    assert all(q == float(f"{k / 100:.2f}") for k, q in enumerate(D.Q_GRID, start=1))


def test_full_workload_size():
    assert len(S.structure_grid()) == 8 * 9 + 6
    params, _, _ = D._normalise_params()
    assert params["n_structures"] * 17 * 4 == 5304


@pytest.fixture(scope="module")
def grid_library(tmp_path_factory):
    """Two shapes on the study's full q grid (the shared small library of conftest has a short
    one)."""
    return D.build_library(tmp_path_factory.mktemp("lib") / "small", progress=False, **SMALL)


def test_curves_equal_direct_debye_sums(grid_library):
    """End to end: the Rnn-scaled pair sums give the same curve as a direct build of each
    element."""
    meta = grid_library.metadata
    assert grid_library.intensities.shape == (2 * 2 * 2 * 2, 1999) and len(meta) == 16
    for k in (0, 5, 10, 15):
        row = meta.iloc[k]
        atoms = S.build(row["shape"], int(row["size_parameter_1"]), row["element"])
        direct = X.debye_intensity(atoms, grid_library.q, row["b_iso"])
        np.testing.assert_allclose(grid_library.intensities[k], direct, rtol=1e-7)


def test_metadata_columns_and_definitions(grid_library):
    meta = grid_library.metadata
    for col in [
        "shape",
        "element",
        "rnn",
        "b_iso",
        "size_parameter_1",
        "size_parameter_2",
        "size_parameter_3",
        "n_atoms",
        "log_n_atoms",
        "eq_radius",
        "sqrt_log_eq_radius",
        "radius_of_gyration",
        "circumscribed_radius",
        "structure_id",
    ]:
        assert col in meta.columns, col
    np.testing.assert_allclose(meta["log_n_atoms"], np.log(meta["n_atoms"]))
    np.testing.assert_allclose(meta["sqrt_log_eq_radius"], np.sqrt(np.log(meta["eq_radius"])))
    np.testing.assert_allclose(meta["eq_radius"], np.sqrt(5 / 3) * meta["radius_of_gyration"])
    assert (meta.groupby("structure_id")["n_atoms"].nunique() == 1).all()


def test_manifest_records_parameters_versions_and_checksums(grid_library):
    manifest = json.loads((grid_library.path / "manifest.json").read_text())
    assert manifest["params"]["elements"] == ["Au", "Fe"] and manifest["n_curves"] == 16
    assert (
        manifest["versions"]["pyNanoMatBuilder"]
        and len(manifest["sha256"]["intensities.npy"]) == 64
    )
    # the cost of every structure's job, for costing larger libraries
    seconds = manifest["structure_seconds"]
    assert set(seconds) == set(grid_library.metadata["structure_id"])
    assert all(t > 0 for t in seconds.values()) and manifest["wall_seconds"] >= 0


def test_same_parameters_same_numbers_serial_or_parallel(grid_library):
    _, again, meta, _ = D.generate(n_jobs=1, progress=False, **SMALL)
    assert np.array_equal(again, grid_library.intensities)
    assert meta.equals(grid_library.metadata)


def test_read_refuses_other_parameters(grid_library):
    with pytest.raises(D.LibraryError, match=r"other parameters \(b_iso.*load_library"):
        D.read_library(grid_library.path, **{**SMALL, "b_iso": [0.3]})


def test_damaged_file_is_refused_not_overwritten(tmp_path):
    lib = D.build_library(tmp_path / "lib", progress=False, **{**SMALL, "shapes": ["tetrahedron"]})
    data = np.load(lib.path / "intensities.npy")
    data[0, 0] *= 1.01
    np.save(lib.path / "intensities.npy", data)
    with pytest.raises(D.LibraryError, match="checksum.*delete the folder"):
        D.read_library(lib.path, **{**SMALL, "shapes": ["tetrahedron"]})


def test_foreign_folder_is_not_overwritten(tmp_path):
    (tmp_path / "notes.txt").write_text("somebody's data")
    with pytest.raises(D.LibraryError, match="did not write"):
        D.build_library(tmp_path, progress=False, **SMALL)
    assert (tmp_path / "notes.txt").read_text() == "somebody's data"


def test_load_generates_then_reuses_then_regenerates_on_mismatch(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(paths, "LIBRARY_DIR", tmp_path)
    params = {**SMALL, "shapes": ["octahedron"]}
    first = D.load_library("t", progress=False, **params)
    assert "generating it now" in capsys.readouterr().out
    second = D.load_library("t", progress=False, **params)
    assert capsys.readouterr().out == "" and np.array_equal(first.intensities, second.intensities)
    third = D.load_library("t", progress=False, **{**params, "elements": ["Au"]})
    assert (
        "other parameters (elements" in capsys.readouterr().out and len(third) == len(first) // 2
    )


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"shapes": ["sphere"]}, ValueError, "unknown shape"),
        ({"elements": ["Xx"]}, ValueError, "unknown element"),
        ({"b_iso": [-1.0]}, ValueError, "b_iso must be"),
        ({"sizes": [42]}, ValueError, "no structure left"),
        ({"q": [0.0, 1.0]}, ValueError, "q must be > 0"),
    ],
)
def test_bad_generation_parameters_are_named(tmp_path, params, error, match):
    with pytest.raises(error, match=match):
        D.build_library(tmp_path / "x", progress=False, **params)


def test_named_preset_fills_unset_parameters(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "LIBRARY_DIR", tmp_path)
    monkeypatch.setitem(
        D.PRESETS,
        "tiny",
        {"shapes": ["tetrahedron"], "sizes": [2, 3], "elements": ["Au"], "b_iso": [0.5]},
    )
    lib = D.load_library("tiny", progress=False, verbose=False)
    assert len(lib) == 2 and set(lib.metadata["b_iso"]) == {0.5}
    assert len(D.load_library("tiny", elements=["Au", "Fe"], progress=False, verbose=False)) == 4


def test_interrupted_rebuild_leaves_the_old_library_whole(tmp_path, monkeypatch):
    """A generation that dies while writing never leaves a half-written library behind a valid
    manifest: the new files go to a sibling folder that is moved into place only at the end."""
    small = {**SMALL, "shapes": ["tetrahedron"]}
    D.build_library(tmp_path / "lib", progress=False, **small)
    before = (tmp_path / "lib" / "intensities.npy").read_bytes()

    def dies(*args, **kwargs):
        raise KeyboardInterrupt("interrupted while writing")

    monkeypatch.setattr(D.pd.DataFrame, "to_csv", dies)
    with pytest.raises(KeyboardInterrupt):
        D.build_library(tmp_path / "lib", progress=False, **{**small, "b_iso": [0.3]})
    monkeypatch.undo()
    assert (tmp_path / "lib" / "intensities.npy").read_bytes() == before
    assert D.read_library(tmp_path / "lib", **small).intensities.shape[0] == 2 * 2 * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib"]  # no staging folder left


@pytest.fixture(scope="module")
def dask_cluster():
    """A local Dask cluster of 2 worker processes, one thread each."""
    import logging

    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster


def test_generation_on_a_dask_cluster_gives_the_same_bytes(grid_library, dask_cluster):
    from distributed import Client

    with Client(dask_cluster) as client:
        _, on_dask, meta, params = D.generate(progress=False, client=client, **SMALL)
        assert len(client.scheduler_info()["workers"]) == 2
    assert on_dask.tobytes() == grid_library.intensities.tobytes()
    assert meta.equals(grid_library.metadata)
    # a scheduler address: the client is opened and closed by generate itself
    _, by_address, _, _ = D.generate(
        progress=False, client=dask_cluster.scheduler_address, **SMALL
    )
    assert by_address.tobytes() == grid_library.intensities.tobytes()


def test_a_client_that_is_not_one_is_named():
    with pytest.raises(TypeError, match="distributed.Client or a scheduler address"):
        D.generate(progress=False, client=2, **SMALL)


def test_sizes_per_shape_go_past_the_study_on_the_fast_route(tmp_path):
    """A dict of sizes per shape: sizes beyond the study's, the corrected builds, the exact fast
    route from debye.FAST_ROUTE_MIN_ATOMS atoms on, and a manifest that reads back."""
    from ase import Atoms

    sizes = {"cubefcc": [17], "rhombic_dodecahedron": [2, 7]}
    params = dict(shapes=list(sizes), sizes=sizes, elements=["Au"], b_iso=[0.3], q=D.Q_GRID[::40])
    lib = D.build_library(tmp_path / "big", progress=False, **params)
    meta = lib.metadata
    assert list(meta["size_parameter_1"]) == [17, 2, 7]
    cube = S.unit_positions("cubefcc", 17, study_range=False)
    assert len(cube) >= X.FAST_ROUTE_MIN_ATOMS and meta["n_atoms"].iloc[0] == len(cube)
    # nShell 7: the lattice construction (1695 atoms), not the builder's misplaced 1731
    assert meta["n_atoms"].iloc[2] == len(S.bcc_rhombic_dodecahedron(7)) == 1695
    rnn = S.rnn("Au")
    direct = X.debye_intensity(
        Atoms(f"Au{len(cube)}", positions=cube * rnn), lib.q, 0.3, route="binned"
    )
    np.testing.assert_allclose(lib.intensities[0], direct, rtol=1e-6)
    assert D.read_library(lib.path, **params).manifest["params"]["sizes"] == {
        "cubefcc": [17],
        "rhombic_dodecahedron": [2, 7],
    }
    with pytest.raises(ValueError, match="has none for 'tetrahedron'"):
        D.generate(**{**params, "shapes": ["tetrahedron"]}, progress=False)


def test_sizes_preset_reaches_15_nm_in_every_shape():
    sizes = D.preset("sizes")["sizes"]
    assert set(sizes) == set(S.SHAPES)
    for shape, chosen in sizes.items():
        assert chosen[0] == S.SHAPE_SPECS[shape].sizes[0]
        assert chosen[-1] > 20, shape


def test_subset_keeps_the_rows_and_gets_its_own_fingerprint(grid_library):
    from helpers.learning import model_set

    rows = np.array([3, 0, 5])
    part = grid_library.subset(rows)
    assert np.array_equal(part.intensities, grid_library.intensities[rows])
    assert list(part.metadata.index) == [0, 1, 2]
    assert part.metadata["structure_id"].tolist() == (
        grid_library.metadata["structure_id"].iloc[rows].tolist()
    )
    assert model_set.library_id(part) != model_set.library_id(grid_library)
    assert model_set.library_id(grid_library.subset(rows)) == model_set.library_id(part)
    for bad in ([], [len(grid_library)], [0.5]):
        with pytest.raises(ValueError, match="rows must"):
            grid_library.subset(bad)


def test_bipyramid_variants_are_other_elongations_of_the_same_lattice(bipyramid_library):
    from helpers.learning import model_set

    lib = bipyramid_library
    variants = D.bipyramid_variants(lib, [(4, 1), (5, 5)])
    meta = variants.metadata
    assert list(meta.columns) == list(lib.metadata.columns) and len(meta) == 2 * 2 * 1
    assert np.array_equal(variants.q, lib.q)
    assert meta["structure_id"].unique().tolist() == [
        "pentagonal_bipyramid-4-e1",
        "pentagonal_bipyramid-5-e5",
    ]
    assert meta["size_parameter_2"].tolist() == [1, 1, 5, 5]
    assert (meta["size_parameter_3"] == 2).all()  # the library's Marks truncation
    # the closed-form atom count of structures.pentagonal_bipyramid for (s, e, M) = (4, 1, 2) and
    # (5, 5, 2); the library's own sizeE 3 gives 173 and 324
    assert meta["n_atoms"].tolist() == [111, 111, 436, 436]
    for k in (0, 3):
        row = meta.iloc[k]
        positions = S.pentagonal_bipyramid(
            int(row["size_parameter_1"]), int(row["size_parameter_2"])
        )
        atoms = ase.Atoms(row["element"] * len(positions), positions=positions * row["rnn"])
        direct = X.debye_intensity(atoms, lib.q, row["b_iso"])
        np.testing.assert_allclose(variants.intensities[k], direct, rtol=1e-7)
    both = D.joined(lib, variants)
    assert len(both) == len(lib) + len(variants)
    np.testing.assert_array_equal(both.intensities[len(lib) :], variants.intensities)
    assert both.metadata["structure_id"].iloc[len(lib) :].tolist() == meta["structure_id"].tolist()
    assert model_set.library_id(both) != model_set.library_id(lib)
    with pytest.raises(ValueError, match="in both libraries"):
        D.joined(lib, lib)
    with pytest.raises(ValueError, match="q grid"):
        D.joined(
            lib,
            lib.subset(np.arange(2)).__class__(
                lib.q[:-1], variants.intensities[:, :-1], meta, variants.manifest, lib.path
            ),
        )


@pytest.mark.parametrize(
    "builds, match",
    [
        ([(4, 3)], "library's own sizeE"),
        ([(4, 1), (4, 1)], "repeat"),
        ([(4,)], "pair of integers"),
        ([(4.0, 1)], "pair of integers"),
        ([], "at least one"),
    ],
)
def test_bad_bipyramid_variants_are_named(bipyramid_library, builds, match):
    with pytest.raises(ValueError, match=match):
        D.bipyramid_variants(bipyramid_library, builds)


def test_variants_need_a_bipyramid_in_the_library(grid_library):
    with pytest.raises(ValueError, match="holds no pentagonal_bipyramid"):
        D.bipyramid_variants(grid_library, [(4, 1)])
