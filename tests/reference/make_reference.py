"""Write the debyecalculator reference data of the tests: curves of a few small particles and its
X-ray f0(q).

debyecalculator (the study's Debye engine, ``requirements-bench.txt``) is an independent
implementation of the same Debye sum. This script computes, with it:

- ``debyecalculator_curves.npz``: I(q) of the particles in ``CASES`` (built with
  ``helpers.structures.build``), ``qdamp=0``, the study's B_iso per case, on the study q grid
  (``qmin=0.01, qmax=19.995, qstep=0.01``: the 1999 points 0.01..19.99 1/Å), in float32 (its
  default) and in float64, both with its default ``pair_sum='grid'``. debyecalculator's ``iq`` is
  HALF of the full Debye sum: compare ``2 * iq`` with
  ``helpers.simulation.debye.debye_intensity``. Keys:

  - ``q``: the study grid (float64); ``q_float32`` / ``q_float64``: the q values debyecalculator
    actually used in each precision (float32 rounds the grid, ~1e-7 relative);
  - ``cases``: case ids ``<shape>-<size>-<element>-B<b_iso>``; ``case_shape``, ``case_size``,
    ``case_element``, ``case_b_iso``, ``case_rnn``, ``case_n_atoms``: their descriptions;
  - ``iq_float32__<case>``, ``iq_float64__<case>``: debyecalculator's ``iq`` (half the Debye sum);
  - ``positions__<case>``: the atom positions used, in Å (so a test can check its own build);
  - ``info``: versions and parameters as one string.

- ``debyecalculator_f0.csv``: debyecalculator's own X-ray form factors f0(q) of the study's 17
  elements at a few q, from its coefficient table ``elements_info.yaml`` (Waasmaier-Kirfel):
  f0 = sum_i a_i exp(-b_i (q / 4 pi)^2) + c, evaluated in float64. Columns: element, q, f0.
- ``README.md``: versions, parameters, date and how to regenerate.

Run from the repository root (needs ``requirements-bench.txt``)::

    .venv/bin/python tests/reference/make_reference.py
"""

from __future__ import annotations

import contextlib
import platform
import warnings
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np

from helpers.simulation import debye as scattering
from helpers.simulation import library as dataset
from helpers.simulation import structures

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

#: (shape, size, element, B_iso in Å^2)
CASES = (
    ("icosahedron", 3, "Au", 0.3),
    ("cubefcc", 3, "Co", 0.1),
    ("rhombic_dodecahedron", 3, "Fe", 0.9),
    ("pentagonal_bipyramid", 4, "Pt", 0.5),
)
DC_Q = dict(qmin=0.01, qmax=19.995, qstep=0.01)
F0_Q = (0.0, 1.0, 2.0, 5.0, 10.0, 15.0, 19.99)
CURVES_FILE = HERE / "debyecalculator_curves.npz"
F0_FILE = HERE / "debyecalculator_f0.csv"
README_FILE = HERE / "README.md"


def case_id(shape, size, element, b_iso) -> str:
    return f"{shape}-{size}-{element}-B{b_iso:g}"


@contextlib.contextmanager
def default_dtype(dtype):
    """debyecalculator builds its q grid with torch.arange in torch's default dtype (float32)
    before casting it to ``dtype``; with float64 as default dtype the float64 calculation runs on
    the study grid itself."""
    import torch

    saved = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(saved)


def calculator(b_iso: float, dtype):
    import torch
    from debyecalculator import DebyeCalculator

    with (
        warnings.catch_warnings(),
        default_dtype(dtype if dtype == torch.float64 else torch.float32),
    ):
        warnings.simplefilter("ignore")
        return DebyeCalculator(**DC_Q, qdamp=0.0, biso=b_iso, device="cpu", dtype=dtype)


