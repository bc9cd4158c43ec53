"""Suppression comments in shell and Python, and the findings about them (BL901, BL903)."""

from __future__ import annotations

from conftest import lint_text

SHELL = '''#!/bin/sh
set -e
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  EVENT=$(curl -sS -D /tmp/h "$API/invocation/next")
  %s
  printf '%%s' "$OUT" | curl -sS --data-binary @- "$API/invocation/$ID/response"
done
'''


def test_baseline_without_suppression():
    found = lint_text(SHELL % 'OUT=$(./handler <<< "$EVENT")')
    assert ("BL101", 6, 9) in found


def test_end_of_line_directive_applies_to_its_line():
    found = lint_text(SHELL % 'OUT=$(./handler <<< "$EVENT")  # bootlint: disable=BL101 -- pure handler')
    assert not [f for f in found if f[0] in ("BL101", "BL901", "BL903")]


def test_own_line_directive_applies_to_the_next_command_all_its_lines():
    text = SHELL % '# bootlint: disable=BL101\n  OUT=$(\n    ./handler <<< "$EVENT"\n  )'
    found = lint_text(text)
    assert not [f for f in found if f[0] in ("BL101", "BL901")]


def test_directive_before_the_loop_covers_the_loop():
    text = SHELL.replace("while true; do", "# bootlint: disable=BL101,BL201\nwhile true; do") % 'OUT=$(./handler <<< "$EVENT")'
    found = lint_text(text)
    assert not [f for f in found if f[0] in ("BL101", "BL201", "BL901")]


def test_directive_does_not_reach_other_lines():
    text = SHELL % '# bootlint: disable=BL101\n  echo hi\n  OUT=$(./handler <<< "$EVENT")'
    found = lint_text(text)
    assert ("BL101", 8, 9) in found
    assert ("BL901", 6, 3) in found  # it covered `echo hi`, which had no BL101


def test_disable_file():
    found = lint_text(SHELL % 'OUT=$(./handler <<< "$EVENT")' + "# bootlint: disable-file=BL201\n")
    assert not [f for f in found if f[0] == "BL201"]


def test_invalid_suppressions():
    text = ("#!/bin/sh\n# bootlint: disable BL101\n# bootlint: disable=BL777,BL101\n"
            "# bootlint: enable=BL101\n# bootlint: disable=\necho # bootlint: disable=BL901\n")
    assert [f for f in lint_text(text) if f[0] == "BL903"] == [
        ("BL903", 2, 1), ("BL903", 3, 1), ("BL903", 4, 1), ("BL903", 5, 1), ("BL903", 6, 6)]


def test_directive_inside_a_string_is_not_one():
    text = "#!/bin/sh\necho '# bootlint: disable=BL777'\n"
    assert lint_text(text) == []


def test_unused_only_for_enabled_rules():
    text = "#!/bin/sh\n# bootlint: disable=BL007\necho hi\n"
    assert lint_text(text) == []                       # BL007 is opt-in: not unused
    assert lint_text(text, extend=("BL007",)) == [("BL901", 2, 1)]


PYTHON = '''#!/usr/bin/env python3
import json, os, requests
API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
from app import handle
while True:
    r = requests.get(API + "/invocation/next")
    %s
    requests.post(API + "/invocation/x/response", data=json.dumps(out))
'''


def test_python_noqa_and_directives():
    assert ("BL101", 7, 11) in lint_text(PYTHON % "out = handle(r.json())")
    for line in ("out = handle(r.json())  # noqa: BL101", "out = handle(r.json())  # noqa: E501, BL101",
                 "# bootlint: disable=BL101\n    out = handle(r.json())",
                 "out = handle(r.json())  # bootlint: disable=BL101"):
        found = lint_text(PYTHON % line)
        assert not [f for f in found if f[0] in ("BL101", "BL901", "BL903")], line
    # A bare noqa and other linters' codes are not bootlint's.
    assert ("BL101", 7, 11) in lint_text(PYTHON % "out = handle(r.json())  # noqa")
    assert ("BL101", 7, 11) in lint_text(PYTHON % "out = handle(r.json())  # noqa: E501")


def test_python_directive_in_a_string_is_not_one():
    text = PYTHON % 'out = handle("# bootlint: disable=BL101")'
    assert ("BL101", 7, 11) in lint_text(text)


def test_the_suppression_grammar_is_the_front_ends_comment_syntax(monkeypatch):
    """The directives are read in the comment syntax the file's front end declares
    (`Idioms.comment`), not a hard-coded `#`: with a language whose comments start with `//`,
    `// bootlint: disable=` suppresses and `# bootlint: disable=` is no directive."""
    from dataclasses import replace

    from bootlint.config import suppress
    from bootlint.frontends.registry import by_name

    comments = [(1, 1, "// bootlint: disable-file=BL201", True), (2, 10, "# bootlint: disable=BL101", False),
                (3, 10, "// bootlint: enable=BL101", False)]
    directives, problems = suppress.parse(comments, [], {"BL101", "BL201"}, comment="//")
    assert [(d.codes, d.first_line) for d in directives] == [(("BL201",), 0)]
    assert [(span.line, message) for span, message in problems] == [
        (3, "malformed suppression `// bootlint: enable=BL101`: write "
            "`// bootlint: disable=BL101 -- reason` or `disable-file=...`")]
    # The engine asks the file's front end: the shell front end with another comment leader no
    # longer reads `# bootlint:` as a directive.
    text = SHELL % 'OUT=$(./handler <<< "$EVENT")  # bootlint: disable=BL101'
    assert ("BL101", 6, 9) not in lint_text(text)
    import bootlint.engine as engine

    def with_semicolon_comments(name):
        frontend = by_name(name)
        return replace(frontend, idioms=replace(frontend.idioms, comment=";")) if frontend else None

    monkeypatch.setattr(engine, "by_name", with_semicolon_comments)
    assert ("BL101", 6, 9) in lint_text(text)
