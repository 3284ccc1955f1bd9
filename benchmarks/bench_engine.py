"""Benchmark: time of the Debye engine against the number of atoms, every shape, 1e3 to 1e6 atoms.

What it measures
----------------
For every shape and every target size (default about 1e3, 1e4, 1e5, 1e6 atoms) it builds the
particle with pyNanoMatBuilder (Au, timed apart: building is not engine time) and times
``debye_intensity(atoms, q, 0.3, route="pairs")`` on the study grid (1999 points, 0.01..19.99
1/Å): the new engine, the fastest exact route of ``helpers.simulation.pairs``, at every size
(``route="auto"``, the default, uses it from ``FAST_ROUTE_MIN_ATOMS`` atoms on and the binned
pass below), with the route it took. Every route is warmed up (numba compiled) untimed first.
Per shape it prints the log-log slope of time against N (the fitted exponent) and the ratio to:

* the current engine (``route="binned"``, O(N^2), one core), timed in the same run up to
  ``--binned-max-atoms``; above, EXTRAPOLATED from its largest timed size with its N^2 law, and
  labelled so;
* debyecalculator (CPU, float32, both cores) if it can be imported (it is not in the project's
  virtual environment ``.venv/`` but in the benchmarks' own, ``.venv-bench/``, which ``make bench``
  builds from ``requirements.txt`` + ``requirements-bench.txt``), up to ``--dc-max-atoms``;
  otherwise the script says it is not available.

A size whose predicted engine time (the shape's fitted law from its smaller sizes) exceeds
``--budget`` seconds is skipped and labelled so. Wall-clock times on a shared machine are noisy:
the script prints the load average and the process CPU seconds next to every wall time.
The table is saved (atomic write) to ``results/engine_benchmark.csv`` with columns
shape, size, n_atoms, seconds, engine.

Run from the repository root (``make bench`` builds ``.venv-bench/`` and runs both benchmarks)::

    .venv-bench/bin/python benchmarks/bench_engine.py
    .venv-bench/bin/python benchmarks/bench_engine.py --targets 1e3 1e4 1e5 --shapes octahedron
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from ase import Atoms

from helpers import paths
from helpers.simulation import debye, library, structures

ELEMENT = "Au"
B_ISO = 0.3
GOALS = ((1e5, 2.0, "every shape at ~1e5 atoms"), (1e6, 60.0, "every shape at ~1e6 atoms"))
SINGLE_CRYSTALS = (
    "cubefcc",
    "cuboctahedron",
    "dihedral_rhombic_dodecahedron",
    "octahedron",
    "tetrahedron",
    "rhombic_dodecahedron",
)
CSV = paths.ENGINE_BENCHMARK


def size_for(shape: str, target: float) -> int:
    """Builder size argument whose atom count is nearest ``target``: the atom count is a cubic
    polynomial of the size (e.g. an fcc cube of nOrder n has 4n^3 + 6n^2 + 3n + 1 atoms), fitted
    exactly on the study's four largest sizes."""
    spec = structures.SHAPE_SPECS[shape]
    sizes = np.array(spec.sizes[-4:])
    counts = np.array([len(structures.unit_positions(shape, int(s))) for s in sizes])
    coef = np.polyfit(sizes, counts, 3)
    grid = np.arange(spec.sizes[0], 400)
    return int(grid[np.argmin(np.abs(np.log(np.polyval(coef, grid).clip(1)) - np.log(target)))])


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def slope(n, t) -> float:
    n, t = np.asarray(n, float), np.asarray(t, float)
    return float(np.polyfit(np.log(n), np.log(t), 1)[0]) if len(n) >= 2 else float("nan")


