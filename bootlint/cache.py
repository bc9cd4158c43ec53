"""A content-hash cache of findings, so a repeat run over an unchanged tree parses nothing.

An entry's key covers everything the findings depend on: the file's bytes, the name it is shown
under, the bash that `bash -n` would run, whether it is executable and how that was learnt, the rules selected for it, and the
bootlint version. Entries are written atomically; an unreadable or corrupt one is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os

from bootlint import __version__
from bootlint.engine import FileResult, Selection
from bootlint.model import Applicability, ByteEdit, Edit, Finding, Fix, Related, Severity, Span
from bootlint.source import SourceFile

DEFAULT_DIR = ".bootlint_cache"
# Bumped when an entry's layout changes, so that older entries are misses, not wrong answers.
ENTRY_FORMAT = "2"


def _span(data: list[int]) -> Span:
    return Span(*data)


def _fix_to_json(fix: Fix | None):
    if fix is None:
        return None
    return {"title": fix.title, "applicability": fix.applicability.value, "mode": fix.mode,
            "edits": [[[e.span.line, e.span.column, e.span.end_line, e.span.end_column], e.text]
                      for e in fix.edits],
            "byte_edits": [[b.start, b.end, b.data.hex()] for b in fix.byte_edits]}


def _fix_from_json(data) -> Fix | None:
    if data is None:
        return None
    return Fix(data["title"], tuple(Edit(_span(s), t) for s, t in data["edits"]),
               Applicability(data["applicability"]), data["mode"],
               tuple(ByteEdit(a, b, bytes.fromhex(h)) for a, b, h in data["byte_edits"]))


class Cache:
    def __init__(self, directory: str = DEFAULT_DIR, enabled: bool = True) -> None:
        self.root = os.path.join(directory, __version__)
        self.enabled = enabled
        self._prepared = False
        # Shell findings depend on whether `bash -n` can be asked (BL905 or BL900).
        import shutil

        self._bash = shutil.which("bash") or ""

    def key(self, src: SourceFile, selection: Selection) -> str:
        digest = hashlib.sha256()
        for part in (__version__, ENTRY_FORMAT, self._bash, src.path, repr(src.executable), src.mode_origin, src.mode_note,
                     repr((selection.select, selection.ignore, selection.extend_select,
                           sorted(selection.severity.items())))):
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(src.raw)
        return digest.hexdigest()

    def _path(self, key: str) -> str:
        return os.path.join(self.root, key[:2], key + ".json")

    def get(self, key: str) -> FileResult | None:
        if not self.enabled:
            return None
        try:
            with open(self._path(key), encoding="utf-8") as handle:
                data = json.load(handle)
            result = FileResult(data["path"])
            result.findings = [Finding(f["code"], f["name"], Severity(f["severity"]), f["message"],
                                       f["path"], Span(*f["span"]), f["source_line"],
                                       _fix_from_json(f.get("fix")),
                                       tuple(Related(_span(s), m) for s, m in f.get("related", ())))
                               for f in data["findings"]]
            return result
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, result: FileResult) -> None:
        if not self.enabled or result.internal_error:
            return
        data = {"path": result.path, "findings": [
            {"code": f.code, "name": f.name, "severity": f.severity.value, "message": f.message,
             "path": f.path, "span": [f.span.line, f.span.column, f.span.end_line, f.span.end_column],
             "source_line": f.source_line, "fix": _fix_to_json(f.fix),
             "related": [[[r.span.line, r.span.column, r.span.end_line, r.span.end_column], r.message]
                         for r in f.related]} for f in result.findings]}
        import tempfile

        path = self._path(key)
        try:
            self._prepare()
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(tmp, path)
        except OSError:
            self.enabled = False  # a read-only tree: lint on without a cache

    def _prepare(self) -> None:
        """Mark the folder as a cache (backup tools skip it, git ignores it)."""
        if self._prepared:
            return
        self._prepared = True
        base = os.path.dirname(self.root)
        os.makedirs(base, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n"
                                            "# This folder is a cache made by bootlint.\n"),
                           (".gitignore", "*\n")):
            target = os.path.join(base, name)
            if not os.path.exists(target):
                with open(target, "w", encoding="utf-8") as handle:
                    handle.write(text)
