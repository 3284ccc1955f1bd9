"""Measured-curve files: text columns and NXcanSAS read in 1/Å, every refusal names its fix."""

import h5py
import numpy as np
import pytest

from helpers.measurement import files

Q = np.linspace(0.02, 0.5, 12)  # 1/Å
I = 1e3 * np.exp(-((Q * 20) ** 2) / 5) + 1.0
SIGMA = 0.05 * I
DQ = np.full(Q.size, 0.002)


# -------------------------------------------------------------------------------- check_curve


def test_a_valid_curve_passes_and_keeps_its_nan_points():
    intensity = I.copy()
    intensity[[3, 7]] = np.nan
    files.check_curve(Q, intensity, SIGMA, DQ)
    sigma = SIGMA.copy()
    sigma[3] = np.nan  # no uncertainty needed where nothing was measured
    curve = files.MeasuredCurve(Q, intensity, sigma)
    np.testing.assert_array_equal(np.isnan(curve.intensity), np.isnan(intensity))
    with pytest.raises(ValueError, match="read-only"):
        curve.q[0] = 1.0


def _with(values, index, value):
    out = np.array(values, dtype=float)
    out[index] = value
    return out


BAD_CURVES = [
    ("lengths", dict(intensity=I[:-1]), "intensity has shape"),
    ("sigma length", dict(sigma=SIGMA[:-1]), "sigma has shape"),
    ("dq length", dict(dq=DQ[:-2]), "dq has shape"),
    ("2-D", dict(q=np.stack([Q, Q]), intensity=np.stack([I, I])), "must be 1-D"),
    ("q nan", dict(q=_with(Q, 4, np.nan)), "q is not finite at index 4"),
    ("q zero", dict(q=_with(Q, 0, 0.0)), r"q <= 0 at index 0.*remove those rows"),
    ("q negative", dict(q=_with(Q, 0, -0.01)), r"q <= 0"),
    ("q repeated", dict(q=_with(Q, 5, Q[4])), r"q repeats at index 4, index 5.*average"),
    ("q unsorted", dict(q=Q[::-1].copy()), r"q decreases at index 1.*sort the points"),
    ("q swapped", dict(q=_with(_with(Q, 2, Q[3]), 3, Q[2])), r"q decreases at index 3"),
    ("all nan", dict(intensity=np.full(Q.size, np.nan)), r"no finite value \(all NaN\)"),
    ("infinite", dict(intensity=_with(I, 2, np.inf)), r"infinite at index 2.*pass NaN"),
    (
        "few points",
        dict(intensity=_with(I, slice(0, 5), np.nan)),
        f"only 7 measured .* fewer than the {files.MIN_POINTS}",
    ),
    (
        "zero intensity",
        dict(intensity=_with(I, 6, 0.0)),
        r"<= 0 at 1 point \(index 6.*Subtract less background.*nonpositive=.mask.",
    ),
    ("negative intensity", dict(intensity=_with(I, [1, 9], -2.0)), r"<= 0 at 2 points"),
    ("sigma zero", dict(sigma=_with(SIGMA, 3, 0.0)), r"sigma is <= 0 or not finite.*index 3"),
    ("sigma nan", dict(sigma=_with(SIGMA, 8, np.nan)), r"sigma is <= 0 or not finite.*index 8"),
    ("dq negative", dict(dq=_with(DQ, 1, -0.001)), r"dq is < 0 or not finite.*index 1"),
]


@pytest.mark.parametrize("case, change, message", BAD_CURVES, ids=[c[0] for c in BAD_CURVES])
def test_check_curve_refuses_with_the_problem_and_its_fix(case, change, message):
    curve = dict(q=Q, intensity=I, sigma=SIGMA, dq=DQ) | change
    with pytest.raises(ValueError, match=message):
        files.check_curve(**curve)
    with pytest.raises(ValueError, match=message):  # no curve object holds a refused curve
        files.MeasuredCurve(**curve)


