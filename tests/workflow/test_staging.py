"""All-or-nothing output folders."""

import errno
from pathlib import Path

import pytest

from opensirt.errors import InputError
from opensirt.workflow.staging import staged_output


def test_success_moves_everything_into_a_new_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_output(out) as stage:
        (stage / "a.txt").write_text("a")
        (stage / "sub").mkdir()
        (stage / "sub" / "b.txt").write_text("b")
        assert not out.exists()  # nothing visible before the end
    assert (out / "a.txt").read_text() == "a"
    assert (out / "sub" / "b.txt").read_text() == "b"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_failure_leaves_the_destination_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")

    def fail() -> None:
        with staged_output(out, overwrite=True) as stage:
            (stage / "old.txt").write_text("new")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail()
    assert (out / "old.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_overwrite_replaces_same_names_and_keeps_others(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "plan").mkdir(parents=True)
    (out / "plan" / "stale.txt").write_text("stale")
    (out / "notes.txt").write_text("mine")
    with staged_output(out, overwrite=True) as stage:
        (stage / "plan").mkdir()
        (stage / "plan" / "plan.json").write_text("{}")
    assert sorted(p.name for p in (out / "plan").iterdir()) == ["plan.json"]
    assert (out / "notes.txt").read_text() == "mine"


def test_non_empty_folder_or_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    with (
        pytest.raises(InputError, match="not empty; choose a new folder or pass --overwrite"),
        staged_output(tmp_path),
    ):
        pass
    with pytest.raises(InputError, match="is a file"), staged_output(tmp_path / "keep.txt"):
        pass


def test_write_failure_in_the_staging_folder_is_named(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with (
        pytest.raises(InputError, match=r"writing failed at .*plan\.pdf \(No space left"),
        staged_output(out) as stage,
    ):
        raise OSError(errno.ENOSPC, "No space left on device", str(stage / "plan.pdf"))
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_read_failure_of_an_input_is_not_blamed_on_the_output(tmp_path: Path) -> None:
    with pytest.raises(PermissionError), staged_output(tmp_path / "out"):
        raise PermissionError(13, "Permission denied", "/somewhere/ct")
    assert list(tmp_path.iterdir()) == []
