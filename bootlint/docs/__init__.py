"""The rule pages (rules/BLxxx.md), shipped inside the package as bootlint/rule_docs. What the
pages derive from the rule definitions is written by ``python -m bootlint.docs --write``
(:mod:`bootlint.docs.generate`)."""

from __future__ import annotations

from pathlib import Path

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


def help_uri(code: str, docs_url: str | None) -> str | None:
    """The address of a rule's page under the configured documentation home (the settings'
    `docs-url`: ``{code}`` in it is replaced, else ``/BLxxx.md`` is added); None when none is
    configured, and then nothing links to a page (it ships in the package: `bootlint rule`)."""
    if not docs_url:
        return None
    if "{code}" in docs_url:
        return docs_url.replace("{code}", code)
    return f"{docs_url.rstrip('/')}/{code}.md"


def docs_home(docs_url: str) -> str:
    """The documentation home itself: the configured `docs-url` up to where a code goes."""
    return docs_url.split("{code}", 1)[0]


def what_it_reports(code: str) -> str:
    """The first paragraph under "What it reports", as one line."""
    text = page(code) or ""
    _, _, rest = text.partition("## What it reports\n")
    paragraph = rest.split("\n\n", 1)[0].split("\n## ", 1)[0]
    return " ".join(paragraph.split())