def dc_f0_table(elements) -> dict[str, np.ndarray]:
    """debyecalculator's Waasmaier-Kirfel coefficients per element: a1..a5, c, b1..b5 (float64)."""
    from debyecalculator.utility.generate import load_elements_info

    info = load_elements_info()
    return {el: np.asarray(info[el][:11], dtype=float) for el in elements}


def dc_f0(coef: np.ndarray, q) -> np.ndarray:
    q = np.asarray(q, dtype=float)
    a, c, b = coef[:5], coef[5], coef[6:11]
    return np.sum(a[:, None] * np.exp(-b[:, None] * (q[None, :] / (4 * np.pi)) ** 2), axis=0) + c


def main() -> None:
    import torch

    torch.set_num_threads(2)
    versions = {
        p: importlib_metadata.version(p)
        for p in ("debyecalculator", "torch", "numpy", "ase", "pyNanoMatBuilder", "periodictable")
    }
    created = datetime.now(UTC).isoformat(timespec="seconds")
    q = np.array(dataset.Q_GRID)

    out = {"q": q}
    rows = {
        "case_shape": [],
        "case_size": [],
        "case_element": [],
        "case_b_iso": [],
        "case_rnn": [],
        "case_n_atoms": [],
    }
    ids, report = [], []
    for shape, size, element, b_iso in CASES:
        atoms = structures.build(shape, size, element)
        cid = case_id(shape, size, element, b_iso)
        ids.append(cid)
        for key, value in zip(
            rows, (shape, size, element, b_iso, structures.rnn(element), len(atoms))
        ):
            rows[key].append(value)
        out[f"positions__{cid}"] = atoms.get_positions()
        curves = {}
        for name, dtype in (("float32", torch.float32), ("float64", torch.float64)):
            q_dc, iq = calculator(b_iso, dtype).iq(atoms)
            if q_dc.size != q.size:
                raise SystemExit(
                    f"debyecalculator's {name} q grid has {q_dc.size} points, expected {q.size}."
                )
            out[f"q_{name}"] = np.asarray(q_dc)
            out[f"iq_{name}__{cid}"] = np.asarray(iq)
            curves[name] = (np.asarray(q_dc, dtype=float), np.asarray(iq, dtype=float))
        # agreement with our engine, at the study grid and at debyecalculator's own q values
        ours = scattering.debye_intensity(atoms, q, b_iso)
        i32, i64 = 2 * curves["float32"][1], 2 * curves["float64"][1]
        ours_q32 = scattering.debye_intensity(atoms, curves["float32"][0], b_iso)
        scale = (
            len(atoms) ** 2 * scattering.form_factor(element, q) ** 2
        )  # size of the largest terms of the sum
        report.append(
            {
                "case": cid,
                "n_atoms": len(atoms),
                "ours_vs_f64": np.max(np.abs(ours - i64) / ours),
                "ours_vs_f32": np.max(np.abs(ours - i32) / ours),
                "ours_q32_vs_f32": np.max(np.abs(ours_q32 - i32) / ours_q32),
                "f32_vs_f64": np.max(np.abs(i32 - i64) / i64),
                "f32_vs_f64_scaled": np.max(np.abs(i32 - i64) / scale),
                "ours_vs_f32_scaled": np.max(np.abs(ours - i32) / scale),
                "min_over_max": np.min(ours) / np.max(ours),
            }
        )
    q64_dev = float(np.max(np.abs(out["q_float64"] - q) / q))
    q32_dev = float(np.max(np.abs(out["q_float32"].astype(float) - q) / q))

    out["cases"] = np.array(ids)
    out["case_shape"] = np.array(rows["case_shape"])
    out["case_size"] = np.array(rows["case_size"], dtype=np.int64)
    out["case_element"] = np.array(rows["case_element"])
    out["case_b_iso"] = np.array(rows["case_b_iso"], dtype=float)
    out["case_rnn"] = np.array(rows["case_rnn"], dtype=float)
    out["case_n_atoms"] = np.array(rows["case_n_atoms"], dtype=np.int64)
    info = (
        f"debyecalculator {versions['debyecalculator']}, torch {versions['torch']}, "
        f"created {created}; "
        f"DebyeCalculator(qmin=0.01, qmax=19.995, qstep=0.01, qdamp=0, biso=<case>, device='cpu', "
        "dtype=float32|float64), "
        f"pair_sum='grid' (default); iq = half of the full Debye sum"
    )
    out["info"] = np.array(info)
    np.savez_compressed(CURVES_FILE, **out)

    # debyecalculator's own f0(q)
    coefs = dc_f0_table(structures.ELEMENTS)
    lines = ["element,q,f0"]
    f0_dev_points, f0_dev_grid = 0.0, 0.0
    for el in structures.ELEMENTS:
        f = dc_f0(coefs[el], F0_Q)
        lines += [f"{el},{qv:g},{fv:.10g}" for qv, fv in zip(F0_Q, f)]
        f0_dev_points = max(
            f0_dev_points, float(np.max(np.abs(scattering.form_factor(el, F0_Q) - f) / f))
        )
        f_grid = dc_f0(coefs[el], q)
        f0_dev_grid = max(
            f0_dev_grid, float(np.max(np.abs(scattering.form_factor(el, q) - f_grid) / f_grid))
        )
    F0_FILE.write_text("\n".join(lines) + "\n")

    # report
    print(
        f"debyecalculator {versions['debyecalculator']}, torch {versions['torch']}, "
        f"python {platform.python_version()}"
    )
    print(
        f"q: float32 grid deviates from the study grid by {q32_dev:.2e} (relative), "
        f"float64 grid by {q64_dev:.2e}"
    )
    print("max over the 1999 q points of |a - b| / b, then of |a - b| / (N^2 f0(q)^2):")
    head = (
        f"  {'case':<38}{'N':>5}{'ours-dc64':>11}{'ours-dc32':>11}{'ours@q32-dc32':>15}"
        f"{'dc32-dc64':>11}"
        f"{'  /N2f2: dc32-dc64':>19}{'ours-dc32':>11}{'min/max I':>11}"
    )
    print(head)
    for r in report:
        print(
            f"  {r['case']:<38}{r['n_atoms']:>5}{r['ours_vs_f64']:>11.2e}{r['ours_vs_f32']:>11.2e}"
            f"{r['ours_q32_vs_f32']:>15.2e}"
            f"{r['f32_vs_f64']:>11.2e}{r['f32_vs_f64_scaled']:>19.2e}"
            f"{r['ours_vs_f32_scaled']:>11.2e}{r['min_over_max']:>11.2e}"
        )
    print(
        "f0: max |f0_periodictable - f0_dc| / f0_dc over the 17 elements: "
        f"{f0_dev_points:.2e} at q = {F0_Q}, "
        f"{f0_dev_grid:.2e} over the study grid"
    )

    size_kb = sum(p.stat().st_size for p in (CURVES_FILE, F0_FILE)) / 1024
    README_FILE.write_text(
        _readme(versions, created, report, q32_dev, q64_dev, f0_dev_points, f0_dev_grid)
    )
    print(
        f"wrote {CURVES_FILE.relative_to(ROOT)}, {F0_FILE.relative_to(ROOT)} ({size_kb:.0f} kB) "
        f"and {README_FILE.relative_to(ROOT)}"
    )


