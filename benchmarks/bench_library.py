"""Benchmark: the whole study library with our Debye engine versus debyecalculator, on this machine's CPU.

What it measures, in one run
----------------------------
1. **Ours**: the wall-clock time of ``helpers.dataset.generate()`` for the whole study library
   (78 structures x 17 elements x 4 B_iso = 5304 curves, q = 0.01..19.99 1/Å, 1999 points).
   The time includes everything the call does: starting its 2 joblib worker processes, building the
   78 structures with pyNanoMatBuilder, the pair sums and the 5304 curves.
2. **debyecalculator** (the study's engine, ``requirements-bench.txt``): CPU, ``qdamp=0``, default
   ``dtype=float32`` and ``pair_sum='grid'``, on the same q grid (``qmin=0.01, qmax=19.995,
   qstep=0.01``, which gives exactly 1999 points 0.01..19.99, rounded to float32) and the same B_iso.
   As in the study every curve is its own ``iq`` call: for each structure, one ``ase.Atoms`` per
   element (the structure's positions in units of Rnn, scaled by the element's Rnn) and one call per
   B_iso, with one calculator per B_iso. The timed part includes creating the 4 calculators, the
   ``ase.Atoms`` objects and all ``iq`` calls; it excludes building the structures with
   pyNanoMatBuilder (done once beforehand, and timed separately), so this side is, if anything,
   favoured. One untimed warm-up call on a tiny structure comes first.
   PyTorch runs with ``torch.set_num_threads(2)`` (both cores), as our engine uses 2 worker processes.
3. **Agreement**: max over all compared curves and q points of |I_ours - 2 iq_dc| / I_ours
   (debyecalculator returns half of the full Debye sum), both against our library curves on the
   study grid and against ours evaluated at debyecalculator's float32-rounded q values (which
   isolates debyecalculator's float32 arithmetic from the q rounding).

By default debyecalculator is timed on a stratified sample of the structures (every shape with its
smallest and largest size, the extra ones spread over the shapes with the most atom pairs), all
17 elements x 4 B_iso each. Its time for the whole library is then **extrapolated** with a
least-squares model of the time per curve, t = a + b * (atom pairs) + c * (particle diameter),
fitted on the sample, and labelled as such. ``--full`` times it on the whole library instead
(a few minutes on 2 cores) and also shows what the default sample would have extrapolated.

Run from the repository root::

    .venv/bin/python benchmarks/bench_library.py            # default sample of 20 structures
    .venv/bin/python benchmarks/bench_library.py --subset 30
    .venv/bin/python benchmarks/bench_library.py --full

The script reports; it asserts nothing. The project's targets are: the whole library in <= 30 s
with our engine, and >= 40 x the throughput of debyecalculator.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from helpers import dataset, structures  # noqa: E402

N_THREADS = 2
DEFAULT_SUBSET = 20
DC_Q = dict(qmin=0.01, qmax=19.995, qstep=0.01)  # torch.arange(0.01, 19.995, 0.01): 1999 points 0.01..19.99


def stratified_sample(n: int) -> list[tuple[str, int]]:
    """``n`` structures: every shape's smallest and largest size, then extra sizes, evenly spread over
    each shape's range, given to the shapes with the most atom pairs (the costliest part of the work)."""
    grid = structures.structure_grid()
    n_min = 2 * len(structures.SHAPES)
    if not n_min <= n <= len(grid):
        raise SystemExit(
            f"--subset must be between {n_min} (smallest and largest size of each of the "
            f"{len(structures.SHAPES)} shapes) and {len(grid)} (all structures; or use --full), got {n}."
        )
    sizes = {shape: structures.SHAPE_SPECS[shape].sizes for shape in structures.SHAPES}
    pairs = {shape: sum(len(structures.unit_positions(shape, s)) ** 2 for s in sizes[shape]) for shape in sizes}
    count = {shape: 2 for shape in sizes}
    for _ in range(n - n_min):  # one more size for the shape with the most pairs per sampled size
        shape = max((s for s in sizes if count[s] < len(sizes[s])), key=lambda s: pairs[s] / count[s])
        count[shape] += 1
    out = []
    for shape in structures.SHAPES:
        idx = np.unique(np.rint(np.linspace(0, len(sizes[shape]) - 1, count[shape])).astype(int))
        out.extend((shape, int(sizes[shape][i])) for i in idx)
    return out


def time_ours() -> tuple[float, np.ndarray, np.ndarray, "object"]:
    t0 = time.perf_counter()
    q, intensities, meta, _ = dataset.generate(progress=False)
    return time.perf_counter() - t0, q, intensities, meta


