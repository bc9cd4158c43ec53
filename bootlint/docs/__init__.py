"""The rule pages (rules/BLxxx.md), shipped inside the package as bootlint/rule_docs. What the
pages derive from the rule definitions is written by ``python -m bootlint.docs --write``
(:mod:`bootlint.docs.generate`)."""

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
