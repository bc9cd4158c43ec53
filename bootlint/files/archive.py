"""Linting a deployment zip (function or layer): its root `bootstrap`, read in memory.

Lambda runs `/var/task/bootstrap` (the function package's root) or `/opt/bootstrap` (a layer's
root, since layers unpack into /opt): either way `bootstrap` must sit at the archive's root.
Nothing is extracted; a member too large, compressed suspiciously well, encrypted, a link, or an
archive that does not read gives one BL904 finding instead.
"""

from __future__ import annotations

import os
import stat
import struct
import zipfile
from dataclasses import replace

from bootlint.engine import START, FileResult, Selection, finding, lint_source, skipped
from bootlint.rules import all_rules
from bootlint.files.source import SourceFile

DEFAULT_MAX_MEMBER = 5 * 1024 * 1024
BOMB_RATIO = 100          # uncompressed / compressed, for members over BOMB_MIN bytes
BOMB_MIN = 1024 * 1024
UNIX = 3                  # ZipInfo.create_system for archives made on Unix
# Reading the central directory costs time and memory per member (200,000 members: 4 s and
# 170 MB); a function or layer zip with more than this is not read.
MAX_MEMBERS = 100_000
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


def lint_archive(path: str, display: str, selection: Selection,
                 max_member: int = DEFAULT_MAX_MEMBER) -> FileResult:
    """Findings for one zip, its root bootstrap's findings included, under `zip!member` paths."""
    try:
        with open(path, "rb") as handle:
            members = member_count(handle)
        if members is not None and members > MAX_MEMBERS:
            return skipped(display, selection, f"the archive holds {members:,} members, over the "
                                             f"{MAX_MEMBERS:,} bootlint reads: not linted")
        archive = zipfile.ZipFile(path)
    except Exception as exc:   # zipfile raises whatever its parsing meets (NotImplementedError,
        # UnicodeDecodeError on names, struct.error, lzma errors): one archive, one BL904
        return skipped(display, selection, f"not a readable zip archive ({_why(exc)}): not linted")
    with archive:
        return _lint_archive(archive, display, selection, max_member)


def _why(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def member_count(handle) -> int | None:
    """How many members the end of central directory record (zip64 too) says the archive has;
    None when there is no such record (zipfile then says what is wrong)."""
    size = handle.seek(0, os.SEEK_END)
    tail_size = min(size, 65535 + 22 + 20)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(_EOCD)
    if at < 0 or at + 22 > len(tail):
        return None
    count = struct.unpack("<H", tail[at + 10:at + 12])[0]
    locator = at - 20
    if locator >= 0 and tail[locator:locator + 4] == _ZIP64_LOCATOR:
        offset = struct.unpack("<Q", tail[locator + 8:locator + 16])[0]
        if offset < size:
            handle.seek(offset)
            record = handle.read(56)
            if len(record) == 56 and record[:4] == _ZIP64_EOCD:
                count = max(count, struct.unpack("<Q", record[32:40])[0])
    return count


def _lint_archive(archive: zipfile.ZipFile, display: str, selection: Selection, max_member: int) -> FileResult:
    """The findings for an archive that opened."""
    infos = archive.infolist()
    by_name: dict[str, list[zipfile.ZipInfo]] = {}
    for info in infos:
        by_name.setdefault(info.filename.removeprefix("./").lstrip("/"), []).append(info)
    roots = by_name.get("bootstrap", [])
    if roots:
        result = _lint_member(archive, roots[-1], f"{display}!bootstrap", selection, max_member)
        if len(roots) > 1:
            # unzip keeps the last of equal names; other tools the first: both are looked at.
            result.findings += skipped(f"{display}!bootstrap", selection, (
                f"the archive holds {len(roots)} members named `bootstrap`: which one Lambda runs "
                f"depends on the tool that unpacks it; the last one is linted, the others are not "
                f"read; rebuild the zip with one")).findings
        return result
    result = FileResult(display)
    if not selection.enabled("BL404"):
        return result
    rule = all_rules()["BL404"]
    if "bootstrap/" in by_name:
        result.findings.append(finding(rule, f"{display}!bootstrap/", START, (
            "the archive's root `bootstrap` is a folder, not a file: Lambda fails with "
            "Runtime.InvalidEntrypoint; put the executable itself at the root")))
        return result
    backslashed = sorted(n for n in by_name if "\\" in n and n.rsplit("\\", 1)[-1] == "bootstrap")
    if backslashed:
        result.findings.append(finding(rule, f"{display}!{backslashed[0]}", START, (
            f"the archive has no `bootstrap` at its root, only a member named `{backslashed[0]}` "
            f"(a zip made on Windows writes `\\` in names): on Linux that is one file with a "
            f"backslash in its name, and Lambda fails with Runtime.InvalidEntrypoint; zip "
            f"from inside the folder with a tool that writes `/`")))
        return result
    nested = sorted(n for n in by_name if n.rsplit("/", 1)[-1] == "bootstrap")
    if nested:
        member = f"{display}!{nested[0]}"
        result.findings.append(finding(
            rule, member, START,
            f"the archive has no `bootstrap` at its root, only `{nested[0]}`: Lambda looks for "
            f"/var/task/bootstrap (or /opt/bootstrap in a layer) and fails with "
            f"Runtime.InvalidEntrypoint; zip from inside the folder (`cd build && zip -r "
            f"../function.zip .`)"))
    return result


def _lint_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, display: str,
                 selection: Selection, max_member: int) -> FileResult:
    unix_mode = info.external_attr >> 16
    if info.flag_bits & 0x1:
        return skipped(display, selection, "the member is encrypted: not read")
    if stat.S_ISLNK(unix_mode):
        return skipped(display, selection, "the member is a symbolic link: not followed; Lambda needs "
                                         "the bootstrap itself at the root")
    if info.file_size > max_member:
        return skipped(display, selection, f"the member is {info.file_size:,} bytes, over the "
                                         f"{max_member:,}-byte limit for a bootstrap: not read")
    if info.file_size > BOMB_MIN and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
        return skipped(display, selection, "the member's compression ratio looks like a zip bomb: not read")
    try:
        with archive.open(info) as handle:
            raw = handle.read(max_member + 1)  # bounded even if the header lies about the size
    except Exception as exc:   # zlib, lzma, bz2 errors, NotImplementedError, a bad header
        return skipped(display, selection, f"the member cannot be read ({_why(exc)}): the archive is "
                                         f"truncated or corrupt")
    if len(raw) > max_member:
        return skipped(display, selection, f"the member is over the {max_member:,}-byte limit: not read")
    src = SourceFile.from_bytes(display, raw)
    src.mode_origin = "zip"
    if info.create_system == UNIX or unix_mode:
        src.executable = bool(unix_mode & 0o111)
    else:
        src.executable = False
        src.mode_note = ("the entry has no Unix permissions at all, as zip tools on Windows write "
                         "it, so nothing marks it executable")
    return without_fixes(lint_source(src, selection))


def without_fixes(result: FileResult) -> FileResult:
    """An archive is built from sources and is never rewritten: a finding that has a fix says to
    make it in the source instead, and offers none."""
    result.findings = [
        replace(f, fix=None, message=f"{f.message} (fixable: make the fix in the source file and "
                                     f"rebuild the archive; bootlint does not rewrite archives)")
        if f.fix is not None else f for f in result.findings]
    return result
