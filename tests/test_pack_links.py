"""The host never dereferences a link a pack, a run or a model controls: copies keep links as
links and refuse those that leave the tree, and every walk passes links over."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from scientist.errors import LinkRefused
from scientist.experiments.pack_view import PackView
from scientist.experiments.runs import _snapshot, prepare_code_dir
from scientist.records.runs import CODE_DIFF
from scientist.safe_tree import copy_tree, walk_files
from scientist.templates import load_template

SECRET = "root-only-secret-7f3a"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A root-only file outside every pack."""
    path = tmp_path / "host" / "secret.txt"
    path.parent.mkdir()
    path.write_text(SECRET + "\n")
    path.chmod(0o600)
    return path


def _pack(toy_pack: Path, tmp_path: Path) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(toy_pack, pack)
    return pack


def test_a_pack_link_to_a_host_file_is_refused_and_nothing_is_copied(
    toy_pack: Path, tmp_path: Path, secret: Path
) -> None:
    pack = _pack(toy_pack, tmp_path)
    (pack / "notes.txt").symlink_to(secret)
    code = tmp_path / "ideas" / "a" / "code"
    with pytest.raises(LinkRefused, match=r"notes\.txt is a link out of"):
        prepare_code_dir(load_template(str(pack)), code)
    assert not code.exists()
    assert not any(SECRET in p.read_text(errors="replace") for p in _files(tmp_path / "ideas"))


def test_a_pack_link_to_a_host_folder_is_refused(
    toy_pack: Path, tmp_path: Path, secret: Path
) -> None:
    pack = _pack(toy_pack, tmp_path)
    (pack / "data").symlink_to(secret.parent, target_is_directory=True)
    with pytest.raises(LinkRefused):
        prepare_code_dir(load_template(str(pack)), tmp_path / "code")


def test_a_link_that_leaves_through_another_link_is_refused(tmp_path: Path) -> None:
    """`here -> .` then `out -> here/../x`: inside by its text, outside for the kernel."""
    source = tmp_path / "tree"
    source.mkdir()
    (tmp_path / "x").write_text(SECRET)
    (source / "here").symlink_to(".")
    (source / "out").symlink_to("here/../x")
    with pytest.raises(LinkRefused, match="out is a link out of"):
        copy_tree(source, tmp_path / "copy")
    assert not (tmp_path / "copy").exists()


def test_links_inside_the_pack_are_kept_as_links(toy_pack: Path, tmp_path: Path) -> None:
    pack = _pack(toy_pack, tmp_path)
    (pack / "sub").mkdir()
    (pack / "sub" / "alias.py").symlink_to("../plot.py")
    (pack / "again").symlink_to("sub", target_is_directory=True)
    code = prepare_code_dir(load_template(str(pack)), tmp_path / "code")
    assert os.readlink(code / "sub" / "alias.py") == "../plot.py"
    assert os.readlink(code / "again") == "sub"
    assert (code / "experiment.py").read_bytes() == (pack / "experiment.py").read_bytes()


def test_walks_of_a_code_folder_pass_links_over(
    toy_pack: Path, tmp_path: Path, secret: Path
) -> None:
    """A link planted in an idea's code folder reaches neither the code model's prompt, nor
    the run's diff, nor the pack's hash."""
    pack = _pack(toy_pack, tmp_path)
    template = load_template(str(pack))
    before = template.content_hash()
    code = prepare_code_dir(template, tmp_path / "code")
    (code / "notes.txt").symlink_to(secret)
    (code / "big").symlink_to(secret.parent, target_is_directory=True)
    (pack / "notes.txt").symlink_to(secret)
    view = PackView(template, code)
    shown = view.render(hints="notes.txt", knobs=[], wanted=["notes.txt"])
    assert SECRET not in shown and "notes.txt" not in view.readable
    assert SECRET not in view.overview() and view.changed() == []
    run_dir = tmp_path / "run"
    _snapshot(pack, code, run_dir)
    assert SECRET not in (run_dir / CODE_DIFF).read_text()
    assert template.content_hash() == before
    assert all(SECRET not in str(path) for path in walk_files(code))


def _files(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return [path for path in root.rglob("*") if path.is_file() and not path.is_symlink()]