def test_check_curve_names_points_by_their_labels():
    labels = [f"line {k + 3}" for k in range(Q.size)]
    with pytest.raises(ValueError, match="q decreases at line 6"):
        files.check_curve(_with(Q, 3, 0.001), I, labels=labels)
    with pytest.raises(ValueError, match="labels has 11 names for 12 points"):
        files.check_curve(Q, I, labels=labels[1:])


# ---------------------------------------------------------------------------------------- units


def test_inverse_nanometres_are_a_tenth_of_inverse_angstroms():
    np.testing.assert_allclose(files.to_inverse_angstrom([1.0, 2.5], "1/nm"), [0.1, 0.25])
    np.testing.assert_array_equal(files.to_inverse_angstrom([1.0, 2.5], "1/Å"), [1.0, 2.5])
    for spelling in ("1/A", "A^-1", "Å^-1", "1/angstrom", "angstrom^-1", "Å⁻¹", " 1 / Angstrom "):
        assert files.canonical_q_unit(spelling) == "1/Å", spelling
    for spelling in ("nm^-1", "1/nanometer", "nm-1", "NM**-1", "nm⁻¹"):
        assert files.canonical_q_unit(spelling) == "1/nm", spelling
    assert files.canonical_q_unit("1/m") is None
    with pytest.raises(ValueError, match=r"'1/m' is not an accepted q unit.*1/Å .*1/nm"):
        files.to_inverse_angstrom([1.0], "1/m")


# ----------------------------------------------------------------------------------------- text


def _columns(*arrays, sep=" "):
    return "\n".join(sep.join(repr(float(v)) for v in row) for row in zip(*arrays)) + "\n"


def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_column_header_in_inverse_nanometres_is_converted(tmp_path):
    text = "# gold particles, run 12\nq (1/nm)  I  sigma\n" + _columns(10 * Q, I, SIGMA)
    curve = files.read_ascii(_write(tmp_path, "a.dat", text))
    np.testing.assert_allclose(curve.q, Q, rtol=1e-9)
    np.testing.assert_allclose(curve.intensity, I, rtol=1e-9)
    np.testing.assert_allclose(curve.sigma, SIGMA, rtol=1e-9)
    assert curve.dq is None
    assert curve.q_unit_read == "1/nm"
    assert curve.metadata["header"] == ["# gold particles, run 12", "q (1/nm)  I  sigma"]
    assert curve.metadata["q_unit_statement"] == "line 2: q (1/nm)  I  sigma"
    assert curve.source == str(tmp_path / "a.dat")


@pytest.mark.parametrize(
    "header, sep, unit",
    [
        ("Q [A^-1],I,dI,dQ", ",", "1/Å"),
        ("q_nm^-1;I;sigma;dq", ";", "1/nm"),
        ("% q unit: 1/nm\n%q I sigma dq", "\t", "1/nm"),
        ("# Q units = 1/A", " ", "1/Å"),
        ("q / nm^-1   I   err   res", "   ", "1/nm"),
        ("! q(Å⁻¹) I", " ", "1/Å"),
    ],
)
def test_the_unit_is_read_from_the_header_or_a_comment(tmp_path, header, sep, unit):
    factor = files.Q_UNITS[unit]
    text = header + "\n" + _columns(Q / factor, I, SIGMA, DQ / factor, sep=sep)
    curve = files.read_curve(_write(tmp_path, "c.csv", text))
    assert curve.q_unit_read == unit
    np.testing.assert_allclose(curve.q, Q, rtol=1e-9)
    np.testing.assert_allclose(curve.dq, DQ, rtol=1e-9)
    np.testing.assert_allclose(curve.sigma, SIGMA, rtol=1e-9)