def time_debyecalculator(sample, unit_pos, elements, b_values):
    """Time debyecalculator on every curve of the sampled structures; returns per-structure times and curves."""
    import torch
    from ase import Atoms
    from debyecalculator import DebyeCalculator

    def make(b):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return DebyeCalculator(**DC_Q, qdamp=0.0, biso=b, device="cpu")

    warm = make(b_values[0])  # untimed warm-up (first-call allocations, lazy imports)
    warm.iq(Atoms(["Au"] * 4, positions=structures.unit_positions("tetrahedron", 2) * structures.rnn("Au")))

    rnn = {el: structures.rnn(el) for el in elements}
    per_structure, curves = {}, {}
    t_start = time.perf_counter()
    calcs = {b: make(b) for b in b_values}  # one calculator per B_iso, created inside the timed part
    t_calcs = time.perf_counter() - t_start
    q_dc = None
    for shape, size in sample:
        t0 = time.perf_counter()
        pos = unit_pos[(shape, size)]
        for el in elements:
            atoms = Atoms([el] * len(pos), positions=pos * rnn[el])
            for b in b_values:
                q_dc, iq = calcs[b].iq(atoms)
                curves[(shape, size, el, b)] = iq
        per_structure[(shape, size)] = time.perf_counter() - t0
    total = time.perf_counter() - t_start
    return total, t_calcs, per_structure, curves, np.asarray(q_dc)


def structure_features(key, unit_pos, elements):
    """Features of the cost model of one debyecalculator curve: 1, atom pairs, diameter in Å (mean over elements)."""
    pos = unit_pos[key]
    n = len(pos)
    diameter = 2.0 * np.sqrt(np.max(np.sum((pos - pos.mean(0)) ** 2, axis=1))) * np.mean([structures.rnn(e) for e in elements])
    return np.array([1.0, n * (n - 1) / 2.0, diameter])


def extrapolate(per_structure: dict, unit_pos: dict, elements, n_b: int, grid) -> tuple[float, float]:
    """Extrapolated debyecalculator time of the whole library from the sampled structures.

    Fits t_curve = a + b * pairs + c * diameter (non-negative coefficients) on the per-curve times of the
    sampled structures and sums it over every structure of ``grid``. Returns (total seconds, largest
    relative residual of the fit on the sample)."""
    from scipy.optimize import nnls

    n_curves_per_structure = len(elements) * n_b
    keys = list(per_structure)
    x = np.array([structure_features(k, unit_pos, elements) for k in keys])
    y = np.array([per_structure[k] / n_curves_per_structure for k in keys])
    scale = x.max(axis=0)
    # relative least squares: every structure counts by its relative error, small ones included
    coef, _ = nnls(x / scale / y[:, None], np.ones_like(y))
    coef = coef / scale
    residual = float(np.max(np.abs(x @ coef - y) / y))
    total = sum(structure_features(k, unit_pos, elements) @ coef for k in grid) * n_curves_per_structure
    return float(total), residual


def compare(curves: dict, ours_at):
    """Max relative difference |I_ours - 2 iq| / I_ours over the curves, and where it occurs."""
    worst, where = -1.0, None
    for key, iq in curves.items():
        ours = ours_at(key)
        rel = np.abs(ours - 2.0 * iq.astype(float)) / ours
        k = int(np.argmax(rel))
        if rel[k] > worst:
            worst, where = float(rel[k]), (*key, k)
    return worst, where


