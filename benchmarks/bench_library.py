"""Benchmark: the whole study library with our Debye engine versus debyecalculator, on this \
machine's CPU.

What it measures, in one run
----------------------------
1. **Ours**: the wall-clock time of ``helpers.simulation.library.generate()`` for the whole study
   library (78 structures x 17 elements x 4 B_iso = 5304 curves, q = 0.01..19.99 1/Å, 1999 points).
   The time includes everything the call does: starting its 2 joblib worker processes, building the
   78 structures with pyNanoMatBuilder, the pair sums and the 5304 curves. It is timed a second
   time from the already built structures, the same input debyecalculator gets: that "like for
   like" time (structures -> curves) gives the headline speed ratio; the ratio with our building
   included is printed too.
2. **debyecalculator** (the study's engine, ``requirements-bench.txt``): CPU, ``qdamp=0``, default
   ``dtype=float32`` and ``pair_sum='grid'``, on the same q grid (``qmin=0.01, qmax=19.995,
   qstep=0.01``, which gives exactly 1999 points 0.01..19.99, rounded to float32) and the same
   B_iso. As in the study every curve is its own ``iq`` call: for each structure, one ``ase.Atoms``
   per element (the structure's positions in units of Rnn, scaled by the element's Rnn) and one
   call per B_iso, with one calculator per B_iso. The timed part includes creating the 4
   calculators, the ``ase.Atoms`` objects and all ``iq`` calls; it excludes building the structures
   with pyNanoMatBuilder (done once beforehand, and timed separately), so this side is, if
   anything, favoured. One untimed warm-up call on a tiny structure comes first. PyTorch runs with
   ``torch.set_num_threads(2)`` (both cores), as our engine uses 2 worker processes.
3. **Agreement**: max over all compared curves and q points of |I_ours - 2 iq_dc| / I_ours
   (debyecalculator returns half of the full Debye sum), both against our library curves on the
   study grid and against ours evaluated at debyecalculator's float32-rounded q values (which
   isolates debyecalculator's float32 arithmetic from the q rounding). The worst curve is
   recomputed with debyecalculator in float64 to show whether the difference is its float32
   round-off, and the difference is also given relative to N^2 f0(q)^2 (the size of the largest
   terms of the sum, the scale of float32 round-off), which stays small where I(q) has deep minima.

Both timed sections also report the CPU seconds used by other processes on the machine meanwhile
(psutil): a run that competed with other work is flagged, since its times are then not reliable.

By default debyecalculator is timed on a stratified sample of the structures (every shape with its
smallest and largest size, the extra ones spread over the shapes with the most atom pairs), all
17 elements x 4 B_iso each. Its time for the whole library is then **extrapolated** with a
least-squares model of the time per curve, t = a + b * (atom pairs) + c * (particle diameter),
fitted on the sample, and labelled as such. ``--full`` times it on the whole library instead
(a few minutes on 2 cores) and also shows what the default sample would have extrapolated.

Run from the repository root::

    .venv-bench/bin/python benchmarks/bench_library.py            # default sample of 20 structures
    .venv-bench/bin/python benchmarks/bench_library.py --subset 30
    .venv-bench/bin/python benchmarks/bench_library.py --full

The script reports; it asserts nothing. The project's targets are: the whole library in <= 30 s
with our engine, and >= 40 x the throughput of debyecalculator.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from importlib import metadata as importlib_metadata

import numpy as np

from helpers.simulation import debye as scattering
from helpers.simulation import library as dataset
from helpers.simulation import structures

N_THREADS = 2
DEFAULT_SUBSET = 20
DC_Q = dict(
    qmin=0.01, qmax=19.995, qstep=0.01
)  # torch.arange(0.01, 19.995, 0.01): 1999 points 0.01..19.99


def stratified_sample_check(n: int, n_structures: int) -> None:
    n_min = 2 * len(structures.SHAPES)
    if not n_min <= n <= n_structures:
        raise SystemExit(
            f"--subset must be between {n_min} (smallest and largest size of each of the "
            f"{len(structures.SHAPES)} shapes) and {n_structures} "
            f"(all structures; or use --full), got {n}."
        )


def stratified_sample(n: int) -> list[tuple[str, int]]:
    """``n`` structures: every shape's smallest and largest size, then extra sizes, evenly spread
    over each shape's range, given to the shapes with the most atom pairs (the costliest part of
    the work)."""
    n_min = 2 * len(structures.SHAPES)
    stratified_sample_check(n, len(structures.structure_grid()))
    sizes = {shape: structures.SHAPE_SPECS[shape].sizes for shape in structures.SHAPES}
    pairs = {
        shape: sum(len(structures.unit_positions(shape, s)) ** 2 for s in sizes[shape])
        for shape in sizes
    }
    count = {shape: 2 for shape in sizes}
    for _ in range(n - n_min):  # one more size for the shape with the most pairs per sampled size
        shape = max(
            (s for s in sizes if count[s] < len(sizes[s])), key=lambda s: pairs[s] / count[s]
        )
        count[shape] += 1
    out = []
    for shape in structures.SHAPES:
        idx = np.unique(np.rint(np.linspace(0, len(sizes[shape]) - 1, count[shape])).astype(int))
        out.extend((shape, int(sizes[shape][i])) for i in idx)
    return out


class CpuMonitor:
    """CPU seconds used by this process tree and by the whole machine during a timed section, to
    show whether other processes competed for the 2 cores (which would slow the section down).
    Needs psutil; else reports nothing."""

    def __init__(self):
        try:
            import psutil
        except ImportError:  # pragma: no cover
            psutil = None
        self.psutil = psutil

    def _own(self) -> float:
        me = self.psutil.Process()
        procs = [me] + me.children(recursive=True)
        total = 0.0
        for proc in procs:
            try:
                t = proc.cpu_times()
                total += t.user + t.system
            except self.psutil.Error:
                pass
        return total

    def _busy(self) -> float:
        t = self.psutil.cpu_times()
        return sum(t) - t.idle - getattr(t, "iowait", 0.0)

    def __enter__(self):
        self.wall0 = time.perf_counter()
        if self.psutil:
            self.own0, self.busy0 = self._own(), self._busy()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall0
        if self.psutil:
            self.own = self._own() - self.own0
            self.others = max(0.0, self._busy() - self.busy0 - self.own)
        return False

    def text(self) -> str:
        if not self.psutil:
            return "(psutil missing: competing load not measured)"
        n = os.cpu_count() or 1
        share = self.others / (self.wall * n)
        flag = "  <-- COMPETING LOAD, timing not reliable" if share > 0.05 else ""
        return (
            f"CPU s: this run {self.own:7.1f}, other processes {self.others:6.1f} "
            f"({share:.0%} of {n} cores){flag}"
        )


def time_ours() -> tuple[float, np.ndarray, np.ndarray, object, CpuMonitor]:
    with CpuMonitor() as mon:
        q, intensities, meta, _ = dataset.generate(progress=False)
    return mon.wall, q, intensities, meta, mon


def time_debyecalculator(sample, unit_pos, elements, b_values):
    """Time debyecalculator on every curve of the sampled structures; returns per-structure times
    and curves."""
    from ase import Atoms
    from debyecalculator import DebyeCalculator

    def make(b):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return DebyeCalculator(**DC_Q, qdamp=0.0, biso=b, device="cpu")

    warm = make(b_values[0])  # untimed warm-up (first-call allocations, lazy imports)
    warm.iq(
        Atoms(
            ["Au"] * 4,
            positions=structures.unit_positions("tetrahedron", 2) * structures.rnn("Au"),
        )
    )

    rnn = {el: structures.rnn(el) for el in elements}
    per_structure, curves = {}, {}
    mon = CpuMonitor().__enter__()
    t_start = time.perf_counter()
    calcs = {
        b: make(b) for b in b_values
    }  # one calculator per B_iso, created inside the timed part
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
    mon.__exit__(None, None, None)
    return total, t_calcs, per_structure, curves, np.asarray(q_dc), mon


def structure_features(key, unit_pos, elements):
    """Features of the cost model of one debyecalculator curve: 1, atom pairs, diameter in Å (mean
    over elements)."""
    pos = unit_pos[key]
    n = len(pos)
    diameter = (
        2.0
        * np.sqrt(np.max(np.sum((pos - pos.mean(0)) ** 2, axis=1)))
        * np.mean([structures.rnn(e) for e in elements])
    )
    return np.array([1.0, n * (n - 1) / 2.0, diameter])


def extrapolate(
    per_structure: dict, unit_pos: dict, elements, n_b: int, grid
) -> tuple[float, float]:
    """Extrapolated debyecalculator time of the whole library from the sampled structures.

    Fits t_curve = a + b * pairs + c * diameter (non-negative coefficients) on the per-curve times
    of the sampled structures and sums it over every structure of ``grid``. Returns (total seconds,
    mean absolute residual of the fit on the sampled structures relative to their mean time per
    curve)."""
    from scipy.optimize import nnls

    n_curves_per_structure = len(elements) * n_b
    keys = list(per_structure)
    x = np.array([structure_features(k, unit_pos, elements) for k in keys])
    y = np.array([per_structure[k] / n_curves_per_structure for k in keys])
    scale = x.max(axis=0)
    # relative least squares: every structure counts by its relative error, small ones included
    coef, _ = nnls(x / scale / y[:, None], np.ones_like(y))
    coef = coef / scale
    residual = float(np.sum(np.abs(x @ coef - y)) / np.sum(y))
    total = (
        sum(structure_features(k, unit_pos, elements) @ coef for k in grid)
        * n_curves_per_structure
    )
    return float(total), residual


def compare(curves: dict, ours_at, scale_at):
    """Over the curves: max of |I_ours - 2 iq| / I_ours and max of |I_ours - 2 iq| / scale
    (N^2 f0(q)^2, the size of the largest terms of the sum, on which float32 round-off acts), each
    with where it occurs (key + q index)."""
    worst = {"rel": (-1.0, None), "scaled": (-1.0, None)}
    for key, iq in curves.items():
        ours = ours_at(key)
        diff = np.abs(ours - 2.0 * iq.astype(float))
        for name, value in (("rel", diff / ours), ("scaled", diff / scale_at(key))):
            k = int(np.argmax(value))
            if value[k] > worst[name][0]:
                worst[name] = (float(value[k]), (*key, k))
    return worst


def float64_check(key, unit_pos, q_grid, ours):
    """Max relative difference of ours from debyecalculator in float64 (on the study grid) for one
    curve."""
    import torch
    from ase import Atoms
    from debyecalculator import DebyeCalculator

    shape, size, el, b = key
    saved = torch.get_default_dtype()
    torch.set_default_dtype(
        torch.float64
    )  # so that its torch.arange q grid is the study grid in float64
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            calc = DebyeCalculator(**DC_Q, qdamp=0.0, biso=b, device="cpu", dtype=torch.float64)
    finally:
        torch.set_default_dtype(saved)
    pos = unit_pos[(shape, size)] * structures.rnn(el)
    q64, iq = calc.iq(Atoms([el] * len(pos), positions=pos))
    if np.max(np.abs(q64 - q_grid)) > 1e-12:
        return float("nan")
    return float(np.max(np.abs(ours - 2.0 * iq) / ours))


def where_text(where, q):
    return f"at {where[0]}-{where[1]} {where[2]} B={where[3]} q={q[where[4]]:g}"


def row(label, value):
    return f"  {label:<58} {value}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--subset",
        type=int,
        default=DEFAULT_SUBSET,
        metavar="N",
        help="time debyecalculator on a stratified sample of N structures "
        f"(default {DEFAULT_SUBSET}) "
        "and extrapolate its time for the whole library",
    )
    group.add_argument(
        "--full",
        action="store_true",
        help="time debyecalculator on the whole library (all 5304 curves)",
    )
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(N_THREADS)
    grid = structures.structure_grid()
    elements = list(structures.ELEMENTS)
    b_values = list(dataset.B_ISO)
    n_library = len(grid) * len(elements) * len(b_values)
    if not args.full:
        stratified_sample_check(args.subset, len(grid))

    print("Benchmark of the study library: our engine vs debyecalculator")
    print(
        f"  machine: {platform.machine()} {platform.processor() or ''}, "
        f"os.cpu_count() = {os.cpu_count()}; "
        f"python {platform.python_version()}"
    )
    versions = {
        p: importlib_metadata.version(p) for p in ("torch", "debyecalculator", "finufft", "numpy")
    }
    print("  versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(
        f"  torch.set_num_threads({N_THREADS}) -> torch uses {torch.get_num_threads()} threads "
        "(both cores); "
        "our generate() uses 2 joblib worker processes"
    )
    print(
        f"  workload: {len(grid)} structures x {len(elements)} elements x {len(b_values)} B_iso "
        f"= {n_library} curves, "
        f"{dataset.Q_GRID.size} q points {dataset.Q_GRID[0]:g}..{dataset.Q_GRID[-1]:g} 1/Å",
        flush=True,
    )

    # (a) ours, the whole library
    t_ours, q, intensities, meta, mon_ours = time_ours()
    index = {
        (r.shape, int(r.size_parameter_1), r.element, float(r.b_iso)): i
        for i, r in enumerate(meta.itertuples(index=False))
    }

    # structures for debyecalculator (pyNanoMatBuilder, untimed for debyecalculator; timed here for
    # information)
    t0 = time.perf_counter()
    unit_pos = {key: np.asarray(structures.unit_positions(*key)) for key in grid}
    t_build = time.perf_counter() - t0
    # (a') ours from the same built structures that debyecalculator gets (like for like)
    with CpuMonitor() as mon_built:
        _, i_built, _, _ = dataset.generate(progress=False, unit_positions=unit_pos)
    t_ours_built = mon_built.wall
    if not np.array_equal(i_built, intensities):
        raise SystemExit(
            "generate() from prebuilt structures differs from generate(): "
            "investigate before timing."
        )
    default_sample = stratified_sample(DEFAULT_SUBSET)
    sample = grid if args.full else stratified_sample(args.subset)

    # (b) debyecalculator
    t_dc, t_calcs, per_structure, curves, q_dc, mon_dc = time_debyecalculator(
        sample, unit_pos, elements, b_values
    )
    n_dc = len(curves)
    if q_dc.size != q.size:
        raise SystemExit(
            f"debyecalculator's q grid has {q_dc.size} points, ours {q.size}: check DC_Q."
        )
    q_dev = float(np.max(np.abs(q_dc.astype(float) - q) / q))

    # (c) agreement; ours also evaluated at debyecalculator's float32-rounded q (untimed)
    n_atoms = {key: len(pos) for key, pos in unit_pos.items()}
    f0 = {el: scattering.form_factor(el, q) for el in elements}

    def scale_at(key):
        return n_atoms[key[:2]] ** 2 * f0[key[2]] ** 2

    worst_lib = compare(curves, lambda k: intensities[index[k]], scale_at)
    q32 = q_dc.astype(float)
    ours_q32 = {}
    for shape, size in sample:
        _, i32, m32, _ = dataset.generate([shape], [size], q=q32, n_jobs=1, progress=False)
        for i, r in enumerate(m32.itertuples(index=False)):
            ours_q32[(shape, size, r.element, float(r.b_iso))] = i32[i]
    worst_q32 = compare(curves, lambda k: ours_q32[k], scale_at)
    worst_key = worst_lib["rel"][1][:4]
    check64 = float64_check(worst_key, unit_pos, q, intensities[index[worst_key]])

    ours_rate = n_library / t_ours
    if args.full:
        dc_total, dc_label = t_dc, "measured"
        extra, fit_res = extrapolate(
            {k: per_structure[k] for k in default_sample}, unit_pos, elements, len(b_values), grid
        )
    else:
        dc_total, fit_res = extrapolate(per_structure, unit_pos, elements, len(b_values), grid)
        dc_total += t_calcs
        dc_label = "EXTRAPOLATED"
    dc_rate = n_library / dc_total
    sample_rate = n_dc / t_dc

    print()
    print("Results")
    print("  " + "-" * 86)
    print(
        row(
            "our engine: helpers.simulation.library.generate(), whole library",
            f"{t_ours:9.2f} s  ({n_library} curves, measured)",
        )
    )
    print(row("  throughput", f"{ours_rate:9.1f} curves/s = {1e3 / ours_rate:8.3f} ms/curve"))
    print(f"    {mon_ours.text()}")
    print(
        row(
            "  (of which: building the 78 structures; alone, 1 process:)",
            f"{t_build:9.2f} s  (generate() does it on 2 processes)",
        )
    )
    print(
        row(
            "our engine from the built structures (like for like)",
            f"{t_ours_built:9.2f} s  ({n_library} curves, measured)",
        )
    )
    print(f"    {mon_built.text()}")
    print(
        row(
            "debyecalculator, timed part",
            f"{t_dc:9.2f} s  ({n_dc} curves of {len(sample)} structures, measured)",
        )
    )
    print(
        row(
            "  throughput on the timed curves",
            f"{sample_rate:9.1f} curves/s = {1e3 / sample_rate:8.3f} ms/curve",
        )
    )
    print(f"    {mon_dc.text()}")
    print(row("  creating its 4 calculators (included)", f"{t_calcs:9.4f} s"))
    print(
        row(
            f"debyecalculator, whole library ({dc_label})",
            f"{dc_total:9.2f} s  ({n_library} curves)",
        )
    )
    print(
        row(
            f"  throughput ({dc_label})",
            f"{dc_rate:9.1f} curves/s = {1e3 / dc_rate:8.3f} ms/curve",
        )
    )
    if not args.full:
        print(row("  cost model on the sample: mean |fit - measured| / mean", f"{fit_res:9.1%}"))
    else:
        print(
            row(
                f"  (what the default {DEFAULT_SUBSET}-structure sample extrapolates to)",
                f"{extra + t_calcs:9.2f} s  (fit residual {fit_res:.1%})",
            )
        )
    print(
        row(
            f"speed ratio, like for like: structures -> curves ({dc_label})",
            f"{dc_total / t_ours_built:9.1f} x",
        )
    )
    print(
        row(
            f"speed ratio, ours incl. building vs dc excl. ({dc_label})",
            f"{dc_total / t_ours:9.1f} x",
        )
    )
    print("  " + "-" * 86)
    print(
        row(
            "max |I_ours - 2 iq_dc| / I_ours, ours on the study q grid",
            f"{worst_lib['rel'][0]:9.2e}  {where_text(worst_lib['rel'][1], q)}",
        )
    )
    print(
        row(
            "max |I_ours - 2 iq_dc| / I_ours, ours at dc's float32 q",
            f"{worst_q32['rel'][0]:9.2e}  {where_text(worst_q32['rel'][1], q)}",
        )
    )
    print(
        row(
            "  same curve, debyecalculator in float64: max relative",
            f"{check64:9.2e}  (so the difference above is dc's float32 round-off)",
        )
    )
    print(
        row(
            "max |I_ours - 2 iq_dc| / (N^2 f0(q)^2), study q grid",
            f"{worst_lib['scaled'][0]:9.2e}  {where_text(worst_lib['scaled'][1], q)}",
        )
    )
    print(row("  over", f"{n_dc} curves x {q.size} q points"))
    print(row("  dc q grid vs study grid (float32 rounding), max relative", f"{q_dev:9.2e}"))
    print("  " + "-" * 86)
    print(
        row(
            "target: our whole library <= 30 s",
            f"{'met' if t_ours <= 30 else 'NOT met'} ({t_ours:.1f} s)",
        )
    )
    ratio = dc_total / t_ours_built
    print(
        row(
            "target: ours >= 40 x faster than debyecalculator (like for like)",
            f"{'met' if ratio >= 40 else 'NOT met'} ({ratio:.1f} x, {dc_label.lower()})",
        )
    )


if __name__ == "__main__":
    main()