def test_without_a_stated_unit_the_caller_must_give_it(tmp_path):
    path = _write(tmp_path, "plain.txt", "q I\n" + _columns(Q, I))
    with pytest.raises(ValueError, match=r'unit was not found.*q_unit="1/Å" or q_unit="1/nm"'):
        files.read_ascii(path)
    np.testing.assert_allclose(files.read_ascii(path, q_unit="1/nm").q, 0.1 * Q)
    np.testing.assert_array_equal(files.read_ascii(path, q_unit="A^-1").q, Q)
    with pytest.raises(ValueError, match="'1/cm' is not an accepted q unit"):
        files.read_ascii(path, q_unit="1/cm")


def test_an_unaccepted_stated_unit_is_reported_and_yields_to_the_caller(tmp_path):
    path = _write(tmp_path, "m.dat", "q (1/m) I\n" + _columns(1e10 * Q, I))
    with pytest.raises(ValueError, match=r"mentions '1/m' \(line 1\).*Pass q_unit="):
        files.read_ascii(path)
    path = _write(tmp_path, "n.dat", "q (1/m) I\n" + _columns(10 * Q, I))
    np.testing.assert_allclose(files.read_ascii(path, q_unit="1/nm").q, Q)


def test_a_unit_that_contradicts_the_file_is_refused(tmp_path):
    path = _write(tmp_path, "a.dat", "# q unit: 1/nm\n" + _columns(10 * Q, I))
    with pytest.raises(ValueError, match=r"states q in 1/nm \(line 1.*q_unit='1/A' was passed"):
        files.read_ascii(path, q_unit="1/A")
    np.testing.assert_allclose(files.read_ascii(path, q_unit="nm^-1").q, Q)  # agrees: fine
    both = _write(tmp_path, "b.dat", "# q unit: 1/nm\nq (1/A) I\n" + _columns(Q, I))
    with pytest.raises(ValueError, match=r"several q units \(1/nm, 1/Å"):
        files.read_ascii(both)


def test_nan_points_stay_nan_and_other_columns_are_not_q(tmp_path):
    text = "# sigma_q (1/A) is the resolution\nq (1/nm) I sigma\n"
    text += _columns(10 * Q[:3], I[:3], SIGMA[:3]) + f"{10 * Q[3]} nan nan\n"
    text += "# a comment between the rows\n\n" + _columns(10 * Q[4:], I[4:], SIGMA[4:])
    curve = files.read_ascii(_write(tmp_path, "gap.dat", text))
    assert curve.q_unit_read == "1/nm"  # 'sigma_q (1/A)' does not state the unit of q
    np.testing.assert_array_equal(np.flatnonzero(np.isnan(curve.intensity)), [3])
    assert np.isnan(curve.sigma[3])
    np.testing.assert_allclose(np.delete(curve.intensity, 3), np.delete(I, 3), rtol=1e-9)


def test_a_latin1_file_is_read(tmp_path):
    path = _write(tmp_path, "l.dat", "q (1/Å) I\n" + _columns(Q, I), encoding="latin-1")
    curve = files.read_ascii(path)
    assert curve.q_unit_read == "1/Å" and curve.metadata["encoding"] == "latin-1"


BAD_TEXT = [
    ("junk", _columns(Q[:5], I[:5]) + "0.3 oops\n" + _columns(Q[5:], I[5:]), r"line 7, column 2"),
    ("text row", _columns(Q[:5], I[:5]) + "end of part 1\n", r"line 7, column 1: 'end'"),
    ("empty field", "0.01,5,\n", r"line 2, column 3: ''.*empty field"),
    ("decimal comma", "0,01;5\n", r"line 2, column 1: '0,01'.*decimal comma"),
    ("one column", "0.1\n0.2\n", r"line 2 has 1 columns; expected 2 to 4"),
    ("five columns", "0.1 1 1 1 1\n", r"line 2 has 5 columns"),
    ("ragged", _columns(Q[:4], I[:4]) + "0.3 5 1\n", r"line 6 has 3 columns but .* with 2"),
    ("no data", "# nothing here\n", r"no numeric rows"),
    (
        "unsorted",
        _columns(Q[::-1], I),
        r"q decreases at line 3, line 4, line 5 and 8 more \(0.5 -> 0.45",
    ),
    ("negative I", _columns(Q, _with(I, 4, -1)), r"<= 0 at 1 point \(line 6"),
]


