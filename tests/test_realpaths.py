"""RealPaths.resolve gives what os.path.realpath gives, with each folder resolved once."""

from __future__ import annotations

import os

import pytest

from bootlint.files.realpaths import RealPaths
from tests.conftest import FIXTURES


@pytest.fixture
def tree(tmp_path):
    """Folders, links to folders and files, a link to a link, a dangling link, a link cycle."""
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "bootstrap").write_text("#!/bin/sh\n")
    (tmp_path / "elsewhere" / "deep").mkdir(parents=True)
    os.symlink(tmp_path / "elsewhere" / "deep", tmp_path / "a" / "to-deep")
    os.symlink("to-deep", tmp_path / "a" / "to-link")
    os.symlink("b/bootstrap", tmp_path / "a" / "file-link")
    os.symlink(tmp_path / "nowhere", tmp_path / "a" / "dangling")
    os.symlink("loop2", tmp_path / "a" / "loop1")
    os.symlink("loop1", tmp_path / "a" / "loop2")
    return tmp_path


PATHS = ["a", "a/b", "a/b/bootstrap", "a/b/missing", "a/to-deep", "a/to-deep/x", "a/to-link/y",
         "a/file-link", "a/dangling", "a/dangling/z", "a/loop1", "a/to-deep/../b", "a/to-link/..",
         "a/./b//bootstrap", "a/b/", "."]


def test_resolve_agrees_with_realpath_on_links_dots_and_missing_names(tree, monkeypatch):
    monkeypatch.chdir(tree)
    real = RealPaths()
    for relative in PATHS * 2:                        # the second time from what was kept
        for path in (relative, str(tree / relative)):
            assert real.resolve(path) == os.path.realpath(path), path
    assert real.resolve("/") == "/"


def test_every_fixture_resolves_as_realpath_does():
    real = RealPaths()
    for path in sorted(FIXTURES.rglob("*")):
        assert real.resolve(str(path)) == os.path.realpath(path)


def test_a_kept_folder_is_not_asked_again(tree, monkeypatch):
    real = RealPaths()
    real.resolve(str(tree / "a" / "b" / "bootstrap"))
    asked: list[str] = []
    monkeypatch.setattr(os.path, "islink", lambda p: asked.append(p) or False)
    assert real.resolve(str(tree / "a" / "b" / "other")) == str(tree / "a" / "b" / "other")
    assert asked == [str(tree / "a" / "b" / "other")]    # only the new name
    real.forget()
    asked.clear()
    real.resolve(str(tree / "a" / "b" / "other"))
    assert len(asked) == len(tree.parts) + 2               # every component again
