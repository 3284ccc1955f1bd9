"""The command line: characterise measured curves from files.

::

    python -m helpers characterise FILE... [--q-unit 1/nm] [--out DIR] [--model DIR]
                                           [--entry NAME] [--mask-nonpositive] [--element Au]
                                           [--jobs N] [--quiet]
    np-characterise FILE... [options]        # the same, the console script of pyproject.toml

For every file: read it (:func:`helpers.measurement.files.read_curve`: text columns or NXcanSAS;
the q unit from ``--q-unit`` or the file, never assumed), characterise it
(:func:`helpers.characterisation.Characteriser.characterise`) and write ``<out>/<stem>.json``
(every field of the answer, plain JSON, ``null`` for a missing number) and ``<out>/<stem>.png``
(:meth:`helpers.characterisation.Characterisation.figure`), each written beside its target and
then moved into place. When two inputs share a stem (``a.dat``, ``a.h5``) both are named by their
full file name (``a.dat.json``, ``a.h5.json``). One table at the end, a progress bar over the
files on stderr (not with ``--quiet`` or when stderr is no terminal).

``--element SYMBOL``: the particles' element, when the sample's composition is known; the physics
fit tries that element only (a symbol the model's library lacks is a bad option). A file may state
its own (a comment ``# element: Au``; an NXcanSAS sample's ``chemical_formula`` of one element), so
that one command characterises files of different metals; a file that states another element than
``--element`` fails, naming both.

``--jobs N`` characterises the files in N worker processes (each loads the model once, one
thread each); the answers are the same as with one, in the same order.

A file that cannot be read or characterised is reported by name with its error and the others go
on. Exit codes: 0 every file characterised; 1 at least one failed; 2 no usable model (missing or
stale: the message names ``make model``) or a bad option.

The model is the one ``make model`` saves in ``models/characterise/``
(:data:`helpers.paths.CHARACTERISE_DIR`), or a folder saved by
:meth:`helpers.characterisation.Characteriser.save` given with ``--model``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import traceback
from collections import Counter
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from . import paths

#: where the answers go when ``--out`` is not given (relative to the current directory)
DEFAULT_OUT = Path("characterised")
#: the console script's name ([project.scripts] in pyproject.toml)
SCRIPT = "np-characterise"
#: the command's name in its messages when run as ``python -m helpers characterise``
PROG = "python -m helpers characterise"
EXIT_OK, EXIT_FAILED, EXIT_NO_MODEL = 0, 1, 2
#: files between two garbage collections: the artists of a file's figure are freed only when their
#: reference cycles are collected, which Python's thresholds let wait (a batch of 1,000 files, a
#: new figure each, grew by ~4 GB)
GC_EVERY = 10
#: what a reader's keyword is called on this command line (for its error messages)
_OPTIONS = {
    "q_unit=": "--q-unit",
    "entry=": "--entry",
    "nonpositive='mask'": "--mask-nonpositive",
    "element=": "--element",
}

_DESCRIPTION = (
    "Characterise measured SAXS/WAXS curves of metal nanoparticles: shape probabilities, size "
    "with a 90 % interval, a physics fit with the library's exact Debye curves, and warnings "
    "when the data cannot tell. Writes OUT/<stem>.json and OUT/<stem>.png per file and prints "
    "a table."
)
_EPILOG = (
    "Files: text columns q, I (, sigma(I), sigma(q)) (.dat, .txt, .csv) or NXcanSAS HDF5 (.h5, "
    ".hdf5, .nxs, .hdf). The q unit is read from the file (a column name such as 'q (1/nm)', a "
    "comment '# q unit: 1/nm', the NXcanSAS Q@units attribute) or given with --q-unit; it is "
    "never assumed. A header or comment line 'element: Au' (NXcanSAS: the sample's "
    "chemical_formula of one element) restricts that file's fit to its element, as --element "
    "does for every file. The model is made by `make model` (the repository's "
    "models/characterise/). "
    "Exit codes: 0 all files characterised, 1 some file failed, 2 no usable model or a bad "
    "option."
)


def _add_characterise_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="measured curves to characterise")
    parser.add_argument(
        "--q-unit",
        metavar="UNIT",
        help="the unit of the files' q column: 1/Å or 1/nm (also A^-1, nm^-1, ...); needed when "
        "a file does not state it, refused when a file states another",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        default=DEFAULT_OUT,
        help=f"folder for the .json and .png answers (default: ./{DEFAULT_OUT}/, made if needed)",
    )
    parser.add_argument(
        "--model",
        metavar="DIR",
        type=Path,
        default=None,
        help="a saved characterisation model (default: the repository's models/characterise/, "
        "made by `make model`)",
    )
    parser.add_argument(
        "--entry",
        metavar="NAME",
        help="the SASentry to read from NXcanSAS files that hold several curves",
    )
    parser.add_argument(
        "--mask-nonpositive",
        action="store_true",
        help="read intensities <= 0 (noise around zero after background subtraction, zeros "
        "where nothing was recorded) as points not measured instead of refusing the file "
        "(text files); the JSON lists them",
    )
    parser.add_argument(
        "--element",
        metavar="SYMBOL",
        help="the particles' element when the sample's composition is known (e.g. Au): the "
        "physics fit tries that element only (default: every element of the model's library)",
    )
    parser.add_argument(
        "--jobs",
        metavar="N",
        type=int,
        default=1,
        help="worker processes (default 1); each loads the model once, so N > 1 pays off "
        "from a few dozen files on",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers", description="The nanoparticle study's command line."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    characterise = commands.add_parser(
        "characterise",
        help="characterise measured curves from files",
        description=_DESCRIPTION,
        epilog=_EPILOG,
    )
    _add_characterise_arguments(characterise)
    return parser


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "characterise":
        return _characterise_arguments(args, PROG)
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse allows no other


def characterise_main(argv=None) -> int:
    """The console script ``np-characterise``: ``python -m helpers characterise`` by another
    name."""
    _headless()
    parser = argparse.ArgumentParser(prog=SCRIPT, description=_DESCRIPTION, epilog=_EPILOG)
    _add_characterise_arguments(parser)
    return _characterise_arguments(parser.parse_args(argv), SCRIPT)


def _characterise_arguments(args, prog: str) -> int:
    """:func:`characterise_files` with the parsed arguments of either command."""
    return characterise_files(
        args.files,
        q_unit=args.q_unit,
        out=args.out,
        model=args.model,
        entry=args.entry,
        quiet=args.quiet,
        prog=prog,
        mask_nonpositive=args.mask_nonpositive,
        jobs=args.jobs,
        element=args.element,
    )


def _headless() -> None:
    """Figures go to files only: matplotlib's file backend unless the user chose one."""
    os.environ.setdefault("MPLBACKEND", "Agg")