@pytest.mark.parametrize("case, body, message", BAD_TEXT, ids=[c[0] for c in BAD_TEXT])
def test_a_bad_text_file_is_refused_at_its_line(tmp_path, case, body, message):
    path = _write(tmp_path, "bad.dat", "q (1/A) I\n" + body)
    with pytest.raises(ValueError, match=message) as info:
        files.read_ascii(path)
    assert str(path) in str(info.value)


def test_a_point_count_line_is_read_and_checked(tmp_path):
    text = f"# q (1/nm) I sigma\n {Q.size}\n" + _columns(10 * Q, I, SIGMA)
    curve = files.read_ascii(_write(tmp_path, "count.txt", text))
    np.testing.assert_allclose(curve.q, Q, rtol=1e-9)
    assert curve.metadata["point_count_line"] == 2
    wrong = f"# q (1/nm) I sigma\n{Q.size + 3}\n" + _columns(10 * Q, I, SIGMA)
    with pytest.raises(ValueError, match=rf"line 2 holds one number, {Q.size + 3}.*12 rows"):
        files.read_ascii(_write(tmp_path, "wrong.txt", wrong))


def test_intensities_at_or_below_zero_are_refused_or_masked_on_request(tmp_path):
    values = _with(_with(I, 4, -0.5), 9, 0.0)
    path = _write(tmp_path, "subtracted.dat", "q (1/A) I\n" + _columns(Q, values))
    with pytest.raises(ValueError, match="nonpositive='mask'"):
        files.read_curve(path)
    curve = files.read_curve(path, nonpositive="mask")
    assert np.isnan(curve.intensity[[4, 9]]).all()
    assert np.isfinite(np.delete(curve.intensity, [4, 9])).all()
    assert curve.metadata["masked_nonpositive"] == ["line 6", "line 11"]
    with pytest.raises(ValueError, match="nonpositive must be one of"):
        files.read_curve(path, nonpositive="clip")


def test_write_ascii_round_trips_in_either_unit(tmp_path):
    values = _with(I, 3, np.nan)
    for unit in ("1/nm", "1/Å"):
        path = files.write_ascii(tmp_path / "w.dat", Q, values, SIGMA, unit, comments=["run 1"])
        curve = files.read_curve(path)
        assert curve.q_unit_read == unit and curve.metadata["header"][0] == "# run 1"
        np.testing.assert_allclose(curve.q, Q, rtol=1e-9)
        np.testing.assert_allclose(curve.intensity, values, rtol=1e-9)
        np.testing.assert_allclose(curve.sigma, SIGMA, rtol=1e-9)
    assert [p.name for p in tmp_path.iterdir()] == ["w.dat"]
    with pytest.raises(ValueError, match="<= 0"):
        files.write_ascii(tmp_path / "bad.dat", Q, -I)
    assert not (tmp_path / "bad.dat").exists()


def test_an_element_comment_is_read_and_written(tmp_path):
    path = _write(tmp_path, "e.dat", "# Element = Pt\nq (1/nm) I\n" + _columns(10 * Q, I))
    curve = files.read_curve(path)
    assert curve.element == "Pt" and curve.metadata["element_statement"] == "line 1: Element = Pt"
    plain = files.read_curve(_write(tmp_path, "p.dat", "q (1/nm) I\n" + _columns(10 * Q, I)))
    assert plain.element is None and plain.metadata["element_statement"] is None
    # a header line states it as a comment does; a line mentioning an element among other
    # words states nothing
    header = _write(tmp_path, "h.dat", "element: Au\nq (1/nm) I\n" + _columns(10 * Q, I))
    assert files.read_curve(header).element == "Au"
    other = _write(tmp_path, "o.dat", "# element: Au, 5 nm\nq (1/nm) I\n" + _columns(10 * Q, I))
    with pytest.raises(ValueError, match="'Au, 5 nm', which is not a chemical symbol"):
        files.read_curve(other)
    words = _write(tmp_path, "n.dat", "# the element analysis\nq (1/nm) I\n" + _columns(10 * Q, I))
    assert files.read_curve(words).element is None
    written = files.write_ascii(tmp_path / "w.dat", Q, I, element="Au", comments=["run 1"])
    assert files.read_curve(written).element == "Au"
    with pytest.raises(ValueError, match="not a chemical symbol"):
        files.write_ascii(tmp_path / "x.dat", Q, I, element="gold")
    with pytest.raises(ValueError, match="not a chemical symbol"):
        files.MeasuredCurve(Q, I, element="AU")


