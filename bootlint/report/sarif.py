"""SARIF 2.1.0: one run, the rules that ran, results with regions and stable fingerprints."""

from __future__ import annotations

import os
from urllib.parse import quote

from bootlint import __version__
from bootlint.report.common import Run, fingerprints, json_text

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str) -> str:
    """A path as a URI reference: its bytes percent-encoded (a name that is not UTF-8 too)."""
    return quote(os.fsencode(path), safe="/!")


def _rule(rule, docs_url: str | None) -> dict:
    """A rule's descriptor; ``helpUri`` only when the documentation home is configured."""
    from bootlint.docs import help_uri, what_it_reports

    out = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": what_it_reports(rule.code) or rule.summary},
        "helpUri": help_uri(rule.code, docs_url),
        "defaultConfiguration": {"level": LEVELS[rule.severity.value], "enabled": not rule.opt_in},
        "properties": {"tags": ["lambda", "custom-runtime"]},
    }
    if out["helpUri"] is None:
        del out["helpUri"]
    return out


def _region(span) -> dict:
    return {"startLine": span.line, "startColumn": span.column,
            "endLine": span.end_line, "endColumn": span.end_column}


def _fix(f) -> dict | None:
    """SARIF's fix object: text replacements by region, byte ones by offset. A fix that only
    changes the file's mode (BL403) has no replacement to describe and is left out."""
    fix = f.fix
    if fix is None:
        return None
    replacements = [{"deletedRegion": _region(e.span), "insertedContent": {"text": e.text}}
                    for e in fix.edits]
    for b in fix.byte_edits:
        replacement = {"deletedRegion": {"byteOffset": b.start, "byteLength": b.end - b.start}}
        if b.data:
            import base64

            replacement["insertedContent"] = {"binary": base64.b64encode(b.data).decode("ascii")}
        replacements.append(replacement)
    if not replacements:
        return None
    return {"description": {"text": fix.title},
            "artifactChanges": [{"artifactLocation": {"uri": _uri(f.path)},
                                 "replacements": replacements}],
            "properties": {"applicability": fix.applicability.value}}


def render(run: Run) -> str:
    from bootlint.docs import docs_home

    rules = run.rules
    index = {rule.code: i for i, rule in enumerate(rules)}
    results = []
    for f, fp in zip(run.findings, fingerprints(run.findings)):
        result = {
            "ruleId": f.code,
            "level": LEVELS[f.severity.value],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(f.path)},
                "region": {"startLine": f.span.line, "startColumn": f.span.column,
                           "endLine": f.span.end_line, "endColumn": f.span.end_column},
            }}],
            "partialFingerprints": {"bootlintFinding/v1": fp},
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        fix = _fix(f)
        if fix is not None:
            result["fixes"] = [fix]
        results.append(result)
    driver = {"name": "bootlint", "version": __version__, "semanticVersion": __version__}
    if run.docs_url:
        driver["informationUri"] = docs_home(run.docs_url)
    driver["rules"] = [_rule(rule, run.docs_url) for rule in rules]
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json_text(log, indent=2) + "\n"