# ----------------------------------------------------------------------------------------------


def output_names(files) -> list[tuple[str | None, str]]:
    """(name, problem) per input file: the name of its outputs (``<name>.json``, ``<name>.png``)
    and "" , or None and why it gets none. The stem, unless two inputs share it: then the full
    file name; a full name that two inputs share (the same file twice, or one name in two
    folders) is kept by the first only."""
    stems = Counter(Path(f).stem for f in files)
    taken: dict[str, str] = {}
    names = []
    for f in files:
        path = Path(f)
        name = path.stem if stems[path.stem] == 1 else path.name
        if name in taken:
            names.append(
                (
                    None,
                    f"its outputs {name}.json/.png would overwrite those of {taken[name]}: "
                    "rename one of the files, or characterise them into separate --out folders",
                )
            )
        else:
            taken[name] = str(f)
            names.append((name, ""))
    return names


def _write_together(targets: dict, writers: dict) -> None:
    """Write every target beside itself (a hidden temporary file), then move each into place: a
    reader never sees a half-written file, and nothing is replaced unless every file was
    written."""
    temporary = {key: paths.temporary_beside(target) for key, target in targets.items()}
    try:
        for key, tmp in temporary.items():
            writers[key](tmp)
        for key, tmp in temporary.items():
            os.replace(tmp, targets[key])
    finally:
        for tmp in temporary.values():
            tmp.unlink(missing_ok=True)


