"""Linting a list of targets: reading each file safely and collecting results in order."""

from __future__ import annotations

import os
import stat
from dataclasses import field
from typing import TYPE_CHECKING

from fnmatch import fnmatch

from bootlint.config.settings import NearestSettings, Settings
from bootlint.files.discover import Target
from bootlint.engine import FileResult, Selection, finding, lint_source, skipped  # noqa: F401 (cli)
from bootlint.engine import START
from bootlint.rules import all_rules
from bootlint.files.gitmodes import GitModes
from bootlint.files.source import SourceFile
from bootlint.util.records import dataclass

if TYPE_CHECKING:
    from bootlint.fixes.apply import FixRequest
    from bootlint.util.cache import Cache


@dataclass
class RunResult:
    """What a run gave: each file's result, in the targets' order, and the files it could not read."""

    files: list[FileResult] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)   # (path, reason)

    @property
    def findings(self):
        return [f for r in self.files for f in r.findings]

    @property
    def internal_error(self) -> bool:
        return any(r.internal_error for r in self.files)

    @property
    def fix_problems(self) -> list[tuple[str, str]]:
        """(path, why) for every file whose fixes could not be written."""
        return [(r.path, r.fix_problem) for r in self.files if r.fix_problem]


def read_target(target: Target, max_bytes: int) -> tuple[SourceFile | None, str]:
    """The file's bytes as a SourceFile, or why it was not read (never blocks on a FIFO)."""
    try:
        st = os.stat(target.path)
    except OSError as exc:
        return None, exc.strerror or str(exc)
    if not stat.S_ISREG(st.st_mode):
        return None, "skip:not a regular file (FIFO, device or socket): not read"
    if st.st_size > max_bytes:
        return None, (f"skip:{st.st_size:,} bytes is over the {max_bytes:,}-byte limit: not read "
                      f"(raise it with --max-file-size)")
    try:
        with open(target.path, "rb") as handle:
            raw = read_bounded(handle, max_bytes)
    except OSError as exc:
        return None, exc.strerror or str(exc)
    if len(raw) > max_bytes:  # it grew after stat()
        return None, f"skip:over the {max_bytes:,}-byte limit: not read (raise it with --max-file-size)"
    src = SourceFile.from_bytes(target.display, raw, mode=st.st_mode)
    if src.is_entrypoint:
        note_executable(src, target.path, st.st_mode)
    return src, ""


def read_bounded(handle, max_bytes: int, chunk: int = 1 << 20) -> bytes:
    """At most ``max_bytes + 1`` bytes (one more tells "over the limit"), read in chunks: a
    read of the whole limit at once would allocate the limit up front."""
    parts, total = [], 0
    while total <= max_bytes:
        data = handle.read(min(chunk, max_bytes + 1 - total))
        if not data:
            break
        parts.append(data)
        total += len(data)
    return b"".join(parts)


_GIT = GitModes()


def note_executable(src: SourceFile, path: str, disk_mode: int) -> None:
    """Where the execute bit is decided: the git index for a tracked file, else the disk."""
    index_mode = _GIT.mode(path)
    if index_mode is not None:
        src.executable, src.mode_origin = bool(index_mode & 0o111), "git index"
    else:
        src.executable, src.mode_origin = bool(disk_mode & 0o111), "disk"


def lint_target(target: Target, selection: Selection, max_bytes: int,
                cache: "Cache | None" = None,
                fixing: "FixRequest | None" = None) -> tuple[FileResult | None, str]:
    """Lint one target (and fix it, when ``fixing`` asks); returns (result, "") or (None,
    reason it could not be read). Archives are never rewritten."""
    if target.problem:
        return None, target.problem
    if target.path.lower().endswith(".zip") and os.path.isfile(target.path):
        from bootlint.files.archive import lint_archive

        return lint_archive(target.path, target.display, selection), ""
    src, problem = read_target(target, max_bytes)
    if src is None:
        if problem.startswith("skip:"):
            return skipped(target.display, selection, problem[5:]), ""
        return None, problem
    if fixing is not None:
        from bootlint.fixes.apply import fix_file

        return fix_file(src, target.path, selection, fixing), ""
    if cache is None or not cache.enabled:   # no key to compute (--no-cache, an unusable folder)
        return lint_source(src, selection), ""
    key = cache.key(src, selection)
    result = cache.get(key)
    if result is None:
        result = lint_source(src, selection)
        cache.put(key, result)
    return result, ""


