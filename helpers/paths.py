"""Every path the project reads or writes, in one place, and the one function that saves figures.

Notebooks and helpers never build paths themselves: they ask this module. In smoke mode
(environment variable ``NP_SMOKE=1``, set by the test command) figures and results go to
``figures/smoke/`` and ``results/smoke/`` so that a quick CI run never overwrites the full study's
outputs that are committed with the repo.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
REFERENCE_DIR = DATA_DIR / "reference"  # small committed tables (element Rnn, the study's numbers)
LIBRARY_DIR = DATA_DIR / "library"  # generated scattering libraries, one sub-folder per name
MODELS_DIR = ROOT / "models"
#: the model that characterises measured curves (``make model`` writes it; in smoke mode the smoke
#: run's own, :func:`characterise_dir`)
CHARACTERISE_DIR = MODELS_DIR / "characterise"
#: files a notebook generates to read back (the blind test's measurements and answers), git-ignored
GENERATED_DIR = DATA_DIR / "generated"
#: public measured curves with their provenance (committed)
MEASURED_DIR = DATA_DIR / "measured"
#: the engine benchmark's table (benchmarks/bench_engine.py writes it, the data chapter draws it;
#: a measurement of this machine, the same in smoke and full runs)
ENGINE_BENCHMARK = ROOT / "results" / "engine_benchmark.csv"
SMOKE_ENV = "NP_SMOKE"
#: the resolution of every saved figure (dots per inch)
FIGURE_DPI = 130
#: the resolution of the answer figure the command line writes for each file: 1,250 x 600
#: pixels, drawn once per file in a batch (at ``FIGURE_DPI`` the figure took a third of a
#: file's time)
ANSWER_FIGURE_DPI = 100
#: zlib level of the answer figures' PNG (1 of 0-9): a faster write for a slightly larger file
ANSWER_PNG_COMPRESSION = 1


def smoke_mode() -> bool:
    """True when the environment asks for the fast smoke run (``NP_SMOKE=1``)."""
    value = os.environ.get(SMOKE_ENV, "0").strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no", ""):
        return False
    raise ValueError(
        f"{SMOKE_ENV}={value!r} is not understood: set it to 1 (smoke run) or 0 (full run)."
    )


def figures_dir() -> Path:
    path = ROOT / "figures" / ("smoke" if smoke_mode() else "")
    path.mkdir(parents=True, exist_ok=True)
    return path


def results_dir(smoke: bool | None = None) -> Path:
    """``results/``, or ``results/smoke/`` in smoke mode (``smoke``: None follows the mode)."""
    smoke = smoke_mode() if smoke is None else smoke
    path = ROOT / "results" / ("smoke" if smoke else "")
    path.mkdir(parents=True, exist_ok=True)
    return path


def characterise_dir() -> Path:
    """The default characterisation model: ``models/characterise/`` (``make model``), or the
    smoke run's ``models/smoke/characterise/`` in smoke mode."""
    return MODELS_DIR / ("smoke" if smoke_mode() else "") / CHARACTERISE_DIR.name


def generated_dir(name: str) -> Path:
    """``data/generated/<name>/`` (``data/generated/smoke/<name>/`` in smoke mode), not created."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"generated folder name {name!r} must be a plain folder name.")
    return GENERATED_DIR / ("smoke" if smoke_mode() else "") / name


def library_dir(name: str) -> Path:
    if not name or "/" in name or name.startswith("."):
        raise ValueError(
            f"library name {name!r} must be a plain folder name such as 'study' or 'smoke'."
        )
    return LIBRARY_DIR / name


def temporary_beside(path) -> Path:
    """A hidden name beside ``path``, unique to this call, that ends with ``path``'s own name (so
    writers that insist on a suffix, such as ``.keras`` or ``.weights.h5``, accept it). Two
    processes writing the same file never share a temporary file."""
    path = Path(path)
    return path.with_name(f".{uuid.uuid4().hex[:12]}.{path.name}")


def write_atomically(path, write) -> Path:
    """Write ``path`` by calling ``write(tmp)`` on a temporary file of this call's own beside it,
    then moving that into place: a reader sees the old file or the whole new one, never a part, and
    a failed write leaves ``path`` as it was. The folder is created if missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_beside(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def save_figure(fig, name: str, dpi: int = FIGURE_DPI) -> Path:
    """Save a matplotlib figure as ``figures/<name>.png`` (the only way figures are written)."""
    if not name or "/" in name or name.endswith(".png"):
        raise ValueError(
            f"figure name {name!r}: give a bare name such as '01_example_curves' "
            "(no folder, no .png)."
        )
    return write_atomically(
        figures_dir() / f"{name}.png",
        lambda tmp: fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png"),
    )
