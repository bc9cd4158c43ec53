"""A reviewed snapshot per fixture: what `bootlint check --format concise` says about it (code,
line:column, severity, message, and each fix's applicability and title) and the unified diff
`bootlint check --diff --unsafe-fixes` prints. A reworded message, a moved column, a renamed or
re-classed fix and a changed fix output all fail here with a diff against the stored text.

The snapshots live in ``tests/snapshots/<language>/<rule>/<fixture>.snap``. To accept a change,
regenerate them and review the snapshot diff in ``git diff`` before committing:

    pytest tests/test_snapshots.py --snapshot-update      (or BOOTLINT_UPDATE_SNAPSHOTS=1)

Each fixture is linted as `tests/test_fixtures.py` lints it: under the name Lambda runs
(``bootstrap``, or ``bootstrap.py`` for a ``.py``), with its folder's rule added to the default
selection."""

from __future__ import annotations

import difflib

import pytest

from bootlint.engine import Selection
from bootlint.files.source import SourceFile
from bootlint.fixes.apply import FixRequest, fix_file
from conftest import FIXTURES, RULE_TARGET, ROOT, SNAPSHOTS, snapshot_path
CASES = sorted(p for p in FIXTURES.glob("*/BL*/*") if p.name.startswith(("fail-", "pass-")))


# Snapshots that pin the behaviour before a change that altered it by mistake: the test is an
# expected failure until the regression is fixed (strict, so the fix shows up as XPASS and the
# entry must be removed). Each entry names the commit and what changed.
KNOWN_REGRESSIONS: dict[str, str] = {}   # fixture id -> why its snapshot is a strict expected failure


def _id(path):
    return f"{path.parent.parent.name}/{path.parent.name}/{path.name}"


def snapshot_text(fixture) -> str:
    """The snapshot of one fixture, as stored."""
    from bootlint.report import printable
    from bootlint.report.concise import format_finding

    code = fixture.parent.name
    name = "bootstrap.py" if fixture.suffix == ".py" else "bootstrap"
    src = SourceFile.from_bytes(name, fixture.read_bytes())
    selection = Selection((), (), (code,), target=RULE_TARGET.get(code, "default"))
    result = fix_file(src, name, selection, FixRequest(write=False, unsafe=True))
    lines = [f"# {_id(fixture)}: bootlint check --extend-select {code} --format concise "
             f"(linted as {name})"]
    for f in sorted(result.findings, key=lambda f: f.sort_key()):
        lines.append(format_finding(f))
        if f.fix is not None:
            lines.append(f"    fix ({f.fix.applicability.value}): {f.fix.title}")
    if not result.findings:
        lines.append("(no findings)")
    lines.append(f"# bootlint check --extend-select {code} --diff --unsafe-fixes "
                 f"({result.fixed} fixed)")
    # Control characters shown escaped (a CR LF file's diff shows its `\\r`), so that the
    # snapshot is plain LF text that git and editors keep as it is.
    lines += [printable(line) for line in result.diff.rstrip("\n").split("\n")] if result.diff else ["(no diff)"]
    return "\n".join(lines) + "\n"


def _cases():
    for path in CASES:
        reason = KNOWN_REGRESSIONS.get(_id(path))
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        yield pytest.param(path, id=_id(path), marks=marks)


@pytest.mark.parametrize("fixture", list(_cases()))
def test_snapshot(fixture, snapshot_update):
    actual = snapshot_text(fixture)
    stored_path = snapshot_path(fixture)
    stored = stored_path.read_bytes().decode("utf-8") if stored_path.exists() else None
    if snapshot_update and _id(fixture) not in KNOWN_REGRESSIONS:
        if stored != actual:
            stored_path.parent.mkdir(parents=True, exist_ok=True)
            stored_path.write_bytes(actual.encode("utf-8"))
        return
    if stored is None:
        pytest.fail(f"no snapshot for {_id(fixture)}: run `pytest tests/test_snapshots.py "
                    f"--snapshot-update` and review the new file", pytrace=False)
    if stored != actual:
        diff = "".join(difflib.unified_diff(stored.splitlines(keepends=True), actual.splitlines(keepends=True),
                                            f"stored {stored_path.relative_to(ROOT)}", "actual"))
        pytest.fail(f"snapshot changed for {_id(fixture)} (if intended: `pytest tests/test_snapshots.py "
                    f"--snapshot-update`, then review the diff):\n{diff}", pytrace=False)


def test_every_snapshot_belongs_to_a_fixture(snapshot_update):
    """A snapshot left behind by a renamed or deleted fixture is stale (the update removes it)."""
    wanted = {snapshot_path(p) for p in CASES}
    stale = sorted(p for p in SNAPSHOTS.rglob("*.snap") if p not in wanted)
    if snapshot_update:
        for p in stale:
            p.unlink()
        return
    assert not stale, [str(p.relative_to(ROOT)) for p in stale]