def _readme(versions, created, report, q32_dev, q64_dev, f0_dev_points, f0_dev_grid) -> str:
    case_lines = "\n".join(
        f"| `{r['case']}` | {r['n_atoms']} | {r['ours_vs_f64']:.1e} | {r['ours_vs_f32']:.1e} | "
        f"{r['f32_vs_f64']:.1e} | "
        f"{r['f32_vs_f64_scaled']:.1e} | {r['ours_vs_f32_scaled']:.1e} | {r['min_over_max']:.1e} |"
        for r in report
    )
    return f"""# Reference data from debyecalculator

Independent reference values for the tests, computed with \
**debyecalculator {versions["debyecalculator"]}**
(the study's Debye engine) on **torch {versions["torch"]}** (CPU), numpy {versions["numpy"]},
ase {versions["ase"]}, pyNanoMatBuilder {versions["pyNanoMatBuilder"]}. Created {created} (UTC) by
`make_reference.py` in this folder.

## Files

- `debyecalculator_curves.npz`: debyecalculator's `iq` of the cases below, in float32 (its default)
  and float64. **`iq` is half of the full Debye sum**: compare `2 * iq` with
  `helpers.simulation.debye.debye_intensity(atoms, q, b_iso)`. Keys: `q` (the study grid,
  0.01..19.99 1/Å, 1999 points, float64), `q_float32` / `q_float64` (the q values debyecalculator
  actually used: float32 rounds the grid by up to {q32_dev:.1e} relative, the float64 grid \
deviates by
  {q64_dev:.1e}), `cases`, `case_shape`, `case_size`, `case_element`, `case_b_iso`, `case_rnn`,
  `case_n_atoms`, `iq_float32__<case>`, `iq_float64__<case>`, `positions__<case>` (atom positions
  in Å, as built by `helpers.structures.build(shape, size, element)`), `info`. No pickled objects:
  `np.load(path)` reads it.
- `debyecalculator_f0.csv`: debyecalculator's own X-ray form factors f0(q) (electrons) of the
  study's 17 elements at q = 0, 1, 2, 5, 10, 15, 19.99 1/Å, computed in float64 from its \
coefficient
  table `debyecalculator/utility/elements_info.yaml` (Waasmaier & Kirfel 1995) with
  f0 = sum_i a_i exp(-b_i (q / 4 pi)^2) + c. Columns `element,q,f0`.

## Parameters

`DebyeCalculator(qmin=0.01, qmax=19.995, qstep=0.01, qdamp=0, biso=<case B_iso>, device='cpu',
dtype=torch.float32 | torch.float64)`, default `pair_sum='grid'`, `torch.set_num_threads(2)`.
debyecalculator builds its q grid with `torch.arange` in torch's default dtype; for the float64
curves the default dtype is set to float64 while the calculator is created, so that they lie on the
study grid itself.

## Agreement at creation time

Max over q of |a - b| / b, and ("/N²f0²") of |a - b| / (N² f0(q)²), N² f0(q)² being the size of the
largest terms of the Debye sum at q; "ours" is \
`helpers.simulation.debye.debye_intensity` on the study
grid, dc32 / dc64 are `2 * iq` in float32 / float64.

| case | N | ours vs dc64 | ours vs dc32 | dc32 vs dc64 | \
dc32 vs dc64, /N²f0² | ours vs dc32, /N²f0² | min I / max I |
|---|---|---|---|---|---|---|---|
{case_lines}

periodictable's f0 (`helpers.simulation.debye.form_factor`) vs debyecalculator's f0, \
all 17 elements:
max relative difference {f0_dev_points:.1e} at the q of the CSV and {f0_dev_grid:.1e} \
over the study grid.

The float32 curves carry float32 round-off (float32 unit round-off 6.0e-8) of the order of a few
1e-7 of N² f0(q)², the size of the largest terms of the sum; where I(q) has deep minima the pair
terms cancel most of the sum, so the same absolute error is a much larger fraction of I(q) (see
"dc32 vs dc64"). Tolerances against the float32 curves are therefore best scaled by N² f0(q)²
rather than by I(q); the float64 curves can be compared pointwise.

## Regenerate

```
pip install -r requirements-bench.txt   # torch 2.13.0 (CPU) and debyecalculator 1.1.1
.venv/bin/python tests/reference/make_reference.py
```
"""


if __name__ == "__main__":
    main()
