"""Measured curves I(q) from the files people have: text columns and NXcanSAS HDF5.

Every reader returns a :class:`MeasuredCurve` with q in Å⁻¹, whatever unit the file used, and
checks it with :func:`check_curve`. Nothing is guessed and nothing is repaired: a file that does
not say its q unit must be read with ``q_unit=``, a file whose unit disagrees with ``q_unit=`` is
refused, and unsorted or repeated q, non-positive intensities and bad uncertainties raise a
``ValueError`` that names the problem and what to do about it. Missing points stay NaN.

Formats (:func:`read_curve` picks one by the file's suffix):

- **text** (:func:`read_ascii`; ``.dat``, ``.txt``, ``.csv``): 2 to 4 numeric columns in the order
  q, I, σ(I), σ(q), separated by whitespace, commas or semicolons (one separator per file, taken
  from the first data row). Comment lines start with ``#``, ``%``, ``!`` or ``;``; lines without
  numbers before the first data row (a title, the column names) are a header. The q unit is read
  from the header or the comments when they state it: a column name such as ``q (1/nm)``,
  ``Q [A^-1]``, ``q_nm^-1`` or ``q / nm^-1``, or a comment such as ``# q unit: 1/nm``. A header
  or comment line ``element: Au`` (or ``# element = Au``) states the particles' element
  (:attr:`MeasuredCurve.element`).
- **NXcanSAS** (:func:`read_nxcansas`; ``.h5``, ``.hdf5``, ``.nxs``, ``.hdf``): the canSAS
  standard's HDF5 layout of reduced small-angle data, a ``SASentry`` group (``NXentry``) holding a
  ``SASdata`` group (``NXdata``) with the datasets ``Q`` (``units`` attribute), ``I``, and
  optionally ``Idev`` (σ of I) and ``Qdev`` (σ of q). Only 1-D curves are read. A ``SASsample``
  (``NXsample``) whose ``chemical_formula`` is one element's symbol states that element.

Units: q and σ(q) in Å⁻¹ (:data:`Q_UNITS` lists what a file may use); I and σ(I) in the file's own
(arbitrary) units, unchanged. :func:`looks_like_wrong_unit` flags a q range that suggests values
in the wrong unit (a factor 10 off); it only warns.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from .. import paths

#: The fewest measured (finite) points a curve may have: a chosen floor, not a derived one. A
#: handful of points can hardly show both the low-q plateau and the decay of a particle's curve,
#: and is more likely a wrongly read file (a header taken for data, one curve split in two); the
#: study's curves have hundreds of points.
MIN_POINTS = 8

#: Accepted q units and the factor that takes a value in that unit to Å⁻¹.
Q_UNITS = {"1/Å": 1.0, "1/nm": 0.1}

#: Other spellings of each unit of :data:`Q_UNITS`. Case, spaces, ``^`` and ``**``, and
#: superscripts (``Å⁻¹``) do not matter: ``1/a``, ``A-1`` and ``Å⁻¹`` are all ``1/Å``.
Q_UNIT_ALIASES = {
    "1/Å": ("1/A", "A^-1", "Å^-1", "A-1", "1/angstrom", "angstrom^-1", "1/ångström"),
    "1/nm": ("nm^-1", "nm-1", "1/nanometer", "1/nanometre", "nanometer^-1"),
}

ASCII_SUFFIXES = (".dat", ".txt", ".csv")
NXCANSAS_SUFFIXES = (".h5", ".hdf5", ".nxs", ".hdf")
COMMENT_STARTS = ("#", "%", "!", ";")


def _unit_key(text: str) -> str:
    """A spelling of a unit reduced to compare equal to its other spellings."""
    key = unicodedata.normalize("NFKC", text).casefold()  # Å⁻¹ -> å−1, angstrom sign -> å
    key = re.sub(r"\s+", "", key).replace("−", "-").replace("**", "^").replace("^", "")
    return key


_UNIT_LOOKUP = {
    _unit_key(spelling): unit
    for unit, aliases in Q_UNIT_ALIASES.items()
    for spelling in (unit, *aliases)
}


def _accepted() -> str:
    return "; ".join(f"{u} (also {', '.join(a)})" for u, a in Q_UNIT_ALIASES.items())


def canonical_q_unit(unit: str) -> str | None:
    """The name in :data:`Q_UNITS` of a unit spelled ``unit`` (``"A^-1"`` -> ``"1/Å"``), or
    None if it is none of them."""
    return _UNIT_LOOKUP.get(_unit_key(str(unit)))


def _require_unit(unit: str, what: str = "q_unit") -> str:
    name = canonical_q_unit(unit)
    if name is None:
        raise ValueError(
            f"{what}={unit!r} is not an accepted q unit. Accepted: {_accepted()}. "
            "Give one of them (convert q first if it is in another unit)."
        )
    return name


def to_inverse_angstrom(q, unit: str) -> np.ndarray:
    """q (or σ(q)) given in ``unit`` (any spelling of :data:`Q_UNITS`), as a float array in Å⁻¹.
    1 nm⁻¹ = 0.1 Å⁻¹."""
    return np.asarray(q, dtype=float) * Q_UNITS[_require_unit(unit, "unit")]


# --------------------------------------------------------------------------------------- checks


def _where(labels, index) -> str:
    """'line 12' or 'index 3' (and up to two more) for the points ``index`` (array of ints)."""
    names = [labels[i] if labels is not None else f"index {i}" for i in index[:3]]
    more = f" and {index.size - 3} more" if index.size > 3 else ""
    return ", ".join(names) + more


def _points(n: int, kind: str = "") -> str:
    return f"{n} {kind}point" + ("" if n == 1 else "s")


def check_curve(q, intensity, sigma=None, dq=None, *, labels=None) -> None:
    """Raise a ``ValueError`` that names the problem and its fix unless ``q, intensity`` (and the
    optional ``sigma`` = σ(I), ``dq`` = σ(q)) form a usable measured curve:

    - all are 1-D and of the same length;
    - q is finite, > 0 and strictly increasing (no repeated value); the unit does not matter;
    - intensity is NaN where a point is missing and finite and > 0 elsewhere (no ±inf), with at
      least :data:`MIN_POINTS` finite points;
    - where the intensity is finite, sigma is finite and > 0 and dq finite and >= 0 (0: no
      resolution given for that point); where it is NaN, they may be anything.

    Nothing is sorted, dropped, clipped or filled. ``labels``: one name per point for the
    messages (e.g. ``"line 12"``), default ``"index k"``."""
    q = np.asarray(q, dtype=float)
    intensity = np.asarray(intensity, dtype=float)
    if q.ndim != 1 or intensity.ndim != 1:
        raise ValueError(
            f"q and intensity must be 1-D (got shapes {q.shape} and {intensity.shape}): give one "
            "curve at a time, one intensity per q."
        )
    for name, values in (("intensity", intensity), ("sigma", sigma), ("dq", dq)):
        if values is not None and np.shape(values) != q.shape:
            raise ValueError(
                f"{name} has shape {np.shape(values)} but q has {q.shape}: give one {name} value "
                "per q point (nan where the value is missing)."
            )
    if labels is not None and len(labels) != q.size:
        raise ValueError(f"labels has {len(labels)} names for {q.size} points: give one per q.")

    bad = np.flatnonzero(~np.isfinite(q))
    if bad.size:
        raise ValueError(
            f"q is not finite at {_where(labels, bad)}: every point needs its q; remove the rows "
            "whose q is missing."
        )
    bad = np.flatnonzero(q <= 0)
    if bad.size:
        raise ValueError(
            f"q <= 0 at {_where(labels, bad)} (q = {q[bad[0]]:g}): a measured curve starts at "
            "q > 0 (q = 0 is the direct beam, behind the beamstop); remove those rows."
        )
    sorted_q = np.sort(q)
    repeated = np.flatnonzero(np.isin(q, sorted_q[1:][np.diff(sorted_q) == 0]))
    if repeated.size:
        raise ValueError(
            f"q repeats at {_where(labels, repeated)} (q = {q[repeated[0]]:g}): a curve has one "
            "intensity per q; average the repeated points or keep one of them (if the file holds "
            "two curves one after the other, split it)."
        )
    bad = np.flatnonzero(np.diff(q) < 0) + 1
    if bad.size:
        raise ValueError(
            f"q decreases at {_where(labels, bad)} ({q[bad[0] - 1]:g} -> {q[bad[0]]:g}): sort the "
            "points by increasing q (if the file holds two curves one after the other, split it)."
        )

    bad = np.flatnonzero(np.isinf(intensity))
    if bad.size:
        raise ValueError(
            f"the intensity is infinite at {_where(labels, bad)}: pass NaN for points that were "
            "not measured."
        )
    measured = np.isfinite(intensity)
    if not measured.any():
        raise ValueError(
            "the intensity holds no finite value (all NaN): nothing was measured; check that the "
            "intensity column is the second one and that the file holds a reduced curve."
        )
    if measured.sum() < MIN_POINTS:
        raise ValueError(
            f"only {measured.sum()} measured (finite) intensities, fewer than the {MIN_POINTS} a "
            "curve needs: give a curve with more points (check the q window and the masked or "
            "NaN points)."
        )
    bad = np.flatnonzero(measured & (intensity <= 0))
    if bad.size:
        raise ValueError(
            f"the intensity is <= 0 at {_points(bad.size)} ({_where(labels, bad)}; first "
            f"I = {intensity[bad[0]]:g} at q = {q[bad[0]]:g}): intensities must be > 0 (the "
            "models read log I). Subtract less background, or read them as not measured: pass "
            "NaN for them, or read the file with nonpositive='mask' (command line: "
            "--mask-nonpositive)."
        )
    for name, values, low, rule in (
        ("sigma", sigma, "<= 0", "finite and > 0"),
        ("dq", dq, "< 0", "finite and >= 0"),
    ):
        if values is None:
            continue
        values = np.asarray(values, dtype=float)
        ok = np.isfinite(values) & ((values > 0) if name == "sigma" else (values >= 0))
        bad = np.flatnonzero(measured & ~ok)
        if bad.size:
            raise ValueError(
                f"{name} is {low} or not finite at {_points(bad.size, 'measured ')} "
                f"({_where(labels, bad)}; first {name} = {values[bad[0]]:g}): it must be {rule} "
                f"wherever the intensity is measured. Correct the file's {name} column, pass NaN "
                f"intensity for those points, or read the curve without {name}."
            )


@dataclass(frozen=True, eq=False)
class MeasuredCurve:
    """One measured curve, checked by :func:`check_curve` when it is made.

    ``q``: 1/Å, strictly increasing, > 0. ``intensity``: the file's (arbitrary) units, NaN where a
    point is missing. ``sigma``: the standard deviation of the intensity (same units) or None.
    ``dq``: the standard deviation of q (1/Å; the instrument's resolution) or None.
    ``q_unit_read``: the unit the file's q was in (a key of :data:`Q_UNITS`), as stated by the
    file or given by the caller. ``source``: the file as given. ``metadata``: what the file said
    (header lines, title, sample, instrument ..., depending on the format). ``element``: the
    particles' element as the file states it (a chemical symbol such as ``"Au"``), or None.

    The arrays are read-only copies."""

    q: np.ndarray
    intensity: np.ndarray
    sigma: np.ndarray | None = None
    dq: np.ndarray | None = None
    q_unit_read: str = "1/Å"
    source: str = ""
    metadata: dict = field(default_factory=dict)
    element: str | None = None

    def __post_init__(self):
        check_curve(self.q, self.intensity, self.sigma, self.dq)
        if self.element is not None and not is_element_symbol(self.element):
            raise ValueError(
                f"element {self.element!r} is not a chemical symbol: give one such as 'Au', "
                "or None."
            )
        for name in ("q", "intensity", "sigma", "dq"):
            value = getattr(self, name)
            if value is not None:
                value = np.array(value, dtype=float)
                value.flags.writeable = False
                object.__setattr__(self, name, value)
        object.__setattr__(self, "q_unit_read", _require_unit(self.q_unit_read, "q_unit_read"))
        object.__setattr__(self, "source", str(self.source))


def looks_like_wrong_unit(q) -> str | None:
    """A warning if the range of ``q`` (1/Å) suggests that the file's q was in another unit than
    the one it was read in (a factor 10 off), else None. Never changes anything.

    - q_max < 0.05 Å⁻¹: the curve stops before the first form-factor minimum (q R ≈ 4.49) of any
      particle smaller than 18 nm across, so it shows nothing of the particles this project
      studies (1 to 15 nm). Typical of values in 1/Å read as 1/nm (a SAXS curve to 0.5 Å⁻¹
      becomes one to 0.05 Å⁻¹).
    - q_max > 50 Å⁻¹: beyond what X-ray scattering reaches in practice (q_max = 4π/λ needs
      λ < 0.25 Å, about 50 keV, to pass 50 Å⁻¹, and total-scattering data are rarely usable past
      ~40 Å⁻¹). Typical of values in 1/nm read as 1/Å (a SAXS+WAXS curve to 20 Å⁻¹ becomes one to
      200 Å⁻¹). The study's own grid stops at 20 Å⁻¹.

    A genuine ultra-small-angle curve also ends below 0.05 Å⁻¹: the warning is a prompt to check
    the unit, not a verdict."""
    q = np.asarray(q, dtype=float)
    q = q[np.isfinite(q)]
    if q.size == 0:
        raise ValueError("q holds no finite value: check the curve first (check_curve).")
    q_max = q.max()
    if q_max < 0.05:
        return (
            f"q ends at {q_max:.3g} 1/Å, before any feature of a particle smaller than ~18 nm: "
            "were the values in 1/Å but read as 1/nm? Check the file's q unit."
        )
    if q_max > 50:
        return (
            f"q reaches {q_max:.3g} 1/Å, beyond what X-ray scattering measures (~50 1/Å at "
            "most): were the values in 1/nm but read as 1/Å? Check the file's q unit."
        )
    return None


# ---------------------------------------------------------------------------------------- text

_UNIT = r"(?P<unit>[^\s,;]+)"
_BEFORE = r"(?<![\w.])[qQ]"  # q as a word of its own: not dq, sigma_q or q.5
#: How a header or comment states the q unit: q (unit), q [unit], q_unit, q / unit, "q unit: u".
_UNIT_STATEMENTS = (
    re.compile(_BEFORE + r"\s*[(\[{]\s*(?P<unit>[^)\]}]+?)\s*[)\]}]"),
    re.compile(_BEFORE + r"_(?!units?\b)" + _UNIT),
    re.compile(_BEFORE + r"\s*/\s*" + _UNIT),
    re.compile(_BEFORE + r"[\s_-]*units?\s*(?:[:=]|is\b|in\b)?\s*" + _UNIT, re.IGNORECASE),
)


#: How a comment states the particles' element: "element: Au" or "element = Au".
_ELEMENT_STATEMENT = re.compile(r"^\s*element\s*[:=]\s*(?P<value>.*?)\s*$", re.IGNORECASE)
_SYMBOL = re.compile(r"[A-Z][a-z]?")


def is_element_symbol(text) -> bool:
    """Whether ``text`` is spelled as a chemical symbol (a capital, then at most one small
    letter); whether that element is one a model knows is the model's question."""
    return isinstance(text, str) and _SYMBOL.fullmatch(text) is not None


def _stated_element(path, lines) -> tuple[str | None, str | None]:
    """(element, "line n: text") stated by header or comment ``lines`` [(line number, text)], or
    (None, None); a statement that is not a chemical symbol, or two that differ, raise."""
    found = []
    for number, text in lines:
        match = _ELEMENT_STATEMENT.match(text)
        if match is None:
            continue
        value = match.group("value")
        if not is_element_symbol(value):
            raise ValueError(
                f"{path}: line {number} states the element as {value!r}, which is not a chemical "
                "symbol. Write it as one, e.g. '# element: Au', or remove the line."
            )
        found.append((number, text.strip(), value))
    if len({value for _, _, value in found}) > 1:
        where = "; ".join(f"line {n}: {text!r}" for n, text, _ in found)
        raise ValueError(
            f"{path}: the file states several elements ({where}). Keep the one line that is right."
        )
    if not found:
        return None, None
    number, text, value = found[0]
    return value, f"line {number}: {text}"


def _stated_units(lines):
    """[(line number, text, unit as written)] of every q-unit statement in (number, text) lines."""
    found = []
    for number, text in lines:
        for pattern in _UNIT_STATEMENTS:
            for match in pattern.finditer(text):
                found.append((number, text.strip(), match.group("unit")))
    return found


def _decode(raw: bytes) -> tuple[str, str]:
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"  # every byte is a character: never fails


def _existing(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no file at {str(path)!r}: check the path.")
    return path


def _q_unit_of_file(path, stated, unrecognised, q_unit):
    """The q unit to read ``path`` with, from the file's statements and the caller's ``q_unit``."""
    units = sorted({unit for _, _, unit in stated})
    where = "; ".join(f"line {n}: {text!r}" for n, text, _ in stated)
    if len(units) > 1:
        raise ValueError(
            f"{path}: the file states several q units ({', '.join(units)}; {where}). Correct the "
            "header so that it states one."
        )
    if q_unit is not None:
        given = _require_unit(q_unit)
        if units and units[0] != given:
            raise ValueError(
                f"{path}: the file states q in {units[0]} ({where}) but q_unit={q_unit!r} was "
                "passed. Leave q_unit out to use the file's unit, or correct the file's header if "
                "it is wrong."
            )
        return given
    if units:
        return units[0]
    seen = ""
    if unrecognised:
        seen = " The header mentions " + "; ".join(
            f"{unit!r} (line {n})" for n, _, unit in unrecognised
        )
        seen += f", which is not an accepted unit ({', '.join(Q_UNITS)})."
    raise ValueError(
        f"{path}: the q unit was not found in the file (looked for a column name such as "
        f"'q (1/nm)' or 'Q [A^-1]', or a comment such as '# q unit: 1/nm').{seen} Pass "
        'q_unit="1/Å" or q_unit="1/nm", whichever the q column is in; the reader never '
        "assumes one."
    )


_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+(e[-+]?\d+)?", re.IGNORECASE)


def _numbers(fields):
    """(floats, None) for fields that are all numbers, else (None, (column, field)) of the first
    that is not (columns counted from 1)."""
    values = []
    for column, value in enumerate(fields, start=1):
        try:
            values.append(float(value.strip()))
        except ValueError:
            return None, (column, value.strip())
    return values, None


#: what a reader does with measured intensities <= 0: refuse the file (the default) or read them
#: as points not measured (NaN), counted in the curve's metadata
NONPOSITIVE = ("error", "mask")


def _nonpositive_rule(nonpositive: str) -> str:
    if nonpositive not in NONPOSITIVE:
        raise ValueError(
            f"nonpositive must be one of {NONPOSITIVE}, got {nonpositive!r}: 'mask' reads "
            "intensities <= 0 as points not measured."
        )
    return nonpositive


def mask_nonpositive(intensity, labels=None) -> tuple[np.ndarray, list[str]]:
    """(intensity with NaN where it was <= 0, the labels of those points). Background-subtracted
    curves scatter around 0 where the particles no longer scatter (and some files write 0 where
    nothing was recorded): such points carry no log-intensity and are read as not measured."""
    intensity = np.array(intensity, dtype=float)
    bad = np.flatnonzero(np.isfinite(intensity) & (intensity <= 0))
    intensity[bad] = np.nan
    names = [labels[k] if labels is not None else f"index {k}" for k in bad]
    return intensity, names


def read_ascii(path, q_unit: str | None = None, nonpositive: str = "error") -> MeasuredCurve:
    """Read a curve from a text file of 2 to 4 columns: q, I, σ(I), σ(q) (module doc).

    ``q_unit``: the unit of the q (and σ(q)) column, any spelling of :data:`Q_UNITS`. Needed when
    the file does not state it; when it does, ``q_unit`` may be left out, and a different one
    raises. A stated unit that is not an accepted one is reported when ``q_unit`` is left out and
    ignored when it is given. Numbers: ``nan`` marks a missing intensity; ``1e-3`` style is read,
    decimal commas are not. The file is read as UTF-8, else as Latin-1. A line holding one whole
    number before the first data row is read as the count of data rows (some instruments write
    one) and must equal it. ``nonpositive``: "error" (default) refuses intensities <= 0; "mask"
    reads them as not measured (NaN) and lists them in ``metadata["masked_nonpositive"]``.

    ``metadata``: ``header`` (the comment and header lines, in order), ``q_unit_statement`` (the
    line that stated the unit, or None), ``element_statement`` (the line that stated the
    element, e.g. ``# element: Au``, or None), ``encoding``, ``format`` (``"text"``),
    ``masked_nonpositive`` (the lines read as not measured), ``point_count_line``."""
    _nonpositive_rule(nonpositive)
    path_ = _existing(path)
    count_line = None
    text, encoding = _decode(path_.read_bytes())
    header, data_lines, notes = [], [], []
    separator = None
    width = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(COMMENT_STARTS):
            header.append(line)
            notes.append((number, stripped.lstrip("#%!;")))
            continue
        if separator is None:
            separator = ";" if ";" in stripped else "," if "," in stripped else None
        fields = stripped.split(separator)
        values, bad = _numbers(fields)
        if bad is not None:
            column, value = bad
            decimal_comma = _DECIMAL_COMMA.fullmatch(value) is not None
            if not data_lines and column == 1 and not decimal_comma:  # a header line
                header.append(line)
                notes.append((number, stripped))
                separator = None  # the header's separator says nothing of the data's
                continue
            hint = ""
            if value == "":
                hint = " (an empty field: write nan for a missing value)"
            elif decimal_comma:
                hint = " (a decimal comma: write numbers with a decimal point)"
            raise ValueError(
                f"{path}: line {number}, column {column}: {value!r} is not a number{hint}. "
                "Every line after the header must hold numbers only; start comment lines with #, "
                "or remove the line."
            )
        if (
            width is None
            and count_line is None
            and len(values) == 1
            and float(values[0]).is_integer()
            and values[0] >= 0
        ):
            count_line = (number, int(values[0]))  # the count of data rows, checked below
            header.append(line)
            continue
        if width is None:
            width = len(values)
            if not 2 <= width <= 4:
                raise ValueError(
                    f"{path}: line {number} has {width} columns; expected 2 to 4 in the order "
                    "q, I, sigma(I), sigma(q). Remove the other columns (or reorder them)."
                )
        elif len(values) != width:
            raise ValueError(
                f"{path}: line {number} has {len(values)} columns but the data started with "
                f"{width}: every row needs the same columns (write nan for a missing value)."
            )
        data_lines.append((number, values))
    if not data_lines:
        raise ValueError(
            f"{path}: no numeric rows found ({len(header)} comment or header lines): expected "
            "rows of 2 to 4 numbers q, I (, sigma, dq) after the header."
        )
    if count_line is not None and count_line[1] != len(data_lines):
        raise ValueError(
            f"{path}: line {count_line[0]} holds one number, {count_line[1]}, read as the count "
            f"of data rows, but {len(data_lines)} rows follow. Correct or remove that line (start "
            "it with # if it is a comment)."
        )
    stated, unrecognised = [], []
    for number, line_text, unit in _stated_units(notes):
        name = canonical_q_unit(unit)
        if name is None:
            unrecognised.append((number, line_text, unit))
        else:
            stated.append((number, line_text, name))
    unit = _q_unit_of_file(path, stated, unrecognised, q_unit)
    element, element_statement = _stated_element(path, notes)
    table = np.array([values for _, values in data_lines])
    labels = [f"line {number}" for number, _ in data_lines]
    columns = [table[:, k] for k in range(width)] + [None] * (4 - width)
    masked = []
    if nonpositive == "mask":
        columns[1], masked = mask_nonpositive(columns[1], labels)
    try:
        check_curve(*columns, labels=labels)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    metadata = {
        "format": "text",
        "header": header,
        "q_unit_statement": (f"line {stated[0][0]}: {stated[0][1]}" if stated else None),
        "element_statement": element_statement,
        "encoding": encoding,
        "masked_nonpositive": masked,
        "point_count_line": None if count_line is None else count_line[0],
    }
    return MeasuredCurve(
        q=to_inverse_angstrom(columns[0], unit),
        intensity=columns[1],
        sigma=columns[2],
        dq=None if columns[3] is None else to_inverse_angstrom(columns[3], unit),
        q_unit_read=unit,
        source=os.fspath(path),
        metadata=metadata,
        element=element,
    )


def write_ascii(
    path, q, intensity, sigma=None, q_unit: str = "1/Å", comments=(), element=None
) -> Path:
    """Write a measured curve as text columns q, I (, sigma) that :func:`read_ascii` reads back:
    ``comments`` as ``#`` lines (and ``# element: <element>`` when ``element``, a chemical symbol,
    is given), then a column header stating the q unit (``q`` given in 1/Å and written in
    ``q_unit``). The curve is checked first (:func:`check_curve`); NaN intensities are written as
    ``nan``. Written beside ``path`` and moved into place; an existing file is replaced only if it
    is a regular file."""
    check_curve(q, intensity, sigma)
    unit = _require_unit(q_unit)
    if element is not None and not is_element_symbol(element):
        raise ValueError(f"element {element!r} is not a chemical symbol: give one such as 'Au'.")
    comments = [*comments, *([f"element: {element}"] if element is not None else [])]
    path = Path(path)
    if path.exists() and not path.is_file():
        raise ValueError(f"{path} exists and is not a file: choose another path.")
    q_out = np.asarray(q, dtype=float) / Q_UNITS[unit]
    columns = [q_out, np.asarray(intensity, dtype=float)]
    names = [f"q ({unit})", "I"]
    if sigma is not None:
        columns.append(np.asarray(sigma, dtype=float))
        names.append("sigma")
    lines = [f"# {line}" for line in comments] + ["  ".join(names)]
    lines += ["  ".join(f"{v:.10g}" for v in row) for row in zip(*columns)]
    text = "\n".join(lines) + "\n"
    return paths.write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# ------------------------------------------------------------------------------------ NXcanSAS


def _text(value) -> str:
    """An HDF5 attribute or string dataset as one str (bytes decoded, arrays joined by ',')."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        return ",".join(_text(v) for v in value.reshape(-1))
    if isinstance(value, np.generic):
        return _text(value.item())
    return str(value)


def _attr(obj, name: str) -> str | None:
    value = obj.attrs.get(name)
    return None if value is None else _text(value).strip()


def _subgroups(group):
    return [(name, item) for name, item in group.items() if isinstance(item, h5py.Group)]


def _data_groups(f):
    """{'entry/data': group} of every SASdata (NXdata) group of every SASentry (NXentry)."""
    entries = []
    for name, group in _subgroups(f):
        if _attr(group, "canSAS_class") == "SASentry":
            entries.append((name, group))
            continue
        inner = [
            (f"{name}/{sub}", g)
            for sub, g in _subgroups(group)
            if _attr(g, "canSAS_class") == "SASentry"
        ]  # the older layout: the SASentry is a subentry of a NeXus entry
        if inner:
            entries.extend(inner)
        elif _attr(group, "NX_class") == "NXentry":
            entries.append((name, group))
    found = {}
    for entry_name, entry in entries:
        for name, group in _subgroups(entry):
            cansas = _attr(group, "canSAS_class")
            if cansas == "SASdata" or (cansas is None and _attr(group, "NX_class") == "NXdata"):
                found[f"{entry_name}/{name}"] = (entry, group)
    return entries, found


def _named(group, names) -> str | None:
    for name in names:
        if name in group and isinstance(group[name], h5py.Dataset):
            return _text(group[name][()]).strip()
    return None


def _child_of_class(entry, cansas: str, nx: str):
    for _, group in _subgroups(entry):
        if _attr(group, "canSAS_class") == cansas or _attr(group, "NX_class") == nx:
            return group
    return None


def _listed(names) -> str:
    return ", ".join(repr(n) for n in names)


def read_nxcansas(path, entry: str | None = None, q_unit: str | None = None) -> MeasuredCurve:
    """Read a reduced 1-D curve from an NXcanSAS (canSAS HDF5) file (module doc).

    ``entry``: which curve, as ``"sasentry01"`` (an entry with one data group) or
    ``"sasentry01/sasdata01"``; needed when the file holds several. The intensity is the data
    group's ``signal`` (default ``I``), q its ``I_axes`` (default ``Q``) in the unit of Q's
    ``units`` attribute. ``q_unit``: the unit to use when Q has no ``units`` attribute; if it has
    one and ``q_unit`` differs, this raises. σ(I) is the dataset named by I's ``uncertainties``
    attribute (else ``Idev``), σ(q) the one named by Q's ``resolutions`` (else ``Qdev``), in its
    own ``units`` if it has them; slit-smearing resolutions (two names, e.g. ``dQw,dQl``) are not
    read and are listed in ``metadata["resolutions_not_read"]``. I (and σ(I)) are multiplied by
    the dataset named by I's ``scaling_factor`` attribute when there is one
    (``metadata["scaling_factor"]``). A ``Mask`` dataset is not applied (NXcanSAS 1.0 does not
    define it; by common use true marks a point to ignore): it is returned as
    ``metadata["mask"]`` for the caller to apply, e.g. by setting those intensities to NaN.

    ``metadata``: ``format`` (``"NXcanSAS"``), ``entry`` (the data group read), and, when the
    file has them, ``title``, ``run``, ``sample`` (SASsample name), ``chemical_formula`` (the
    sample's; when it is one element's symbol, e.g. ``Au``, it is the curve's ``element``),
    ``instrument`` (SASinstrument name)."""
    path_ = _existing(path)
    if not h5py.is_hdf5(path_):
        raise ValueError(
            f"{path}: not an HDF5 file, so not NXcanSAS. A text file of columns needs a .dat, "
            ".txt or .csv name (or read_ascii)."
        )
    with h5py.File(path_, "r") as f:
        entries, found = _data_groups(f)
        if not found:
            names = _listed(name for name, _ in entries) or "none"
            raise ValueError(
                f"{path}: no NXcanSAS data group found (entries: {names}). An NXcanSAS file "
                "holds a group with canSAS_class='SASentry' (NX_class='NXentry') holding one "
                "with canSAS_class='SASdata' (NX_class='NXdata'); write the curve that way."
            )
        if entry is None:
            chosen = list(found)
        else:
            key = entry.strip("/")
            chosen = [name for name in found if name == key or name.rsplit("/", 1)[0] == key]
            if not chosen:
                raise ValueError(
                    f"{path}: no data group {entry!r}. The file holds {_listed(found)}: "
                    "pass one of them as entry=."
                )
        if len(chosen) > 1:
            raise ValueError(
                f"{path}: the file holds several curves, {_listed(chosen)}: choose one with "
                f"entry= (e.g. entry={chosen[0]!r})."
            )
        name = chosen[0]
        sas_entry, data = found[name]
        return _read_data_group(path, name, sas_entry, data, q_unit)


def _read_data_group(path, name, sas_entry, data, q_unit):
    where = f"{path}, {name}"
    signal = _attr(data, "signal") or "I"
    axes = [a.strip() for a in (_attr(data, "I_axes") or "Q").split(",")]
    if signal not in data:
        raise ValueError(
            f"{where}: the intensity {signal!r} (the group's signal) is missing. Write the "
            "intensity as dataset 'I' (or name it in the signal attribute)."
        )
    I_set = data[signal]
    if I_set.ndim != 1 or len(axes) != 1:
        raise ValueError(
            f"{where}: I has shape {I_set.shape} (I_axes {','.join(axes)!r}): a 2-D detector "
            "image or a series of curves. Only reduced 1-D curves I(q) are supported: reduce the "
            "data to I(|q|) (azimuthal average) and save one curve per SASdata group."
        )
    if axes[0] not in data:
        raise ValueError(
            f"{where}: the q axis {axes[0]!r} named by I_axes is missing. Write q as dataset 'Q'."
        )
    Q_set = data[axes[0]]
    if Q_set.shape != I_set.shape:
        raise ValueError(
            f"{where}: Q has shape {Q_set.shape} but I has {I_set.shape}. Only reduced 1-D "
            "curves (one |q| per intensity) are supported."
        )
    file_unit = _attr(Q_set, "units")
    if file_unit is None:
        if q_unit is None:
            raise ValueError(
                f"{where}: Q has no 'units' attribute, so its unit is unknown. Pass "
                'q_unit="1/Å" or q_unit="1/nm", whichever Q is in (or add the attribute).'
            )
        unit = _require_unit(q_unit)
    else:
        unit = canonical_q_unit(file_unit)
        if unit is None:
            raise ValueError(
                f"{where}: Q is in {file_unit!r}, which is not an accepted q unit "
                f"({_accepted()}). Convert Q to one of them and set its units attribute."
            )
        if q_unit is not None and _require_unit(q_unit) != unit:
            raise ValueError(
                f"{where}: Q's units attribute says {file_unit!r} but q_unit={q_unit!r} was "
                "passed. Leave q_unit out to use the file's unit, or correct the attribute."
            )
    q = np.asarray(Q_set[()], dtype=float)
    intensity = np.asarray(I_set[()], dtype=float)
    metadata = {"format": "NXcanSAS", "entry": name}

    sigma = _companion(where, data, I_set, "uncertainties", "Idev", "I")
    dq = None
    resolutions = _attr(Q_set, "resolutions")
    names = [n.strip() for n in resolutions.split(",")] if resolutions else []
    if len(names) > 1:
        metadata["resolutions_not_read"] = names
    else:
        dq_set = _companion(where, data, Q_set, "resolutions", "Qdev", "Q", dataset=True)
        if dq_set is not None:
            dq_unit = _attr(dq_set, "units") or unit
            dq = to_inverse_angstrom(dq_set[()], _require_unit(dq_unit, f"{dq_set.name} units"))
    scaling = _attr(I_set, "scaling_factor")
    if scaling is not None:
        if scaling not in data:
            raise ValueError(
                f"{where}: I@scaling_factor names {scaling!r}, which is not in the group. Add "
                "the dataset or remove the attribute."
            )
        factor = np.asarray(data[scaling][()], dtype=float)
        if factor.size != 1 and factor.shape != intensity.shape:
            raise ValueError(
                f"{where}: the scaling factor {scaling!r} has shape {factor.shape}; expected one "
                f"value or one per point ({intensity.shape}). Fix the dataset."
            )
        factor = factor.reshape(()) if factor.size == 1 else factor
        intensity = intensity * factor
        sigma = None if sigma is None else sigma * np.abs(factor)
        metadata["scaling_factor"] = factor.item() if factor.ndim == 0 else factor
    if "Mask" in data:
        metadata["mask"] = np.asarray(data["Mask"][()], dtype=bool)

    sample = _child_of_class(sas_entry, "SASsample", "NXsample")
    for key, group, names in (
        ("title", sas_entry, ("title",)),
        ("run", sas_entry, ("run",)),
        ("sample", sample, ("name", "ID")),
        ("chemical_formula", sample, ("chemical_formula",)),
        ("instrument", _child_of_class(sas_entry, "SASinstrument", "NXinstrument"), ("name",)),
    ):
        value = None if group is None else _named(group, names)
        if value is not None:
            metadata[key] = value
    try:
        check_curve(q, intensity, sigma, dq)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
    return MeasuredCurve(
        q=to_inverse_angstrom(q, unit),
        intensity=intensity,
        sigma=sigma,
        dq=dq,
        q_unit_read=unit,
        source=os.fspath(path),
        metadata=metadata,
        # a formula of one element (Hill notation: "Au") names it; a compound names none
        element=metadata.get("chemical_formula")
        if is_element_symbol(metadata.get("chemical_formula"))
        else None,
    )


def _companion(where, data, of, attribute, default, what, dataset=False):
    """The dataset named by ``of``'s ``attribute`` (else ``default`` if present), as floats (or
    the dataset itself), or None."""
    named = _attr(of, attribute)
    if named is not None and "," in named:
        raise ValueError(
            f"{where}: {what}@{attribute} names several datasets ({named!r}); only one "
            "standard deviation per point is read. Keep one."
        )
    name = named or default
    if name not in data:
        if named is None:
            return None
        raise ValueError(
            f"{where}: {what}@{attribute} names {named!r}, which is not in the group. Add the "
            "dataset or remove the attribute."
        )
    if dataset:
        return data[name]
    return np.asarray(data[name][()], dtype=float)


# ---------------------------------------------------------------------------------- dispatch


def read_curve(
    path, q_unit: str | None = None, entry: str | None = None, nonpositive: str = "error"
) -> MeasuredCurve:
    """Read a measured curve, the format chosen by the file's suffix: ``.dat``, ``.txt``,
    ``.csv`` -> :func:`read_ascii`; ``.h5``, ``.hdf5``, ``.nxs``, ``.hdf`` ->
    :func:`read_nxcansas` (``entry`` only applies there). q comes back in 1/Å. ``nonpositive``:
    "error" refuses intensities <= 0, "mask" reads them as not measured (text files)."""
    _nonpositive_rule(nonpositive)
    path_ = _existing(path)
    suffix = path_.suffix.lower()
    if suffix in ASCII_SUFFIXES:
        if entry is not None:
            raise ValueError(
                f"{path}: entry= chooses a curve in an NXcanSAS file; a text file holds one. "
                "Leave entry out."
            )
        return read_ascii(path, q_unit=q_unit, nonpositive=nonpositive)
    if suffix in NXCANSAS_SUFFIXES:
        if nonpositive != "error":
            raise ValueError(
                f"{path}: nonpositive='mask' applies to text files; an NXcanSAS file must hold "
                "intensities > 0, NaN where not measured. Mask them in the file or leave "
                "nonpositive out."
            )
        return read_nxcansas(path, entry=entry, q_unit=q_unit)
    raise ValueError(
        f"{path}: unknown file type {suffix or '(no suffix)'!r}. Supported: text columns "
        f"({', '.join(ASCII_SUFFIXES)}) and NXcanSAS HDF5 ({', '.join(NXCANSAS_SUFFIXES)}); "
        "rename the file if it is one of these, or convert it to one."
    )
