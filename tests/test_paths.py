"""The one module that owns paths: atomic writes that concurrent writers cannot corrupt."""

from __future__ import annotations

import threading

import pytest

from helpers import paths


def test_temporary_names_are_unique_hidden_and_keep_the_suffixes(tmp_path):
    target = tmp_path / "model.weights.h5"
    names = {paths.temporary_beside(target) for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert name.parent == tmp_path
        assert name.name.startswith(".")
        assert name.name.endswith(".weights.h5")


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")

    def fails(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        paths.write_atomically(target, fails)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_concurrent_writers_of_one_file_leave_one_whole_version(tmp_path):
    # Two writers of the same file (two test workers training the same smoke model) must not
    # share a temporary file: each writes its own, and the file ends as one writer's whole text.
    target = tmp_path / "shared.txt"
    started = threading.Barrier(4)
    texts = [str(k) * 200_000 for k in range(4)]
    errors = []

    def write(text):
        def slow(tmp):
            started.wait()
            with open(tmp, "w") as handle:
                for start in range(0, len(text), 1000):
                    handle.write(text[start : start + 1000])

        try:
            paths.write_atomically(target, slow)
        except Exception as error:  # a thread's exception would otherwise be lost
            errors.append(error)

    threads = [threading.Thread(target=write, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert target.read_text() in texts
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.txt"]


def test_write_atomically_creates_the_folder(tmp_path):
    target = tmp_path / "new" / "folder" / "a.json"
    assert paths.write_atomically(target, lambda tmp: tmp.write_text("{}")) == target
    assert target.read_text() == "{}"
