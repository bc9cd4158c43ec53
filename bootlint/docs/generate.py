"""Everything the documentation derives from the rule definitions (bootlint.rules.registry),
written by ``python -m bootlint.docs --write`` and checked by ``--check`` (a test runs it):

- each rule page's head (``rules/BLxxx.md`` up to its first ``## `` section): the title line,
  the severity/default/where line and, for a rule with a fix, the fix line;
- the README's rules table and its list of the rules that have a fix, each between
  ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->`` markers.

The prose and the examples of the pages are written by hand and never touched.
"""

from __future__ import annotations

import re
from pathlib import Path

from bootlint.diagnostics import Applicability
from bootlint.fixes.build import implemented_by
from bootlint.frontends.registry import front_ends
from bootlint.rules import all_rules
from bootlint.rules.registry import Rule, applies_to

ROOT = Path(__file__).resolve().parent.parent.parent


def _names(frontends) -> str:
    """"shell and Python": the display names of some front ends."""
    names = [fe.idioms.display_name for fe in frontends]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def where(rule: Rule) -> str:
    """What a rule applies to: the languages whose front ends have what it needs, or its scope
    (any bootstrap, any file, deployment zips)."""
    frontends = applies_to(rule, front_ends())
    return rule.scope.value if frontends is None else _names(frontends)


def fix_applicability(rule: Rule) -> Applicability | None:
    """The least safe applicability of the fixes a rule may ask for (None: it has no fix)."""
    kinds = [kind.applicability for kind in rule.fixes]
    if not kinds:
        return None
    return Applicability.UNSAFE if Applicability.UNSAFE in kinds else Applicability.SAFE


def fix_where(rule: Rule) -> str:
    """Which languages carry out a rule's fixes (looked up in each front end's implementations),
    or "any bootstrap" for a fix about the file itself."""
    frontends: list = []
    for kind in rule.fixes:
        found = implemented_by(kind, front_ends())
        if found is None:
            return rule.scope.value
        frontends += [fe for fe in found if fe not in frontends]
    order = list(front_ends())
    return _names(sorted(frontends, key=order.index)) if frontends else ""


def header(code: str) -> str:
    """A rule page's head: title, then the line of facts, then the fix's line when it has one."""
    rule = all_rules()[code]
    default = f"**Opt-in** (`--extend-select {code}`)" if rule.opt_in else "**On by default**"
    facts = [f"**Severity:** {rule.severity.value}", default, where(rule)]
    if rule.verify_only:
        facts.append("**reported by `bootlint verify` only**")
    if rule.always_on:
        facts.append("cannot be ignored")
    elif not rule.suppressible:
        facts.append("can be ignored only in configuration")
    lines = [f"# {code} {rule.name}", "", " · ".join(facts), ""]
    applicability = fix_applicability(rule)
    if applicability is not None:
        how = "`--fix`" if applicability is Applicability.SAFE else "`--unsafe-fixes`"
        lines += [f"**Fix:** {applicability.value} ({how}) · {fix_where(rule)}", ""]
    return "\n".join(lines) + "\n"


def rules_table() -> str:
    """The README's table of rules."""
    rows = ["| code | name | severity | |", "|---|---|---|---|"]
    for code, rule in all_rules().items():
        severity = rule.severity.value + (", opt-in" if rule.opt_in else "")
        rows.append(f"| [{code}](rules/{code}.md) | {rule.name} | {severity} | "
                    f"{rule.summary.rstrip('.')} |")
    return "\n".join(rows) + "\n"


def fixable_rules() -> str:
    """The README's list of the rules that have a fix, safe then unsafe; a rule whose fix only
    some of its languages carry out names them."""
    groups: dict[Applicability, list[str]] = {Applicability.SAFE: [], Applicability.UNSAFE: []}
    for code, rule in all_rules().items():
        applicability = fix_applicability(rule)
        if applicability is None:
            continue
        languages = fix_where(rule)
        note = f" ({languages})" if languages != where(rule) else ""
        groups[applicability].append(code + note)
    return (f"Safe: {', '.join(groups[Applicability.SAFE])}.\n"
            f"Unsafe: {', '.join(groups[Applicability.UNSAFE])}.\n")


README_PARTS = {"rules-table": rules_table, "fixable-rules": fixable_rules}
_HEAD = re.compile(r"\A.*?(?=^## )", re.S | re.M)


def _page(text: str, code: str) -> str:
    found = _HEAD.match(text)
    if found is None:
        raise ValueError(f"rules/{code}.md has no '## ' section")
    return header(code) + text[found.end():]


def _readme(text: str) -> str:
    """The README with each generated part rewritten, indented as its markers are (a part may sit
    inside a list item)."""
    for name, make in README_PARTS.items():
        pattern = re.compile(rf"^(?P<indent>[ ]*)(?P<open><!-- generated: {name} -->\n).*?"
                             rf"^(?P=indent)(?P<close><!-- end: {name} -->)", re.S | re.M)
        if not pattern.search(text):
            raise ValueError(f"README.md has no '<!-- generated: {name} -->' ... '<!-- end: {name} -->'")

        def fill(m: re.Match, make=make) -> str:
            body = "".join(m["indent"] + line for line in make().splitlines(keepends=True))
            return m["indent"] + m["open"] + body + m["indent"] + m["close"]

        text = pattern.sub(fill, text)
    return text


def expected(root: Path = ROOT) -> dict[Path, tuple[str, str]]:
    """Every file that holds a derived artefact: (what it holds, what it should hold). A rule
    without a page gets a page with only its head (to be written)."""
    out: dict[Path, tuple[str, str]] = {}
    for code in all_rules():
        path = root / "rules" / f"{code}.md"
        text = path.read_text(encoding="utf-8") if path.is_file() else "## What it reports\n"
        out[path] = (text, _page(text, code))
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    out[readme] = (text, _readme(text))
    return out


def stale(root: Path = ROOT) -> list[Path]:
    """The files whose derived parts differ from what the rule definitions give."""
    return [path for path, (now, wanted) in expected(root).items() if now != wanted]


def write(root: Path = ROOT) -> list[Path]:
    """Write every stale file; returns the files written."""
    written = []
    for path, (now, wanted) in expected(root).items():
        if now != wanted:
            path.write_text(wanted, encoding="utf-8")
            written.append(path)
    return written
