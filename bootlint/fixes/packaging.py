"""Fixes about the file itself (its bytes before the text, its line endings, its mode, its `#!`
line): the same for every language, so they are carried out here rather than by a front end,
also for files no front end reads."""

from __future__ import annotations

from typing import Callable

from bootlint.diagnostics import ByteEdit, Edit, Span
from bootlint.files.source import BOM, SourceFile
from bootlint.fixes.requests import (ConvertLineEndings, MakeExecutable, RemoveByteOrderMark, Rewrite,
                                     SplitEnvArguments)


def executable_mode(mode: int) -> int:
    """`chmod +x` the way a script needs it: an execute bit wherever there is a read bit (the
    owner's at least); nothing else changes."""
    perms = mode & 0o7777
    added = (perms & 0o444) >> 2 or 0o100
    return (mode & ~0o7777) | perms | added


def convert_line_endings(src: SourceFile, request: ConvertLineEndings) -> Rewrite | None:
    """Every CR of a CR LF removed, by byte (the text has none: it folds CR LF)."""
    raw, edits = src.raw, []
    at = raw.find(b"\r\n")
    while at >= 0:
        edits.append(ByteEdit(at, at + 1))
        at = raw.find(b"\r\n", at + 2)
    return Rewrite(byte_edits=tuple(edits)) if edits else None


def make_executable(src: SourceFile, request: MakeExecutable) -> Rewrite | None:
    """The mode with an execute bit wherever it has a read bit (a mode read from the disk)."""
    if src.mode is None:
        return None
    mode = executable_mode(src.mode)
    return Rewrite(mode=mode, detail={"mode": f"{mode & 0o7777:04o}"})


def remove_byte_order_mark(src: SourceFile, request: RemoveByteOrderMark) -> Rewrite | None:
    return Rewrite(byte_edits=(ByteEdit(0, len(BOM)),)) if src.raw.startswith(BOM) else None


def split_env_arguments(src: SourceFile, request: SplitEnvArguments) -> Rewrite | None:
    """Insert `-S ` after env, so that it splits the rest into words (coreutils 8.30+: the
    provided.al2023 image has it)."""
    line = src.shebang or ""
    at = line.find(request.env_path)
    if at < 0:
        return None
    column = at + len(request.env_path)
    while column < len(line) and line[column] in " \t":
        column += 1
    where = Span(1, column + 1, 1, column + 1)
    return Rewrite((Edit(where, "-S "),))


IMPLEMENTATIONS: dict[type, Callable[[SourceFile, object], Rewrite | None]] = {
    ConvertLineEndings: convert_line_endings,
    MakeExecutable: make_executable,
    RemoveByteOrderMark: remove_byte_order_mark,
    SplitEnvArguments: split_env_arguments,
}