def selection_for(settings: Settings, display: str) -> Selection:
    """The rules for one file: the settings' selection plus its per-file ignores."""
    ignore = settings.ignore
    name = display.rsplit("/", 1)[-1]
    for glob, codes in settings.per_file_ignores.items():
        if fnmatch(display, glob) or fnmatch(name, glob):
            ignore += codes
    return Selection(settings.select, ignore, settings.extend_select, settings.severity,
                     settings.target)


# Below this many files, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 24


def worker_count(requested: int, files: int) -> int:
    """Workers for a run: never more than the files, nor twice the CPUs."""
    return max(1, min(requested, files, 2 * (os.cpu_count() or 1)))


def _lint_one(job: tuple[Target, Settings, str, "Cache | None", "FixRequest | None"]):
    target, settings, place, cache, fixing = job
    return lint_target(target, selection_for(settings, place), settings.max_file_size, cache, fixing)


def _cached(job) -> tuple[FileResult, str] | None:
    """A plain file's result from the cache, or None (not cached, not readable here, an archive:
    :func:`lint_target` decides)."""
    target, settings, place, cache, _ = job
    if target.problem or target.path.lower().endswith(".zip"):
        return None
    src, _problem = read_target(target, settings.max_file_size)
    if src is None:
        return None
    result = cache.get(cache.key(src, selection_for(settings, place)))
    return None if result is None else (result, "")


def _lint_all(work: list) -> list:
    return [_lint_one(job) for job in work]


def run(targets: list[Target], settings: Settings, jobs: int = 1, cache: "Cache | None" = None,
        fixing: "FixRequest | None" = None, nearest: "NearestSettings | None" = None) -> RunResult:
    """Lint every target (fixing it when ``fixing`` asks), in parallel processes when there are
    enough of them; the results come back in the targets' order either way. ``nearest`` gives
    each file the settings of its nearest configuration file (else ``settings`` for all)."""
    work = []
    for target in targets:
        own, place = nearest.for_file(target.path, target.display) if nearest else (settings, target.display)
        work.append((target, own, place, cache, fixing))
    outcomes: list = [None] * len(work)
    todo = list(range(len(work)))
    if cache is not None and cache.enabled and fixing is None:
        # Answered from the cache here, before any worker starts: a rerun over unchanged files
        # starts no process and sends no result between processes. (A miss is read again where
        # it is linted, and its key computed again from what is read there.)
        todo = []
        for index, job in enumerate(work):
            outcomes[index] = _cached(job)
            if outcomes[index] is None:
                todo.append(index)
    pending = [work[i] for i in todo]
    jobs = worker_count(jobs, len(pending))
    if jobs > 1 and len(pending) >= PARALLEL_MIN_FILES:
        from bootlint.util.workers import lint_in_workers

        linted = lint_in_workers(_lint_one, pending, jobs, _worker_died)
    elif pending:
        from bootlint.util.deepstack import call_with_large_stack

        # The whole loop on the large-stack thread: each file's lint then runs there directly,
        # not handed over and waited for (two thread switches a file).
        linted = call_with_large_stack(_lint_all, pending)
    else:
        linted = []
    for index, outcome in zip(todo, linted):
        outcomes[index] = outcome
    result = RunResult()
    for target, (file_result, problem) in zip(targets, outcomes):
        if file_result is None:
            result.unreadable.append((target.display, problem))
        else:
            result.files.append(file_result)
    return result


def _worker_died(job, how: str):
    """The outcome for a file whose worker process died while linting it (a crash in native
    code, or the kernel's out-of-memory killer): BL999 for it, the run goes on."""
    target = job[0]
    result = FileResult(target.display, internal_error=True)
    result.findings.append(finding(all_rules()["BL999"], target.display, START,
                                   f"internal error: the process linting this file died ({how}); "
                                   f"the other files were linted; please report this"))
    return result, ""
