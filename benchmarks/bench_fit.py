"""Benchmark: the physics fit of a size between the library's, both neighbours blended against the
nearest dilated alone.

What it measures, in one run
----------------------------
``--curves`` particles of the ``sizes`` library (``make model``'s), each with a smaller and a
larger size of its family, are measured under notebook 10's test conditions (taken in turn, in
arbitrary units) and each is fitted by its own family *with its own curve left out*, so that its
size lies between two library sizes: :func:`helpers.measurement.fit.fit_family` with R_0 also
between the sizes (``substeps`` = :data:`helpers.measurement.fit.SUBSTEPS`, as the answer's
refinement and size stages fit), once with ``between="dilate"`` (the peer: the nearest size
dilated) and once with ``between="blend"`` (the default: both neighbours dilated and blended), one
after the other for each curve so that both see the same machine. It prints the seconds per fit of
each and their ratio, and, for information, how often each puts R_0 within 10 % of the particle's
R_eq.

Run from the repository root::

    make bench-fit                                  # 120 curves
    .venv/bin/python benchmarks/bench_fit.py --curves 300 --seed 1

The script reports; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from helpers.characterisation import MODEL_RECIPE
from helpers.measurement import fit as physics
from helpers.measurement import instrument
from helpers.simulation import library
from helpers.studies import realistic

#: notebook 10's changed bounds (Å⁻¹), one of the test conditions
WINDOW = (0.1, 15.0)
MODES = ("dilate", "blend")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curves", type=int, default=120, help="curves fitted (120)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.curves < 1:
        parser.error("give --curves >= 1.")

    lib = library.load_library(MODEL_RECIPE["library_name"], progress=False)
    meta = lib.metadata
    families = physics.family_rows(lib)
    radii = meta["eq_radius"].to_numpy(float)
    inner = []  # (row, its family's other rows) for rows with a smaller and a larger sibling
    for key, rows in families.items():
        for row in rows:
            others = rows[rows != row]
            if radii[others].min() < radii[row] < radii[others].max():
                inner.append((key, row, others))
    rng = np.random.default_rng(args.seed)
    picked = [inner[k] for k in rng.choice(len(inner), size=args.curves, replace=False)]
    conditions = realistic.test_conditions(WINDOW)
    names = list(conditions)
    which = [names[k % len(names)] for k in range(args.curves)]
    measurements = instrument.with_random_scale(
        [conditions[name] for name in which], args.curves, seed=args.seed + 1
    )
    rows = np.array([row for _, row, _ in picked])
    intensity, mask = instrument.measure(lib, rows, measurements, seed=args.seed + 2)
    print(
        f"{args.curves} curves of the {lib.path.name} library ({len(inner)} with a smaller and a "
        f"larger size in their family), each fitted with its own curve left out; cores: "
        f"{os.cpu_count()}; load average before: {os.getloadavg()[0]:.2f}"
    )

    seconds = {mode: 0.0 for mode in MODES}
    within = {mode: 0 for mode in MODES}
    for k, (key, row, others) in enumerate(picked):
        measured = mask[k] & np.isfinite(intensity[k]) & (intensity[k] > 0)
        q, curve = lib.q[measured], intensity[k][measured]
        for mode in MODES:
            start = time.perf_counter()
            result = physics.fit_family(
                lib, q, curve, *key, rows=others, substeps=physics.SUBSTEPS, between=mode
            )
            seconds[mode] += time.perf_counter() - start
            within[mode] += abs(result.radius_A / radii[row] - 1) <= 0.1

    print(f"\n{'between':<10}{'s per fit':>11}{'R_0 within 10 %':>18}")
    for mode in MODES:
        share = 100 * within[mode] / args.curves
        print(f"{mode:<10}{seconds[mode] / args.curves:>11.4f}{share:>17.1f}%")
    print(
        f"\nblend / dilate: {seconds['blend'] / seconds['dilate']:.2f}x the time per fit "
        f"(load average after: {os.getloadavg()[0]:.2f})."
    )


if __name__ == "__main__":
    main()