@pytest.mark.parametrize(
    "comments, message",
    [
        ("# element: gold\n", r"line 1 states the element as 'gold'.*e\.g\. '# element: Au'"),
        ("# element: Au\n# element: Pt\n", "several elements.*line 1.*line 2"),
    ],
    ids=["not a symbol", "two elements"],
)
def test_a_bad_element_comment_is_refused_at_its_line(tmp_path, comments, message):
    path = _write(tmp_path, "e.dat", comments + "q (1/nm) I\n" + _columns(10 * Q, I))
    with pytest.raises(ValueError, match=message):
        files.read_curve(path)


# ------------------------------------------------------------------------------------- NXcanSAS


def _nxcansas(path, q=10 * Q, units="1/nm", entries=("sasentry01",)):
    """A file in the NXcanSAS layout: per entry, title, run, sample and instrument names, and
    one SASdata group with Q, I, Idev, Qdev."""
    with h5py.File(path, "w") as f:
        for k, name in enumerate(entries):
            entry = f.create_group(name)
            entry.attrs.update(NX_class="NXentry", canSAS_class="SASentry", version="1.1")
            entry["definition"] = "NXcanSAS"
            entry["title"] = f"Au nanoparticles {k}"
            entry["run"] = str(1000 + k)
            data = entry.create_group("sasdata01")
            data.attrs.update(NX_class="NXdata", canSAS_class="SASdata", signal="I", I_axes="Q")
            data["Q"] = q
            data["Q"].attrs.update(units=units, resolutions="Qdev")
            data["Qdev"] = 10 * DQ
            data["Qdev"].attrs["units"] = units
            data["I"] = I
            data["I"].attrs.update(units="1/cm", uncertainties="Idev")
            data["Idev"] = SIGMA
            sample = entry.create_group("sassample")
            sample.attrs.update(NX_class="NXsample", canSAS_class="SASsample")
            sample["name"] = "AuNP-12"
            instrument = entry.create_group("sasinstrument")
            instrument.attrs.update(NX_class="NXinstrument", canSAS_class="SASinstrument")
            instrument["name"] = "ID02"
            transmission = entry.create_group("sastransmission_spectrum")
            transmission.attrs.update(NX_class="NXdata", canSAS_class="SAStransmission_spectrum")
    return path


def test_nxcansas_q_idev_qdev_and_metadata_are_read(tmp_path):
    curve = files.read_curve(_nxcansas(tmp_path / "a.h5"))
    np.testing.assert_allclose(curve.q, Q, rtol=1e-12)
    np.testing.assert_allclose(curve.dq, DQ, rtol=1e-12)
    np.testing.assert_array_equal(curve.intensity, I)
    np.testing.assert_array_equal(curve.sigma, SIGMA)
    assert curve.q_unit_read == "1/nm"
    assert curve.metadata == {
        "format": "NXcanSAS",
        "entry": "sasentry01/sasdata01",
        "title": "Au nanoparticles 0",
        "run": "1000",
        "sample": "AuNP-12",
        "instrument": "ID02",
    }
    angstrom = files.read_nxcansas(_nxcansas(tmp_path / "b.nxs", q=Q, units="1/angstrom"))
    np.testing.assert_array_equal(angstrom.q, Q)
    assert curve.element is None


