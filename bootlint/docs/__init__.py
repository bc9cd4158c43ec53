"""The rule pages (rules/BLxxx.md), shipped inside the package as bootlint/rule_docs."""

from __future__ import annotations

from pathlib import Path

from bootlint import REPOSITORY

_PACKAGED = Path(__file__).resolve().parent.parent / "rule_docs"
_CHECKOUT = Path(__file__).resolve().parent.parent.parent / "rules"


def page_path(code: str) -> Path | None:
    """The page of a rule: packaged with the wheel, or in the checkout (editable installs)."""
    for folder in (_PACKAGED, _CHECKOUT):
        path = folder / f"{code}.md"
        if path.is_file():
            return path
    return None


def page(code: str) -> str | None:
    path = page_path(code)
    return path.read_text(encoding="utf-8") if path else None


def help_uri(code: str) -> str:
    return f"{REPOSITORY}/blob/main/rules/{code}.md"


def what_it_reports(code: str) -> str:
    """The first paragraph under "What it reports", as one line."""
    text = page(code) or ""
    _, _, rest = text.partition("## What it reports\n")
    paragraph = rest.split("\n\n", 1)[0].split("\n## ", 1)[0]
    return " ".join(paragraph.split())


def applies_to(code: str) -> str | None:
    """"shell and Python": the languages whose front end can report a rule over the model (None
    for rules about the file itself, which apply to any file)."""
    from bootlint.frontends.registry import front_ends
    from bootlint.rules import all_rules

    rule = all_rules()[code]
    if rule.check is None or not rule.needs_model:
        return None
    names = [fe.idioms.display_name for fe in front_ends() if code not in fe.cannot_report]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def header_line(code: str) -> str:
    """The line under a rule page's title, from the registry: severity, default, languages."""
    from bootlint.rules import all_rules

    rule = all_rules()[code]
    default = f"**Opt-in** (`--extend-select {code}`)" if rule.opt_in else "**On by default**"
    line = f"**Severity:** {rule.severity.value} · {default}"
    languages = applies_to(code)
    return f"{line} · {languages}" if languages else line


def rules_table() -> str:
    """The README's table of rules, generated from the registry (a test keeps them equal)."""
    from bootlint.rules import all_rules

    rows = ["| code | name | severity | |", "|---|---|---|---|"]
    for code, rule in all_rules().items():
        severity = rule.severity.value + (", opt-in" if rule.opt_in else "")
        rows.append(f"| [{code}](rules/{code}.md) | {rule.name} | {severity} | "
                    f"{rule.summary.rstrip('.')} |")
    return "\n".join(rows) + "\n"