def row(label, value):
    return f"  {label:<58} {value}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--subset", type=int, default=DEFAULT_SUBSET, metavar="N",
                       help=f"time debyecalculator on a stratified sample of N structures (default {DEFAULT_SUBSET}) "
                            "and extrapolate its time for the whole library")
    group.add_argument("--full", action="store_true", help="time debyecalculator on the whole library (all 5304 curves)")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(N_THREADS)
    grid = structures.structure_grid()
    elements = list(structures.ELEMENTS)
    b_values = list(dataset.B_ISO)
    n_library = len(grid) * len(elements) * len(b_values)
    default_sample = stratified_sample(DEFAULT_SUBSET)
    sample = grid if args.full else stratified_sample(args.subset)

    print("Benchmark of the study library: our engine vs debyecalculator")
    print(f"  machine: {platform.machine()} {platform.processor() or ''}, os.cpu_count() = {os.cpu_count()}; "
          f"python {platform.python_version()}")
    versions = {p: importlib_metadata.version(p) for p in ("torch", "debyecalculator", "finufft", "numpy")}
    print("  versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"  torch.set_num_threads({N_THREADS}) -> torch uses {torch.get_num_threads()} threads (both cores); "
          "our generate() uses 2 joblib worker processes")
    print(f"  workload: {len(grid)} structures x {len(elements)} elements x {len(b_values)} B_iso = {n_library} curves, "
          f"{dataset.Q_GRID.size} q points {dataset.Q_GRID[0]:g}..{dataset.Q_GRID[-1]:g} 1/Å", flush=True)

    # (a) ours, the whole library
    t_ours, q, intensities, meta = time_ours()
    index = {(r.shape, int(r.size_parameter_1), r.element, float(r.b_iso)): i
             for i, r in enumerate(meta.itertuples(index=False))}

    # structures for debyecalculator (pyNanoMatBuilder, untimed for debyecalculator; timed here for information)
    t0 = time.perf_counter()
    unit_pos = {key: np.asarray(structures.unit_positions(*key)) for key in grid}
    t_build = time.perf_counter() - t0

    # (b) debyecalculator
    t_dc, t_calcs, per_structure, curves, q_dc = time_debyecalculator(sample, unit_pos, elements, b_values)
    n_dc = len(curves)
    if q_dc.size != q.size:
        raise SystemExit(f"debyecalculator's q grid has {q_dc.size} points, ours {q.size}: check DC_Q.")
    q_dev = float(np.max(np.abs(q_dc.astype(float) - q) / q))

    # (c) agreement; ours also evaluated at debyecalculator's float32-rounded q (untimed)
    worst_lib, where_lib = compare(curves, lambda k: intensities[index[k]])
    q32 = q_dc.astype(float)
    ours_q32 = {}
    for shape, size in sample:
        _, i32, m32, _ = dataset.generate([shape], [size], q=q32, n_jobs=1, progress=False)
        for i, r in enumerate(m32.itertuples(index=False)):
            ours_q32[(shape, size, r.element, float(r.b_iso))] = i32[i]
    worst_q32, where_q32 = compare(curves, lambda k: ours_q32[k])

    ours_rate = n_library / t_ours
    if args.full:
        dc_total, dc_label = t_dc, "measured"
        extra, fit_res = extrapolate({k: per_structure[k] for k in default_sample}, unit_pos, elements,
                                     len(b_values), grid)
    else:
        dc_total, fit_res = extrapolate(per_structure, unit_pos, elements, len(b_values), grid)
        dc_total += t_calcs
        dc_label = "EXTRAPOLATED"
    dc_rate = n_library / dc_total
    sample_rate = n_dc / t_dc

    print()
    print("Results")
    print("  " + "-" * 86)
    print(row("our engine: helpers.dataset.generate(), whole library", f"{t_ours:9.2f} s  ({n_library} curves, measured)"))
    print(row("  throughput", f"{ours_rate:9.1f} curves/s = {1e3 / ours_rate:8.3f} ms/curve"))
    print(row("  (building the 78 structures alone, in one process)", f"{t_build:9.2f} s  (included in the line above)"))
    print(row("debyecalculator, timed part", f"{t_dc:9.2f} s  ({n_dc} curves of {len(sample)} structures, measured)"))
    print(row("  throughput on the timed curves", f"{sample_rate:9.1f} curves/s = {1e3 / sample_rate:8.3f} ms/curve"))
    print(row("  creating its 4 calculators (included)", f"{t_calcs:9.4f} s"))
    print(row(f"debyecalculator, whole library ({dc_label})", f"{dc_total:9.2f} s  ({n_library} curves)"))
    print(row(f"  throughput ({dc_label})", f"{dc_rate:9.1f} curves/s = {1e3 / dc_rate:8.3f} ms/curve"))
    if not args.full:
        print(row("  cost model fit on the sample: largest relative residual", f"{fit_res:9.1%}"))
    else:
        print(row(f"  (what the default {DEFAULT_SUBSET}-structure sample extrapolates to)",
                  f"{extra + t_calcs:9.2f} s  (fit residual {fit_res:.1%})"))
    print(row(f"speed ratio ours / debyecalculator ({dc_label})", f"{dc_total / t_ours:9.1f} x"))
    print("  " + "-" * 86)
    print(row("max |I_ours - 2 iq_dc| / I_ours, ours on the study q grid",
              f"{worst_lib:9.2e}  at {where_lib[0]}-{where_lib[1]} {where_lib[2]} B={where_lib[3]} "
              f"q={q[where_lib[4]]:g}"))
    print(row("max |I_ours - 2 iq_dc| / I_ours, ours at dc's float32 q",
              f"{worst_q32:9.2e}  at {where_q32[0]}-{where_q32[1]} {where_q32[2]} B={where_q32[3]} "
              f"q={q[where_q32[4]]:g}"))
    print(row("  over", f"{n_dc} curves x {q.size} q points"))
    print(row("  dc q grid vs study grid (float32 rounding), max relative", f"{q_dev:9.2e}"))
    print("  " + "-" * 86)
    print(row("target: our whole library <= 30 s", f"{'met' if t_ours <= 30 else 'NOT met'} ({t_ours:.1f} s)"))
    print(row("target: ours >= 40 x faster than debyecalculator",
              f"{'met' if dc_total / t_ours >= 40 else 'NOT met'} ({dc_total / t_ours:.1f} x, {dc_label.lower()})"))


if __name__ == "__main__":
    main()