@pytest.mark.parametrize("formula, element", [("Au", "Au"), ("Pt C", None), ("gold", None)])
def test_nxcansas_a_sample_formula_of_one_element_states_it(tmp_path, formula, element):
    path = _nxcansas(tmp_path / "a.h5")
    with h5py.File(path, "a") as f:
        f["sasentry01/sassample/chemical_formula"] = formula
    curve = files.read_curve(path)
    assert curve.element == element and curve.metadata["chemical_formula"] == formula


def test_nxcansas_without_q_units_needs_the_caller(tmp_path):
    path = _nxcansas(tmp_path / "a.h5")
    with h5py.File(path, "a") as f:
        del f["sasentry01/sasdata01/Q"].attrs["units"]
        del f["sasentry01/sasdata01/Qdev"].attrs["units"]
    with pytest.raises(ValueError, match=r"no 'units' attribute.*q_unit=\"1/Å\" or"):
        files.read_nxcansas(path)
    curve = files.read_nxcansas(path, q_unit="1/nm")
    np.testing.assert_allclose(curve.q, Q, rtol=1e-12)
    np.testing.assert_allclose(curve.dq, DQ, rtol=1e-12)


def test_nxcansas_units_that_disagree_or_are_unknown_are_refused(tmp_path):
    path = _nxcansas(tmp_path / "a.h5")
    with pytest.raises(ValueError, match=r"says '1/nm' but q_unit='1/Å' was passed"):
        files.read_curve(path, q_unit="1/Å")
    other = _nxcansas(tmp_path / "m.h5", q=1e10 * Q, units="1/m")
    with pytest.raises(ValueError, match=r"Q is in '1/m', which is not an accepted q unit"):
        files.read_nxcansas(other)


def test_nxcansas_with_several_curves_asks_which(tmp_path):
    path = _nxcansas(tmp_path / "two.h5", entries=("sasentry01", "sasentry02"))
    with pytest.raises(
        ValueError, match=r"several curves, 'sasentry01/sasdata01', 'sasentry02/sasdata01'"
    ):
        files.read_nxcansas(path)
    assert files.read_curve(path, entry="sasentry02").metadata["title"] == "Au nanoparticles 1"
    second = files.read_nxcansas(path, entry="sasentry02/sasdata01")
    assert second.metadata["run"] == "1001"
    with pytest.raises(ValueError, match=r"no data group 'sasentry03'.*'sasentry01/sasdata01'"):
        files.read_nxcansas(path, entry="sasentry03")


def test_nxcansas_detector_images_are_refused(tmp_path):
    path = tmp_path / "image.h5"
    with h5py.File(path, "w") as f:
        entry = f.create_group("sasentry01")
        entry.attrs.update(NX_class="NXentry", canSAS_class="SASentry")
        data = entry.create_group("sasdata01")
        data.attrs.update(NX_class="NXdata", canSAS_class="SASdata", signal="I", I_axes="Q,Q")
        data["Q"] = np.ones((2, 16, 16))
        data["Q"].attrs["units"] = "1/angstrom"
        data["I"] = np.ones((16, 16))
    with pytest.raises(ValueError, match=r"shape \(16, 16\).*Only reduced 1-D curves"):
        files.read_nxcansas(path)


def test_nxcansas_scaling_factor_is_applied_and_the_mask_returned(tmp_path):
    path = _nxcansas(tmp_path / "a.h5")
    mask = np.isin(np.arange(Q.size), [0, 5])
    with h5py.File(path, "a") as f:
        f["sasentry01/sasdata01/Mask"] = mask
        f["sasentry01/sasdata01/I_scaling"] = 2.5
        f["sasentry01/sasdata01/I"].attrs["scaling_factor"] = "I_scaling"
    curve = files.read_nxcansas(path)
    np.testing.assert_allclose(curve.intensity, 2.5 * I)
    np.testing.assert_allclose(curve.sigma, 2.5 * SIGMA)
    assert curve.metadata["scaling_factor"] == 2.5
    np.testing.assert_array_equal(curve.metadata["mask"], mask)
    assert not np.isnan(curve.intensity).any()  # the mask is the caller's to apply