def _software_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("np-scattering-study")
    except metadata.PackageNotFoundError:
        return None


def characterise_file(
    path,
    characteriser,
    out: Path,
    name: str,
    model_record: dict,
    q_unit=None,
    entry=None,
    mask_nonpositive: bool = False,
    element=None,
) -> dict:
    """Read ``path``, characterise it with ``characteriser`` and write ``<out>/<name>.json`` and
    ``<out>/<name>.png``; returns the JSON record. ``element``: the particles' element, if known;
    else the one the file states (:func:`file_element`), if any. Raises what the reader or the
    characterisation raises (``ValueError`` for bad input, ``OSError`` for unreadable files)."""
    import numpy as np

    from .characterisation import plain_json
    from .measurement import files

    curve = files.read_curve(
        path, q_unit=q_unit, entry=entry, nonpositive="mask" if mask_nonpositive else "error"
    )
    used = file_element(curve, characteriser, element)
    # q and dq in 1/Å
    result = characteriser.characterise(
        curve.q, curve.intensity, curve.sigma, dq=curve.dq, element=used
    )
    measured = curve.q[np.isfinite(curve.intensity)]
    record = {
        "file": os.fspath(path),
        "q_unit": curve.q_unit_read,
        "q_unit_from": "--q-unit" if q_unit is not None else "file",
        "element_from": None if used is None else "--element" if element is not None else "file",
        **result.as_record(),
        "input": {
            "format": curve.metadata.get("format"),
            "entry": curve.metadata.get("entry"),
            "n_points": int(curve.q.size),
            "n_measured": int(measured.size),
            "q_min_inverse_angstrom": float(measured.min()),
            "q_max_inverse_angstrom": float(measured.max()),
            "sigma_read": curve.sigma is not None,
            "dq_read": curve.dq is not None,
            "masked_nonpositive": list(curve.metadata.get("masked_nonpositive", [])),
            "metadata": {
                key: value
                for key, value in curve.metadata.items()
                if isinstance(value, str) and key not in ("format", "entry")
            },
        },
        "model": model_record,
        "software": {"package": "np-scattering-study", "version": _software_version()},
    }
    record = plain_json(record)
    text = json.dumps(record, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    fig = result.figure(source=Path(path).name, canvas=_canvas())
    _write_together(
        {"json": out / f"{name}.json", "png": out / f"{name}.png"},
        {
            "json": lambda tmp: tmp.write_text(text, encoding="utf-8"),
            # the figure sets its own margins: no "tight" bounding box, which draws it twice
            "png": lambda tmp: fig.savefig(
                tmp,
                dpi=paths.ANSWER_FIGURE_DPI,
                format="png",
                pil_kwargs={"compress_level": paths.ANSWER_PNG_COMPRESSION},
            ),
        },
    )
    return record


def file_element(curve, characteriser, element=None) -> str | None:
    """The element to fit ``curve`` (a :class:`helpers.measurement.files.MeasuredCurve`) with:
    ``element`` when given (the file may state the same one, or none), else the one the file
    states, else None (every element). A file that states another element than ``element``, or
    one the model's library lacks, raises naming the line and the fix."""
    stated = curve.element
    if stated is None:
        return element
    where = curve.metadata.get("element_statement") or (
        f"chemical_formula {curve.metadata.get('chemical_formula')!r}"
    )
    if element is not None:
        if stated != element:
            raise ValueError(
                f"the file states the element {stated!r} ({where}) but element={element!r} was "
                "passed. Leave element out to use the file's, or correct the file."
            )
        return element
    try:
        return characteriser.checked_element(stated)
    except ValueError as error:
        raise ValueError(
            f"the file states the element {stated!r} ({where}), which the model cannot fit: "
            f"{error} Correct or remove that statement in the file."
        ) from None


#: the figure this process draws every file's answer on (:func:`_canvas`)
_CANVAS: list = []


def _canvas():
    """This process's :class:`helpers.report.plots.CharacterisationCanvas`, made at its first
    file: a new figure per file spent about half of its drawing time making axes and ticks."""
    if not _CANVAS:
        from .report.plots import CharacterisationCanvas

        _CANVAS.append(CharacterisationCanvas(pyplot=False))
    return _CANVAS[0]


def _explain(error: BaseException, path) -> str:
    """The error's message without a repeated ``<path>: `` in front, with the reader's keywords
    (``q_unit=``, ``entry=``) named as this command line's options."""
    message = str(error)
    prefix = f"{path}: "
    if message.startswith(prefix):
        message = message[len(prefix) :]
    hints = [
        f"{keyword} is {option}" for keyword, option in _OPTIONS.items() if keyword in message
    ]
    if hints:
        message += f" (on this command line {', '.join(hints)})"
    return message


def _cell(value, digits=3) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def result_table(rows) -> str:
    """The table printed at the end: file, shape, p of that shape, the number of labels in the
    90 % shape set (the labels are in the JSON; "-" where the shape is not determinable), R_eq
    with its interval, chi²_red, number of warnings (or the failure)."""
    from .characterisation import NOT_DETERMINABLE

    header = ("file", "shape", "p", "90 % set", "R_eq (Å) [90 % interval]", "χ²_red", "warnings")
    lines = [header]
    for file, record in rows:
        if record is None:
            lines.append((file, "FAILED (see above)", "-", "-", "-", "-", "-"))
            continue
        shape = record["shape"]
        determinable = shape != NOT_DETERMINABLE
        p = record["probabilities"].get(shape) if determinable else None
        radius = (
            f"{_cell(record['radius_A'])} [{_cell(record['radius_A_low'])}, "
            f"{_cell(record['radius_A_high'])}]"
        )
        chi2 = None if record["fit"] is None else record["fit"]["chi2_red"]
        n_set = len(record["shape_set"])
        lines.append(
            (
                file,
                shape if determinable else "not determinable",
                "-" if p is None else f"{p:.2f}",
                # no set where no shape is claimed (the JSON keeps the model's)
                f"{n_set} label" + ("s" if n_set > 1 else "") if determinable else "-",
                radius,
                _cell(chi2),
                str(len(record["warnings"])),
            )
        )
    widths = [max(len(line[k]) for line in lines) for k in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
        for line in lines
    )


def _answer(item, characteriser, out, model_record, options, n: int):
    """(path, JSON record or None, message or None) of one input ``item`` (path, output name,
    why it has none); the ``n``-th of the batch (a garbage collection every :data:`GC_EVERY`)."""
    path, name, problem = item
    record, message = None, None
    try:
        if name is None:
            raise ValueError(problem)
        record = characterise_file(path, characteriser, out, name, model_record, **options)
    except (OSError, ValueError) as error:  # bad input: its message names the fix
        message = f"{path}: FAILED: {_explain(error, path)}"
    except Exception as error:  # not the file's fault: a bug, shown in full; the others go on
        message = (
            f"{path}: FAILED with an unexpected {type(error).__name__}: {error}\n"
            f"{traceback.format_exc()}"
        )
    if (n + 1) % GC_EVERY == 0:  # a file's artists are held by reference cycles
        gc.collect()
    return path, record, message


#: a worker process's model and settings (:func:`_start_worker`)
_WORKER: dict = {}


def _start_worker(folder, library_dir, out, model_record: dict, options: dict) -> None:
    """Load the model once in a worker process of ``--jobs`` (with the parent's library
    folder), one thread for each of numpy's BLAS (helpers' default) and TensorFlow's pools."""
    _headless()
    from .characterisation import Characteriser
    from .learning.estimators import one_thread

    one_thread()

    _WORKER.update(
        characteriser=Characteriser.load(folder, library_dir=library_dir),
        out=out,
        model_record=model_record,
        options=options,
        done=0,
    )


def _worker_answer(item):
    """:func:`_answer` in a worker process."""
    _WORKER["done"] += 1
    return _answer(
        item,
        _WORKER["characteriser"],
        _WORKER["out"],
        _WORKER["model_record"],
        _WORKER["options"],
        _WORKER["done"] - 1,
    )


def characterise_files(
    files_,
    q_unit=None,
    out=DEFAULT_OUT,
    model=None,
    entry=None,
    quiet=False,
    prog=PROG,
    mask_nonpositive=False,
    jobs=1,
    element=None,
) -> int:
    """Characterise every file of ``files_`` (see the module doc); returns the exit code.
    ``prog``: the command's name in its messages; ``jobs``: worker processes."""
    stdout, stderr = sys.stdout, sys.stderr
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        print(f"{prog}: error: --jobs must be a whole number >= 1, got {jobs!r}.", file=stderr)
        return EXIT_NO_MODEL
    from .measurement import files

    if q_unit is not None and files.canonical_q_unit(q_unit) is None:
        accepted = "; ".join(f"{u} (also {', '.join(a)})" for u, a in files.Q_UNIT_ALIASES.items())
        print(
            f"{prog}: error: --q-unit {q_unit!r} is not an accepted q unit. Accepted: {accepted}.",
            file=stderr,
        )
        return EXIT_NO_MODEL
    from . import paths
    from .characterisation import MAKE_MODEL, Characteriser
    from .learning import model_set

    folder = Path(model) if model is not None else paths.characterise_dir()
    try:
        characteriser = Characteriser.load(folder)
    except (OSError, ValueError, KeyError) as error:
        message = str(error)
        if MAKE_MODEL not in message:
            message = (
                f"the model in {folder} could not be loaded ({type(error).__name__}: {message}): "
                f"run `{MAKE_MODEL}` to make it again, or give another folder with --model."
            )
        print(f"{prog}: error: {message}", file=stderr)
        return EXIT_NO_MODEL
    try:
        characteriser.checked_element(element)
    except ValueError as error:
        print(f"{prog}: error: --element: {error}", file=stderr)
        return EXIT_NO_MODEL
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"{prog}: error: cannot make the output folder {out}: {error}", file=stderr)
        return EXIT_NO_MODEL
    lib = characteriser.library
    model_record = {
        "folder": os.fspath(folder.resolve()),
        "library_name": lib.path.name,
        "library_fingerprint": model_set.library_id(lib),
        "novelty_level": characteriser.novelty.level,
        "trained_q_max_inverse_angstrom": characteriser.trained_q_max,
    }

    from tqdm import tqdm

    options = dict(q_unit=q_unit, entry=entry, mask_nonpositive=mask_nonpositive, element=element)
    items = [(path, name, problem) for path, (name, problem) in zip(files_, output_names(files_))]
    bar = tqdm(
        total=len(items),
        desc="characterising",
        unit="file",
        file=stderr,
        disable=quiet or not stderr.isatty(),
    )
    if jobs == 1:
        answers = (
            _answer(item, characteriser, out, model_record, options, n)
            for n, item in enumerate(items)
        )
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawned, not forked: this process runs TensorFlow's threads already
        executor = ProcessPoolExecutor(
            max_workers=min(jobs, len(items)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(folder, lib.path, out, model_record, options),
        )
        answers = executor.map(_worker_answer, items, chunksize=2)
    rows, failed = [], 0
    try:
        for path, record, message in answers:
            if message:
                tqdm.write(message, file=stderr)
            failed += record is None
            rows.append((os.fspath(path), record))
            bar.update()
    except BrokenProcessPool as error:  # a worker died (out of memory, killed) or failed to start
        bar.close()
        print(
            f"{prog}: error: a worker process stopped ({error}) after {len(rows)} of "
            f"{len(items)} file(s); the answers written so far are in {out}/. Run again with "
            "fewer --jobs (each worker holds the model and its library in memory).",
            file=stderr,
        )
        return EXIT_FAILED
    finally:
        if jobs != 1:
            executor.shutdown(cancel_futures=True)
    bar.close()
    print(result_table(rows), file=stdout)
    done = len(rows) - failed
    print(
        f"{done} of {len(rows)} file(s) characterised"
        + (f", {failed} failed" if failed else "")
        + f"; answers in {out}/ (<name>.json, <name>.png)",
        file=stdout,
    )
    return EXIT_FAILED if failed else EXIT_OK
