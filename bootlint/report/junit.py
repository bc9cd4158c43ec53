"""JUnit XML: one test case per file linted, one failure per finding."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from bootlint.report.common import Run, printable


def render(run: Run) -> str:
    by_path: dict[str, list] = {path: [] for path in run.files}
    for f in run.findings:
        by_path.setdefault(f.path, []).append(f)
    suite = ET.Element("testsuite", name="bootlint", tests=str(len(by_path)),
                       failures=str(len(run.findings)), errors="0", skipped="0")
    for path, findings in by_path.items():
        # XML 1.0 cannot hold most control characters, not even as references: escaped text.
        case = ET.SubElement(suite, "testcase", classname="bootlint", name=printable(path))
        for f in findings:
            failure = ET.SubElement(case, "failure", message=printable(f"{f.code} {f.message}"), type=f.code)
            failure.text = printable(f"{f.path}:{f.span.line}:{f.span.column}: {f.severity.value}: "
                                     f"{f.message} [{f.code} {f.name}]")
    root = ET.Element("testsuites", name="bootlint", tests=suite.get("tests"), failures=suite.get("failures"))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