def _set_attr(group, dataset, name, value):
    group[dataset].attrs[name] = value


def _replace(group, name, values):
    del group[name]
    group[name] = values


BROKEN_NXCANSAS = [
    ("no signal", lambda d: d.attrs.update(signal="Intensity"), r"intensity 'Intensity'"),
    ("no q axis", lambda d: d.attrs.update(I_axes="Qmod"), r"the q axis 'Qmod' named by I_axes"),
    ("short q", lambda d: _replace(d, "Q", 10 * Q[:-1]), r"Q has shape \(11,\) but I has \(12,"),
    ("idev named", lambda d: _set_attr(d, "I", "uncertainties", "Ierr"), r"names 'Ierr'"),
    ("two idevs", lambda d: _set_attr(d, "I", "uncertainties", "Idev,Ierr"), "names several"),
    ("no scale", lambda d: _set_attr(d, "I", "scaling_factor", "k"), r"scaling_factor names 'k'"),
    (
        "scale shape",
        lambda d: (
            d.create_dataset("k", data=[1.0, 2.0]),
            _set_attr(d, "I", "scaling_factor", "k"),
        ),
        r"scaling factor 'k' has shape \(2,\)",
    ),
    ("bad idev", lambda d: d["Idev"].__setitem__(3, 0.0), r"sasdata01: sigma is <= 0 .*index 3"),
]


@pytest.mark.parametrize(
    "case, edit, message", BROKEN_NXCANSAS, ids=[c[0] for c in BROKEN_NXCANSAS]
)
def test_a_broken_nxcansas_group_is_refused(tmp_path, case, edit, message):
    path = _nxcansas(tmp_path / "a.h5")
    with h5py.File(path, "a") as f:
        edit(f["sasentry01/sasdata01"])
    with pytest.raises(ValueError, match=message):
        files.read_nxcansas(path)


def test_files_without_an_nxcansas_curve_are_refused(tmp_path):
    empty = tmp_path / "empty.h5"
    with h5py.File(empty, "w") as f:
        f.create_group("entry").attrs["NX_class"] = "NXentry"
    with pytest.raises(ValueError, match=r"no NXcanSAS data group found \(entries: 'entry'\)"):
        files.read_nxcansas(empty)
    fake = _write(tmp_path, "fake.h5", "q I\n")
    with pytest.raises(ValueError, match="not an HDF5 file"):
        files.read_curve(fake)


# ------------------------------------------------------------------------------------- dispatch


def test_read_curve_names_missing_files_and_unknown_formats(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.dat"):
        files.read_curve(tmp_path / "nowhere.dat")
    odd = _write(tmp_path, "curve.xlsx", "")
    with pytest.raises(ValueError, match=r"unknown file type '.xlsx'.*\.dat.*\.csv.*\.nxs"):
        files.read_curve(odd)
    text = _write(tmp_path, "c.DAT", "q (1/A) I\n" + _columns(Q, I))
    np.testing.assert_array_equal(files.read_curve(text).q, Q)  # suffix case does not matter
    with pytest.raises(ValueError, match="entry= chooses a curve in an NXcanSAS file"):
        files.read_curve(text, entry="sasentry01")


# ---------------------------------------------------------------------------------- unit sanity


def test_a_q_range_ten_times_off_is_flagged():
    saxs_waxs = np.linspace(0.01, 20, 50)  # 1/Å, the study's range
    assert files.looks_like_wrong_unit(saxs_waxs) is None
    assert files.looks_like_wrong_unit(np.linspace(0.005, 0.5, 50)) is None  # SAXS only
    assert "read as 1/nm" in files.looks_like_wrong_unit(0.1 * np.linspace(0.005, 0.4, 50))
    assert "read as 1/Å" in files.looks_like_wrong_unit(10 * saxs_waxs)
    with pytest.raises(ValueError, match="no finite value"):
        files.looks_like_wrong_unit([np.nan])
