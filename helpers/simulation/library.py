"""The study's library of simulated SAXS+WAXS curves: generated, stored with a manifest, loaded.

Format of a library folder (``data/library/<name>/``):

- ``q.npy``: the q grid in 1/Å, float64, shape (n_q,);
- ``intensities.npy``: I(q) in electrons^2 (full Debye sum, absolute), float64,
  shape (n_curves, n_q), row k described by row k of the metadata;
- ``metadata.csv``: one row per curve (shape, element, rnn, b_iso, builder size parameters,
  n_atoms, log_n_atoms, radius_of_gyration, eq_radius, sqrt_log_eq_radius, circumscribed_radius,
  structure_id); lengths in Å;
- ``manifest.json``: the generation parameters, engine settings, package versions and the SHA-256
  of the three data files.

Generation uses the fact that a structure's geometry scales with Rnn: the pair sum
S(s) = sum_{i<j} sinc(s d_ij) of each (shape, size) is computed once in units of Rnn, at the
targets s = q * Rnn of all requested elements, and each curve is then
I(q) = f0(q)^2 (N + 2 exp(-q^2 B/(8 pi^2)) S(q Rnn)).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from . import debye, pairs, structures

#: The study's q grid: 0.01, 0.02, ..., 19.99 1/Å (1999 points; q_k = k/100 to the nearest double).
Q_GRID: np.ndarray = np.arange(1, 2000) / 100.0
Q_GRID.setflags(write=False)
#: The study's isotropic Debye-Waller factors B in Å^2.
B_ISO: tuple[float, ...] = (0.1, 0.3, 0.5, 0.9)
FORMAT_VERSION = 1
#: The ``sizes`` library reaches at least this equivalent diameter 2 R_eq (nm) in every shape it
#: can build and for every element (sizes chosen at the smallest Rnn of the element table).
SIZES_MAX_NM = 15.0


def _sizes_preset() -> dict:
    """{shape: every builder size from the study's smallest to SIZES_MAX_NM}."""
    rnn_min = float(structures.element_table()["rnn_angstrom"].min())
    return {
        shape: structures.sizes_up_to(shape, SIZES_MAX_NM, rnn_min) for shape in structures.SHAPES
    }


#: Named libraries: parameters that load_library(name) uses for any it is not given (a callable is
#: called for its value). "smoke" is the small library of the fast test run (every shape keeps two
#: sizes, as a grouped split needs). "sizes" is the study's 9 shapes, 17 elements and 4 B_iso at
#: every size from the study's smallest up to at least SIZES_MAX_NM nm of equivalent diameter
#: (:func:`helpers.simulation.structures.sizes_up_to`; where pyNanoMatBuilder stops building a
#: shape correctly, ``structures.BUILDER_OFF_LATTICE_FROM``, the rhombic dodecahedron and the
#: pentagonal bipyramid are built by ``structures`` itself, the same sites below those sizes).
PRESETS: dict[str, dict] = {
    "study": {},
    "smoke": {"sizes": [2, 3, 4, 5], "elements": ["Au", "Co", "Fe"], "b_iso": [0.1, 0.9]},
    "sizes": {"sizes": _sizes_preset},
}


def preset(name: str) -> dict:
    """The parameters of the named library ``name`` (callables resolved); {} for a name that is
    not a preset (the study's parameters)."""
    return {k: v() if callable(v) else v for k, v in PRESETS.get(name, {}).items()}


_FILES = ("q.npy", "intensities.npy", "metadata.csv")
METADATA_COLUMNS = [
    "shape",
    "shape_index",
    "element",
    "rnn",
    "b_iso",
    "size_argument",
    "size_parameter_1",
    "size_parameter_2",
    "size_parameter_3",
    "n_atoms",
    "log_n_atoms",
    "radius_of_gyration",
    "eq_radius",
    "sqrt_log_eq_radius",
    "circumscribed_radius",
    "structure_id",
]
_VERSIONED_PACKAGES = ("numpy", "scipy", "finufft", "periodictable", "ase", "pyNanoMatBuilder")


class LibraryError(RuntimeError):
    """A library on disk is missing, damaged, or not the one that was asked for."""


@dataclass
class Library:
    q: np.ndarray
    intensities: np.ndarray
    metadata: pd.DataFrame
    manifest: dict
    path: Path

    def __len__(self) -> int:
        return len(self.metadata)

    def subset(self, rows) -> Library:
        """The library of the rows ``rows`` only (positions, in the order given; metadata
        re-indexed from 0). Its manifest's fingerprint names the rows, so that a model cached
        for the whole library is never taken for one of a subset."""
        rows = np.asarray(rows)
        if rows.ndim != 1 or rows.size == 0 or not np.issubdtype(rows.dtype, np.integer):
            raise ValueError("rows must be a non-empty 1-D array of integer row positions.")
        if rows.min() < 0 or rows.max() >= len(self):
            raise ValueError(f"rows must lie in 0..{len(self) - 1}.")
        digest = hashlib.sha256(np.ascontiguousarray(rows, dtype=np.int64).tobytes()).hexdigest()
        manifest = {**self.manifest, "sha256": {**self.manifest["sha256"], "rows": digest}}
        return Library(
            self.q,
            self.intensities[rows],
            self.metadata.iloc[rows].reset_index(drop=True),
            manifest,
            self.path,
        )


def _normalise_params(shapes=None, sizes=None, elements=None, b_iso=None, q=None) -> dict:
    shapes = list(structures.SHAPES if shapes is None else shapes)
    elements = list(structures.ELEMENTS if elements is None else elements)
    b_iso = [float(b) for b in (B_ISO if b_iso is None else b_iso)]
    q = debye.check_q(Q_GRID if q is None else q)
    for el in elements:
        structures.check_element(el)
    for b in b_iso:
        debye.check_b_iso(b)
    for name, values in (("shapes", shapes), ("elements", elements), ("b_iso", b_iso)):
        if len(set(values)) != len(values) or not values:
            raise ValueError(f"{name} must be a non-empty list without repeats, got {values}.")
    grid = structures.structure_grid(shapes, sizes)  # validates shapes and sizes
    if isinstance(sizes, dict):
        sizes = {shape: sorted(int(s) for s in sizes[shape]) for shape in shapes}
    elif sizes is not None:
        sizes = sorted(int(s) for s in sizes)
    return (
        {
            "shapes": shapes,
            "sizes": sizes,
            "elements": elements,
            "b_iso": b_iso,
            "q_n": int(q.size),
            "q_min": float(q[0]),
            "q_max": float(q[-1]),
            "q_sha256": hashlib.sha256(np.ascontiguousarray(q).tobytes()).hexdigest(),
            "n_structures": len(grid),
            "engine": {
                "bin_phase": debye.BIN_PHASE,
                "nufft_eps": debye.NUFFT_EPS,
                "format": FORMAT_VERSION,
                # the exact routes of large particles (helpers.simulation.pairs)
                "fast_route_min_atoms": debye.FAST_ROUTE_MIN_ATOMS,
                "moment_bin_phase": pairs.MOMENT_BIN_PHASE,
                "moment_order": pairs.MOMENT_ORDER,
            },
        },
        q,
        grid,
    )


def _structure_job(
    shape: str, size: int, s_targets: np.ndarray, positions=None, study_range: bool = True
):
    """Worker: pair sum of one (shape, size) in units of Rnn at all targets, and its
    descriptors. Below ``debye.FAST_ROUTE_MIN_ATOMS`` atoms (every structure of the study) the
    binned pass; from there on the fastest exact route of :mod:`helpers.simulation.pairs`.
    Returns (shape, size, descriptors, pair sums, seconds this job took)."""
    start = time.perf_counter()
    if positions is None:
        positions = structures.unit_positions(shape, size, study_range)
    if len(positions) < debye.FAST_ROUTE_MIN_ATOMS:
        s_sum = debye.positions_sinc_sum(positions, s_targets)
    else:
        dist = pairs.pair_distribution(positions, None, float(np.max(s_targets)))
        s_sum = pairs.sinc_sum(dist, s_targets, eps=debye.NUFFT_EPS)
    seconds = time.perf_counter() - start
    return shape, size, structures.describe_positions(positions), s_sum, seconds


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for pkg in _VERSIONED_PACKAGES:
        try:
            out[pkg] = importlib_metadata.version(pkg)
        except importlib_metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _on_dask(client, order, s_targets, given, study_range):
    """The structure jobs on a Dask cluster (a ``distributed.Client`` or a scheduler address):
    the targets are sent to every worker once; results arrive as they finish."""
    try:
        from distributed import Client, as_completed
    except ImportError as error:  # pragma: no cover - distributed is in requirements.txt
        raise ImportError(
            "generating on a Dask cluster needs the 'distributed' package: pip install distributed"
        ) from error
    own = not isinstance(client, Client)
    if own and not isinstance(client, str):
        raise TypeError(
            "client must be a distributed.Client or a scheduler address such as "
            f"'tcp://scheduler:8786', got {type(client).__name__}."
        )
    client = Client(client) if own else client
    try:
        shared = client.scatter(s_targets, broadcast=True)
        futures = [
            client.submit(
                _structure_job,
                shape,
                size,
                shared,
                given.get((shape, size)),
                study_range,
                pure=False,
            )
            for shape, size in order
        ]
        for future in as_completed(futures):
            yield future.result()
            future.release()
    finally:
        if own:
            client.close()


def generate(
    shapes=None,
    sizes=None,
    elements=None,
    b_iso=None,
    q=None,
    n_jobs=None,
    progress=True,
    unit_positions=None,
    client=None,
    timings: dict | None = None,
):
    """Simulate the curves in memory: returns (q, intensities, metadata, params).

    ``unit_positions``: optional {(shape, size): positions in units of Rnn} of structures already
    built (by :func:`helpers.structures.unit_positions`); the others are built here.
    ``client``: run the structures on a Dask cluster instead of local processes: a
    ``distributed.Client`` (e.g. of a ``LocalCluster``) or the address of a running scheduler
    (``"tcp://host:8786"``). Each structure is one task; the curves are assembled here in the
    same order, so the result is the same bytes as a local run (the pair passes do not depend on
    the number of threads). ``timings``, if given, receives {structure_id: seconds} of each
    structure's job (building it and its pair sums), the cost model of a larger library.
    """
    from joblib import Parallel, delayed
    from tqdm import tqdm

    params, q, grid = _normalise_params(shapes, sizes, elements, b_iso, q)
    rnn = np.array([structures.rnn(el) for el in params["elements"]])
    s_targets = (rnn[:, None] * q[None, :]).ravel()
    n_jobs = n_jobs or min(2, os.cpu_count() or 1)
    # biggest structures first so that the workers finish together
    order = sorted(grid, key=lambda g: (g[0] != "dodecahedron", -g[1]))
    given = unit_positions or {}
    study_range = not isinstance(params["sizes"], dict)
    if client is not None:
        results_iter = _on_dask(client, order, s_targets, given, study_range)
    else:
        jobs = (
            delayed(_structure_job)(shape, size, s_targets, given.get((shape, size)), study_range)
            for shape, size in order
        )
        runner = Parallel(n_jobs=n_jobs, return_as="generator_unordered") if n_jobs > 1 else None
        results_iter = runner(jobs) if runner else (job[0](*job[1], **job[2]) for job in jobs)
    done = {}
    for shape, size, desc, s_sum, seconds in tqdm(
        results_iter,
        total=len(grid),
        desc="structures",
        disable=not progress,
        file=sys.stderr,
        mininterval=1.0,
    ):
        done[(shape, size)] = (desc, s_sum.reshape(len(rnn), q.size))
        if timings is not None:
            timings[f"{shape}-{size}"] = round(seconds, 3)

    f0 = {el: debye.form_factor(el, q) for el in params["elements"]}
    rows, curves = [], []
    for shape, size in grid:
        desc, s_sum = done[(shape, size)]
        _add_curves(rows, curves, shape, size, desc, s_sum, params, f0, q, study_range)
    return q, np.vstack(curves), pd.DataFrame(rows, columns=METADATA_COLUMNS), params


def _add_curves(rows, curves, shape, size, desc, s_sum, params, f0, q, study_range, **fields):
    """Append the metadata rows and curves of one structure (pair sums ``s_sum`` per element of
    ``params``) in every element and B_iso; ``fields`` overwrite row fields (after
    structure_id ``<shape>-<size>``)."""
    for e_i, el in enumerate(params["elements"]):
        base = structures.structure_row(shape, size, el, desc, study_range)
        base["log_n_atoms"] = float(np.log(desc["n_atoms"]))
        base["sqrt_log_eq_radius"] = float(np.sqrt(np.log(base["eq_radius"])))
        base["structure_id"] = f"{shape}-{size}"
        base.update(fields)
        for b in params["b_iso"]:
            curves.append(debye.intensity_from_sinc_sum(desc["n_atoms"], f0[el], s_sum[e_i], q, b))
            rows.append({**base, "b_iso": b})


def build_library(
    path,
    shapes=None,
    sizes=None,
    elements=None,
    b_iso=None,
    q=None,
    n_jobs=None,
    progress=True,
    client=None,
) -> Library:
    """Generate a library and write it to the folder ``path``; returns it. ``client``: generate
    on a Dask cluster (:func:`generate`).

    Refuses to write into a folder that holds files but no manifest of ours (data it did not make).
    """
    path = Path(path)
    if path.exists() and any(path.iterdir()) and not (path / "manifest.json").exists():
        raise LibraryError(
            f"{path} already holds files that this code did not write (no manifest.json): "
            "choose an empty or new folder; nothing was overwritten."
        )
    timings = {}
    start = time.perf_counter()
    q, intensities, meta, params = generate(
        shapes, sizes, elements, b_iso, q, n_jobs, progress, client=client, timings=timings
    )
    wall = time.perf_counter() - start
    path.parent.mkdir(parents=True, exist_ok=True)
    # written beside the old library and moved into place at the end, so that an interrupted or
    # concurrent generation never leaves a half-written library behind a valid manifest
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.new-", dir=path.parent))
    try:
        np.save(staging / "q.npy", q)
        np.save(staging / "intensities.npy", intensities)
        meta.to_csv(staging / "metadata.csv", index=False)
        manifest = {
            "description": "Simulated SAXS+WAXS curves of metal nanoparticles "
            "(full Debye sum, absolute intensities).",
            "params": params,
            "n_curves": int(len(meta)),
            "versions": _versions(),
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            # not part of the data: how long this generation took, in all and per structure
            "wall_seconds": round(wall, 1),
            "structure_seconds": timings,
            "sha256": {name: _sha256(staging / name) for name in _FILES},
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
        _replace_folder(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Library(q, intensities, meta, manifest, path)


#: the one shape whose builder parameters other than its size the library fixes (sizeE, Marks)
_BIPYRAMID = "pentagonal_bipyramid"


def bipyramid_variants(lib: Library, builds) -> Library:
    """Curves of pentagonal bipyramids the library does not hold, for training only: every
    (sizeP, sizeE) of ``builds`` built with the library's Marks truncation
    (:func:`helpers.simulation.structures.pentagonal_bipyramid`, on the lattice), for each of the
    library's elements and B_iso, on its q grid, with the library's metadata columns
    (size_parameter_2 the sizeE; structure_id ``pentagonal_bipyramid-<sizeP>-e<sizeE>``).

    Why. The library varies one builder parameter per shape. For the bipyramid the elongation
    sizeE and the Marks truncation are fixed, so its aspect ratio runs with its size, from
    prolate (173 atoms) through round (520) to oblate (from 767 atoms on): no two of its sizes
    have the same outer form, and at small angles the round one looks like the icosahedron of
    its size. A decahedral particle's elongation is not tied to its size. Bipyramids of other
    sizeE give a model trained on them round, prolate and oblate decahedra at several sizes. A
    ``builds`` entry with the library's own sizeE would repeat a library structure: refused.
    """
    if lib.metadata.empty or _BIPYRAMID not in set(lib.metadata["shape"]):
        raise ValueError(f"the library holds no {_BIPYRAMID}: its variants have nothing to vary.")
    own = dict(structures.SHAPE_SPECS[_BIPYRAMID].fixed)
    pairs_given = [tuple(b) for b in builds]
    if not pairs_given:
        raise ValueError("builds must list at least one (sizeP, sizeE) pair.")
    for pair in pairs_given:
        if len(pair) != 2 or any(
            isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in pair
        ):
            raise ValueError(
                f"each build must be a pair of integers (sizeP, sizeE), got {pair!r}."
            )
        if pair[1] == own["sizeE"]:
            raise ValueError(
                f"build {pair} has the library's own sizeE {own['sizeE']}: that is a library "
                "structure, not a variant; choose another sizeE."
            )
    if len(set(pairs_given)) != len(pairs_given):
        raise ValueError(f"builds must not repeat a (sizeP, sizeE) pair, got {pairs_given}.")
    params = lib.manifest["params"]
    elements, q = params["elements"], lib.q
    rnn = np.array([structures.rnn(el) for el in elements])
    s_targets = (rnn[:, None] * q[None, :]).ravel()
    f0 = {el: debye.form_factor(el, q) for el in elements}
    rows, curves = [], []
    for size_p, size_e in pairs_given:
        positions = structures.pentagonal_bipyramid(size_p, size_e, own["Marks"])
        _, _, desc, s_sum, _ = _structure_job(_BIPYRAMID, size_p, s_targets, positions)
        s_sum = s_sum.reshape(len(rnn), q.size)
        _add_curves(
            rows,
            curves,
            _BIPYRAMID,
            size_p,
            desc,
            s_sum,
            params,
            f0,
            q,
            False,
            size_parameter_2=size_e,
            structure_id=f"{_BIPYRAMID}-{size_p}-e{size_e}",
        )
    meta = pd.DataFrame(rows, columns=METADATA_COLUMNS)
    intensities = np.vstack(curves)
    digest = hashlib.sha256(np.ascontiguousarray(intensities).tobytes()).hexdigest()
    manifest = {
        "description": f"Training-only variants of {_BIPYRAMID} (sizeP, sizeE) {pairs_given}.",
        "params": {**params, "builds": [list(map(int, b)) for b in pairs_given]},
        "n_curves": int(len(meta)),
        "sha256": {"variants_of": lib.manifest["sha256"], "intensities": digest},
    }
    return Library(q, intensities, meta, manifest, lib.path)


def joined(lib: Library, extra: Library) -> Library:
    """``lib`` with the curves of ``extra`` after its own (rows len(lib) onwards): the same q
    grid and metadata columns, no structure in both. Its fingerprint names both."""
    if not np.array_equal(lib.q, extra.q):
        raise ValueError("the libraries must share their q grid to be joined.")
    if list(lib.metadata.columns) != list(extra.metadata.columns):
        raise ValueError("the libraries must have the same metadata columns to be joined.")
    shared = set(lib.metadata["structure_id"]) & set(extra.metadata["structure_id"])
    if shared:
        raise ValueError(f"structures {sorted(shared)} are in both libraries: nothing is joined.")
    manifest = {
        **lib.manifest,
        "n_curves": len(lib) + len(extra),
        "sha256": {**lib.manifest["sha256"], "joined": extra.manifest["sha256"]},
    }
    return Library(
        lib.q,
        np.vstack([lib.intensities, extra.intensities]),
        pd.concat([lib.metadata, extra.metadata], ignore_index=True),
        manifest,
        lib.path,
    )


def _replace_folder(new: Path, path: Path) -> None:
    """Move the folder ``new`` to ``path``; an existing ``path`` (a library of ours) is moved aside
    first and removed only once the new one is in place."""
    old = None
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
        os.replace(path, old / path.name)
    os.replace(new, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(paths.ROOT))
    except ValueError:
        return str(path)


def _param_differences(found: dict, wanted: dict) -> list[str]:
    keys = sorted(set(found) | set(wanted))
    return [
        f"{k}: on disk {found.get(k)!r}, requested {wanted.get(k)!r}"
        for k in keys
        if found.get(k) != wanted.get(k)
    ]


def read_library(path, shapes=None, sizes=None, elements=None, b_iso=None, q=None) -> Library:
    """Read the library in ``path`` and check it: its manifest must match the requested parameters
    and its files their checksums, otherwise :class:`LibraryError` names the problem and the
    fix."""
    path = Path(path)
    wanted, _, _ = _normalise_params(shapes, sizes, elements, b_iso, q)
    manifest = _manifest(path)
    diffs = _param_differences(manifest.get("params", {}), wanted)
    if diffs:
        raise LibraryError(
            f"the library in {path} was made with other parameters ({'; '.join(diffs)}): "
            "call load_library(...) with these parameters to regenerate it, "
            "or build_library(path, ...) into another folder."
        )
    return open_library(path)


def _manifest(path: Path) -> dict:
    manifest_path = path / "manifest.json"
    if not manifest_path.exists():
        raise LibraryError(
            f"no library at {path} (manifest.json missing): "
            f"build it with load_library() or build_library({str(path)!r})."
        )
    return json.loads(manifest_path.read_text())


def open_library(path) -> Library:
    """Read the library in ``path`` whatever its parameters (its manifest says them), after
    checking its files against their checksums (:class:`LibraryError` if one is missing or
    damaged)."""
    path = Path(path)
    manifest = _manifest(path)
    for name in _FILES:
        if not (path / name).exists() or _sha256(path / name) != manifest["sha256"][name]:
            raise LibraryError(
                f"{path / name} is missing or does not match its checksum in manifest.json "
                "(damaged or edited): "
                f"delete the folder {path} and call load_library() to regenerate it."
            )
    q_arr = np.load(path / "q.npy")
    intensities = np.load(path / "intensities.npy")
    meta = pd.read_csv(path / "metadata.csv")
    return Library(q_arr, intensities, meta, manifest, path)


def load_library(
    name: str = "study",
    shapes=None,
    sizes=None,
    elements=None,
    b_iso=None,
    q=None,
    n_jobs=None,
    progress=True,
    verbose=True,
    client=None,
) -> Library:
    """Load ``data/library/<name>/``, regenerating it (and saying why) when it is missing or was
    made with other parameters. Damaged files raise :class:`LibraryError` instead of being
    overwritten. Parameters left at None take the value of the preset ``PRESETS[name]`` if there is
    one, else the study's. ``client``: generate on a Dask cluster (:func:`generate`)."""
    path = paths.library_dir(name)
    kwargs = dict(shapes=shapes, sizes=sizes, elements=elements, b_iso=b_iso, q=q)
    named = preset(name)
    kwargs = {key: named.get(key) if value is None else value for key, value in kwargs.items()}
    reason = None
    if not (path / "manifest.json").exists():
        reason = f"no library in {_show(path)} yet"
    else:
        wanted, _, _ = _normalise_params(**kwargs)
        found = json.loads((path / "manifest.json").read_text()).get("params", {})
        diffs = _param_differences(found, wanted)
        if diffs:
            reason = (
                f"the library in {_show(path)} was made with other parameters ({'; '.join(diffs)})"
            )
    if reason:
        if verbose:
            print(f"{reason}: generating it now.")
        build_library(path, n_jobs=n_jobs, progress=progress, client=client, **kwargs)
    return read_library(path, **kwargs)


def example_row(meta: pd.DataFrame, nth: int = 0, **conditions) -> int:
    """Position of the ``nth`` curve of ``meta`` whose columns equal ``conditions`` (e.g.
    ``shape="cuboctahedron", element="Au"``): the notebooks' example curves."""
    mask = np.ones(len(meta), dtype=bool)
    for key, value in conditions.items():
        if key not in meta.columns:
            raise ValueError(
                f"the metadata has no column {key!r}: use one of {list(meta.columns)}."
            )
        mask &= (meta[key] == value).to_numpy()
    hits = np.flatnonzero(mask)
    if hits.size <= nth:
        raise ValueError(
            f"the library has {hits.size} curve(s) with {conditions}, no number {nth}: "
            "load a library that contains it or pick another."
        )
    return int(hits[nth])