def debyecalculator_timer():
    """A function timing debyecalculator on one particle, or None (with the reason)."""
    try:
        import torch
        from debyecalculator import DebyeCalculator
    except ImportError as exc:
        return None, f"not available ({exc.name} not importable in this environment)"
    torch.set_num_threads(2)
    calc = DebyeCalculator(qmin=0.01, qmax=19.995, qstep=0.01, qdamp=0.0, biso=B_ISO, device="cpu")

    def run(atoms):
        return calc.iq(atoms)

    run(Atoms("Au2", positions=[[0, 0, 0], [2.9, 0, 0]]))  # warm-up
    return run, "CPU, float32, 2 threads"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", nargs="+", default=list(structures.SHAPES))
    parser.add_argument("--targets", nargs="+", type=float, default=[1e3, 1e4, 1e5, 1e6])
    parser.add_argument("--budget", type=float, default=300.0, help="skip predicted-longer runs")
    parser.add_argument("--binned-max-atoms", type=int, default=12_000)
    parser.add_argument("--dc-max-atoms", type=int, default=12_000)
    parser.add_argument("--csv", type=Path, default=CSV)
    args = parser.parse_args(argv)
    for shape in args.shapes:
        structures.check_shape_size(shape, structures.SHAPE_SPECS[shape].sizes[0])

    q = np.asarray(library.Q_GRID)
    dc_run, dc_text = debyecalculator_timer()
    print(
        f"Engine benchmark: {ELEMENT}, B = {B_ISO}, {q.size} q points, os.cpu_count() = "
        f"{os.cpu_count()}; debyecalculator: {dc_text}"
    )
    print("wall s (cpu s) per run; load = 1-min load average before the run (2 cores)")
    warm_shape = {"lattice": "cubefcc", "column": "pentagonal_bipyramid"}
    for route in ("binned", "lattice", "column", "orbit", "general"):  # compile, untimed
        shape = warm_shape.get(route, "icosahedron")
        size = structures.SHAPE_SPECS[shape].sizes[1]
        pos = structures.unit_positions(shape, size) * structures.rnn(ELEMENT)
        debye.debye_intensity(Atoms(f"{ELEMENT}{len(pos)}", positions=pos), q, B_ISO, route=route)
    rows, summary = [], {}
    for shape in args.shapes:
        measured, binned = [], None
        print(f"\n{shape}")
        for target in args.targets:
            size = size_for(shape, target)
            if len(measured) >= 1:
                law = slope(*zip(*measured)) if len(measured) >= 2 else 2.0
                n_last, t_last = measured[-1]
                predicted = t_last * (target / n_last) ** law
                if predicted > args.budget:
                    print(
                        f"  size {size:4d} ~{target:9.0f} atoms: SKIPPED, predicted "
                        f"{predicted:.0f} s > budget {args.budget:.0f} s"
                    )
                    rows.append((shape, size, int(target), float("nan"), "skipped (predicted)"))
                    continue
            pos, t_build, _ = timed(
                lambda sh=shape, s=size: structures.unit_positions(sh, s, study_range=False)
            )
            atoms = Atoms(f"{ELEMENT}{len(pos)}", positions=pos * structures.rnn(ELEMENT))
            n = len(atoms)
            load = os.getloadavg()[0]
            _, t_eng, c_eng = timed(
                lambda a=atoms: debye.debye_intensity(a, q, B_ISO, route="pairs")
            )
            route = "+".join(debye.last_routes)
            measured.append((n, t_eng))
            rows.append((shape, size, n, t_eng, f"new ({route})"))
            line = (
                f"  size {size:4d} N {n:8d}: build {t_build:7.2f} s | new {t_eng:8.3f} s "
                f"({c_eng:7.2f} cpu, {route}, load {load:.1f})"
            )
            if n <= args.binned_max_atoms:
                _, t_bin, _ = timed(
                    lambda a=atoms: debye.debye_intensity(a, q, B_ISO, route="binned")
                )
                binned = (n, t_bin)
                rows.append((shape, size, n, t_bin, "binned (measured)"))
                line += f" | binned {t_bin:8.3f} s measured, x{t_bin / t_eng:.1f}"
            elif binned is not None:
                t_bin = binned[1] * (n / binned[0]) ** 2
                rows.append((shape, size, n, t_bin, "binned (EXTRAPOLATED N^2)"))
                line += f" | binned {t_bin:8.0f} s EXTRAPOLATED, x{t_bin / t_eng:.0f}"
            if dc_run is not None and n <= args.dc_max_atoms:
                _, t_dc, _ = timed(lambda a=atoms: dc_run(a))
                rows.append((shape, size, n, t_dc, "debyecalculator (measured)"))
                line += f" | dc {t_dc:7.3f} s, x{t_dc / t_eng:.1f}"
            print(line, flush=True)
        summary[shape] = measured
        print(
            f"  fitted exponent (log-log slope of new engine time vs N): "
            f"{slope(*zip(*measured)) if len(measured) >= 2 else float('nan'):.2f}"
        )
    table = pd.DataFrame(rows, columns=["shape", "size", "n_atoms", "seconds", "engine"])
    paths.write_atomically(args.csv, lambda tmp: table.to_csv(tmp, index=False))
    print(f"\nsaved {args.csv}")
    print("\nGoals (new engine, wall time, this run):")
    for target, limit, label in GOALS + ((1e6, 10.0, "single crystals at ~1e6 atoms"),):
        shapes = SINGLE_CRYSTALS if "single" in label else args.shapes
        verdicts = []
        for shape in shapes:
            hits = [t for n, t in summary.get(shape, []) if 0.5 * target <= n <= 2 * target]
            verdicts.append(
                f"{shape}: {'not run' if not hits else ('met' if hits[0] <= limit else 'NOT met')}"
            )
        print(f"  {label} <= {limit:g} s: " + "; ".join(verdicts))


if __name__ == "__main__":
    main()
