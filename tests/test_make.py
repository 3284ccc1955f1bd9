"""The Makefile's notebook run plan (``make run``): every numbered notebook once, in the order and
with the TensorFlow thread count its committed outputs were made with, at most two at a time.

Run through make itself with a stand-in for papermill that only logs, so no notebook executes."""

import os
import re
import shutil
import stat
import subprocess

import pytest

from helpers import paths

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")

ONE_THREAD = {"04", "05", "06", "07", "08", "09", "10"}


def numbered_notebooks():
    return sorted(p.name[:2] for p in (paths.ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def run_plan(tmp_path, jobs: int, **variables):
    """Runs ``make run-notebooks`` with a papermill stand-in; returns its log lines
    (event, notebook number, TensorFlow threads, jobs running)."""
    log, running = tmp_path / "log", tmp_path / "running"
    running.mkdir()
    fake = tmp_path / "papermill"
    fake.write_text(
        "#!/bin/sh\n"
        'nb=$(basename "$8" | cut -c1-2)\n'
        f'touch "{running}/$nb"; n=$(ls "{running}" | wc -l)\n'
        f'echo "start $nb $TF_NUM_INTRAOP_THREADS $TF_NUM_INTEROP_THREADS $n" >> "{log}"\n'
        # 03 takes longer, so that a notebook started too early overlaps it
        'if [ "$nb" = 03 ]; then sleep 1.5; else sleep 0.1; fi\n'
        f'rm "{running}/$nb"; echo "end $nb" >> "{log}"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    out = subprocess.run(
        ["make", "--no-print-directory", f"-j{jobs}", "run-notebooks", f"PAPERMILL={fake}"]
        + [f"{name}={value}" for name, value in variables.items()],
        cwd=paths.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line.split() for line in log.read_text().splitlines()], out.stdout


def test_every_notebook_runs_once_with_its_thread_count(tmp_path):
    events, stdout = run_plan(tmp_path, jobs=1)
    starts = [e for e in events if e[0] == "start"]
    assert sorted(e[1] for e in starts) == numbered_notebooks()
    for _, number, intra, inter, _ in starts:
        expected = "1" if number in ONE_THREAD else "2"
        assert (intra, inter) == (expected, expected), number
    assert len(re.findall(r"^== notebooks/\d\d_.*TensorFlow threads\)$", stdout, re.M)) == len(
        starts
    )


def test_two_lanes_keep_the_order_the_notebooks_need(tmp_path):
    events, _ = run_plan(tmp_path, jobs=2)
    position = {(e[0], e[1]): i for i, e in enumerate(events)}
    assert max(int(e[4]) for e in events if e[0] == "start") <= 2

    def after(later, earlier):
        return position[("start", later)] > position[("end", earlier)]

    assert all(after(n, "01") for n in ("02", "03"))
    # 04-10 reuse the clean models 02 and 03 save: none may start before both are done
    assert all(after(n, m) for n in ONE_THREAD for m in ("02", "03"))
    # 11, 12 and 13 each run alone, in order, after everything before them
    for later, before in (("11", ONE_THREAD), ("12", {"11"}), ("13", {"12"})):
        assert all(after(later, m) for m in before)
        overlapping = [
            n
            for (kind, n), i in position.items()
            if kind == "start"
            and n != later
            and position[("start", later)] < i
            and i < position[("end", later)]
        ]
        assert overlapping == [], later


def test_a_notebook_missing_from_the_plan_stops_the_run(tmp_path):
    planned = " ".join(
        str(p.relative_to(paths.ROOT))
        for p in sorted((paths.ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    )
    with pytest.raises(subprocess.CalledProcessError) as error:
        run_plan(tmp_path, jobs=1, NOTEBOOKS=f"{planned} notebooks/99_not_planned.ipynb")
    assert "99_not_planned.ipynb" in error.value.stdout
    assert not (tmp_path / "log").exists()  # stopped before the first notebook
