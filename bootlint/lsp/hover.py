"""What hovering over a finding shows: the rule's summary from its page and how to fix it."""

from __future__ import annotations

from bootlint import docs
from bootlint.frontends.registry import by_name
from bootlint.diagnostics import Finding
from bootlint.rules import all_rules



def section(page: str, title: str) -> str:
    """The body of a `## title` section of a rule page ('' when there is none)."""
    marker = f"## {title}\n"
    if marker not in page:
        return ""
    return page.split(marker, 1)[1].split("\n## ", 1)[0].strip()


def hover_markdown(finding: Finding, language: str, docs_url: str | None = None) -> str:
    """Markdown for one finding: code, name and severity; the message; the rule's summary; how
    to fix it (the rule's fix and what the page says it does, else the page's passing example in
    the document's language); a link to the page where the settings' `docs-url` says the pages
    are published, else the command that prints it."""
    rule = all_rules().get(finding.code)
    page = docs.page(finding.code) or ""
    name = rule.name if rule else finding.name
    out = [f"**{finding.code}** `{name}` ({finding.severity.value})", "", finding.message, ""]
    summary = docs.what_it_reports(finding.code) or (rule.summary if rule else "")
    if summary:
        out += [f"**What it reports:** {summary}", ""]
    # The page's "Fix" section starts with a paragraph on what the automatic fix does.
    how = section(page, "Fix").split("```", 1)[0].strip()
    how = "" if how.lower().startswith("none") else " ".join(how.split())
    if finding.fix is not None:
        kind = "safe fix" if finding.fix.applicability.value == "safe" else "unsafe fix: review it"
        out += [f"**How to fix:** {finding.fix.title} ({kind}; offered as a quick fix). {how}".rstrip(), ""]
    else:
        # A page's examples are in the first language; the others' are under "<Language>: ...".
        frontend = by_name(language)
        own = f"{frontend.idioms.display_name}: passing example" if frontend is not None else ""
        example = (own and section(page, own)) or section(page, "Passing example")
        fence = example.split("\n", 1)
        if fence[0].startswith("```"):
            # The page's fences carry a test marker (```sh pass): an editor wants the language only.
            example = fence[0].split()[0] + ("\n" + fence[1] if len(fence) > 1 else "")
        if example:
            out += ["**How to fix:** as in this passing example:", "", example, ""]
    url = docs.help_uri(finding.code, docs_url)
    out.append(f"[{finding.code} rule page]({url})" if url else f"The rule's page: `bootlint rule {finding.code}`")
    return "\n".join(out).strip() + "\n"


def rule_markdown(code: str, docs_url: str | None = None) -> str:
    """Markdown for a rule named in a suppression comment: code, name and severity, what it
    reports, and where its page is."""
    rule = all_rules()[code]
    out = [f"**{code}** `{rule.name}` ({rule.severity.value})", ""]
    summary = docs.what_it_reports(code) or rule.summary
    if summary:
        out += [f"**What it reports:** {summary}", ""]
    url = docs.help_uri(code, docs_url)
    out.append(f"[{code} rule page]({url})" if url else f"The rule's page: `bootlint rule {code}`")
    return "\n".join(out).strip() + "\n"
