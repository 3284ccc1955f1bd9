"""The Debye engine against physics and against an independent brute-force double sum."""

import numpy as np
import pytest
from ase import Atoms

from helpers.simulation import debye as X
from helpers.simulation import library as D
from helpers.simulation import structures as S

Q = np.asarray(D.Q_GRID)


def brute_force_debye(atoms, q, b_iso):
    """Textbook I(q) = sum_i sum_j f_i f_j sinc(q r_ij), DW on i != j only: O(N^2 Q), written
    independently."""
    pos = atoms.get_positions()
    sym = atoms.get_chemical_symbols()
    f = np.array([X.form_factor(s, q) for s in sym])  # (N, Q)
    r = np.sqrt(((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1))
    dw = np.exp(-(q**2) * b_iso / (8 * np.pi**2))
    total = np.zeros_like(q)
    for i in range(len(pos)):
        qr = np.outer(r[i], q)
        sinc = np.where(qr == 0, 1.0, np.sin(qr) / np.where(qr == 0, 1.0, qr))
        row = f[i] * (f * sinc)  # row i of the double sum, (N, Q)
        self_term = row[i]
        total += self_term + dw * (row.sum(0) - self_term)
    return total


@pytest.mark.parametrize(
    "shape, size, element, b_iso",
    [
        ("icosahedron", 3, "Au", 0.3),
        ("cubefcc", 2, "Co", 0.1),
        ("rhombic_dodecahedron", 3, "Fe", 0.9),
        ("pentagonal_bipyramid", 4, "Pt", 0.5),
        ("dodecahedron", 2, "Sb", 0.0),
        ("tetrahedron", 5, "Si", 0.5),
    ],
)
def test_exact_against_brute_force_on_study_grid(shape, size, element, b_iso):
    atoms = S.build(shape, size, element)
    exact = brute_force_debye(atoms, Q, b_iso)
    ours = X.debye_intensity(atoms, Q, b_iso)
    assert np.max(np.abs(ours - exact) / exact) <= 1e-6  # issue asks <= 1e-4; measured ~1e-9


def test_exact_for_a_mixed_element_cluster():
    atoms = S.build("cuboctahedron", 3, "Au")
    symbols = np.array(atoms.get_chemical_symbols())
    symbols[::3] = "Co"
    symbols[1::5] = "Pd"
    atoms.set_chemical_symbols(symbols.tolist())
    exact = brute_force_debye(atoms, Q, 0.4)
    assert np.max(np.abs(X.debye_intensity(atoms, Q, 0.4) - exact) / exact) <= 1e-6


def test_exact_for_a_large_particle_at_high_q():
    """~900 atoms, q up to 19.99: where histogram binning errors would show (they grow with q)."""
    atoms = S.build("icosahedron", 6, "Ag")
    q = Q[::40].copy()
    q[-1] = Q[-1]
    exact = brute_force_debye(atoms, q, 0.1)
    assert np.max(np.abs(X.debye_intensity(atoms, q, 0.1) - exact) / exact) <= 1e-6


def test_forward_scattering_limit():
    atoms = S.build("octahedron", 4, "Cu")
    symbols = atoms.get_chemical_symbols()
    symbols[0] = "Au"
    atoms.set_chemical_symbols(symbols)
    q = np.array([1e-4, 2e-4])
    f0_sum = sum(X.form_factor(s, np.array([0.0]))[0] for s in symbols)
    assert X.debye_intensity(atoms, q, 0.5)[0] == pytest.approx(f0_sum**2, rel=1e-6)


def _peak_offsets(shape, size, element, a, hkls):
    atoms = S.build(shape, size, element)
    intensity = X.debye_intensity(atoms, Q, 0.0)
    out = []
    for hkl in hkls:
        q_theory = 2 * np.pi * np.sqrt(np.sum(np.square(hkl))) / a
        window = np.abs(Q - q_theory) < 0.15
        out.append(Q[window][np.argmax(intensity[window])] - q_theory)
    return np.array(out)


def test_bragg_peaks_of_a_large_fcc_cube():
    a = S.rnn("Au") * np.sqrt(2)
    offsets = _peak_offsets("cubefcc", 10, "Au", a, [(1, 1, 1), (2, 0, 0), (2, 2, 0), (3, 1, 1)])
    assert np.all(np.abs(offsets) <= 0.01), offsets


def test_bragg_peaks_of_the_bcc_rhombic_dodecahedron():
    """bcc peaks (110), (200), (211), (220) of the Fe rhombic dodecahedron (nShell 6, 1445 atoms).

    At nShell >= 8 the weak (200) reflection of this {110}-faceted shape is flat-topped over
    ~0.1 1/Å, so its maximum is not a position to a grid step; at nShell 6 all four are sharp.
    """
    a = 2 * S.rnn("Fe") / np.sqrt(3)
    offsets = _peak_offsets(
        "rhombic_dodecahedron", 6, "Fe", a, [(1, 1, 0), (2, 0, 0), (2, 1, 1), (2, 2, 0)]
    )
    assert np.all(np.abs(offsets) <= 0.01), offsets


@pytest.mark.parametrize(
    "shape, size",
    [("icosahedron", 5), ("cubefcc", 6), ("octahedron", 8), ("pentagonal_bipyramid", 6)],
)
def test_guinier_radius_of_gyration(shape, size):
    atoms = S.build(shape, size, "Au")
    rg = S.describe_positions(atoms.get_positions())["radius_of_gyration"]
    reduced = (
        X.debye_intensity(atoms, Q, 0.3) / X.form_factor("Au", Q) ** 2
    )  # remove the atomic form factor
    guinier = Q * rg <= 0.8
    slope = np.polyfit(Q[guinier] ** 2, np.log(reduced[guinier]), 1)[0]
    assert np.sqrt(-3 * slope) == pytest.approx(rg, rel=0.02)


def test_invariant_under_rotation_and_translation():
    atoms = S.build("pentagonal_bipyramid", 5, "Pd")
    reference = X.debye_intensity(atoms, Q, 0.3)
    moved = atoms.copy()
    rng = np.random.default_rng(7)
    axis = rng.normal(size=3)
    moved.rotate(float(rng.uniform(0, 360)), axis, center=(0, 0, 0))
    moved.translate(rng.normal(scale=50.0, size=3))
    assert np.max(np.abs(X.debye_intensity(moved, Q, 0.3) - reference) / reference) <= 1e-8


def test_debye_waller_damps_pairs_only():
    atoms = S.build("icosahedron", 3, "Ni")
    n, f = len(atoms), X.form_factor("Ni", Q)
    high_b = X.debye_intensity(atoms, Q, 1e4)  # pair terms damped away beyond q ~ 1
    np.testing.assert_allclose(high_b[Q > 2], n * f[Q > 2] ** 2, rtol=1e-9)


def test_form_factors_match_debyecalculator_table():
    """periodictable's Waasmaier-Kirfel f0 against debyecalculator's own coefficients (stored
    table)."""
    import pandas as pd

    from helpers import paths

    table = pd.read_csv(paths.ROOT / "tests" / "reference" / "debyecalculator_f0.csv")
    assert set(table["element"]) == set(S.ELEMENTS)
    for element, rows in table.groupby("element"):
        ours = X.form_factor(element, rows["q"].to_numpy())
        np.testing.assert_allclose(ours, rows["f0"].to_numpy(), rtol=1e-4, err_msg=element)


@pytest.mark.parametrize(
    "q, match",
    [
        (np.array([0.0, 0.1]), "q must be > 0"),
        (np.array([0.2, 0.1]), "strictly increasing"),
        (np.array([0.1, np.nan]), "NaN"),
        (np.zeros((2, 2)) + 1, "1-D"),
    ],
)
def test_bad_q_is_named(q, match):
    with pytest.raises(ValueError, match=match):
        X.debye_intensity(S.build("tetrahedron", 2, "Au"), q)


def test_nan_coordinates_are_named():
    atoms = Atoms("Au3", positions=[[0, 0, 0], [2.9, 0, 0], [np.nan, 0, 0]])
    with pytest.raises(ValueError, match="NaN or infinite coordinates"):
        X.debye_intensity(atoms, Q)


def test_coinciding_atoms_and_negative_b_are_named():
    with pytest.raises(ValueError, match="same position"):
        X.debye_intensity(Atoms("Au2", positions=[[0, 0, 0], [0, 0, 0]]), Q)
    with pytest.raises(ValueError, match="b_iso must be"):
        X.debye_intensity(S.build("tetrahedron", 2, "Au"), Q, -0.1)


REFERENCE = np.load(
    __import__("pathlib").Path(__file__).parent / "reference" / "debyecalculator_curves.npz"
)


@pytest.mark.parametrize("case", [str(c) for c in REFERENCE["cases"]])
def test_agrees_with_stored_debyecalculator_curves(case):
    """debyecalculator 1.1.1 (qdamp=0) returns half the Debye sum: compare 2 * iq with ours.

    Tolerances. float64 references: 1e-8 pointwise (measured <= 4e-10, the NUFFT/binning level).
    float32 references (debyecalculator's default dtype): each value is a sum of ~1e4 pair terms
    rounded at float32 epsilon 6e-8, so its absolute error scales with the largest intensity; we
    allow 1e-6 x max(I) (measured <= 2.7e-7 x max) and, because the pair sum cancels the self term
    at the minima of I(q) (I_min / I_max ~ 4e-5), 2e-4 pointwise relative (measured <= 4.4e-5).
    """
    i = list(REFERENCE["cases"]).index(case)
    atoms = Atoms(
        f"{REFERENCE['case_element'][i]}{int(REFERENCE['case_n_atoms'][i])}",
        positions=REFERENCE[f"positions__{case}"],
    )
    ours = X.debye_intensity(atoms, REFERENCE["q"], float(REFERENCE["case_b_iso"][i]))
    dc64 = 2 * REFERENCE[f"iq_float64__{case}"]
    dc32 = 2 * REFERENCE[f"iq_float32__{case}"].astype(float)
    np.testing.assert_allclose(ours, dc64, rtol=1e-8)
    assert np.max(np.abs(ours - dc32)) <= 1e-6 * ours.max()
    assert np.max(np.abs(ours - dc32) / ours) <= 2e-4
    # the stored particles are the ones our builder makes today
    built = S.build(
        str(REFERENCE["case_shape"][i]),
        int(REFERENCE["case_size"][i]),
        str(REFERENCE["case_element"][i]),
    )
    np.testing.assert_allclose(
        np.sort(built.get_positions(), axis=0),
        np.sort(REFERENCE[f"positions__{case}"], axis=0),
        atol=1e-8,
    )


def test_numpy_fallback_bins_equal_the_numba_kernel(monkeypatch):
    positions = S.unit_positions("pentagonal_bipyramid", 5)
    width = X.BIN_PHASE / (Q[-1] * 3.5)
    fused = X.pair_distance_bins(positions, None, width)
    cross = X.pair_distance_bins(positions[:100], positions[100:], width)
    monkeypatch.setattr(X, "_HAS_NUMBA", False)
    plain = X.pair_distance_bins(positions, None, width)
    plain_cross = X.pair_distance_bins(positions[:100], positions[100:], width)
    for a, b in ((fused, plain), (cross, plain_cross)):
        assert np.array_equal(a[1], b[1])
        np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
