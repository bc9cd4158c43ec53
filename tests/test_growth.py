"""Growth (issue 20): the shell front end's cost grows with the file, not faster. Each shortcut
taken for it answers what the longer way answered: these tests compare them on every shell
fixture and on long generated files."""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path

import pytest

from bootlint.frontends.shell.index import build_index, max_depth
from bootlint.frontends.shell.syntax import MAX_NESTING, parser

ROOT = Path(__file__).resolve().parent.parent
SHELL_FILES = sorted((ROOT / "tests" / "fixtures" / "shell").rglob("*.sh")) + \
    sorted(p for p in (ROOT / "examples").rglob("bootstrap*") if p.suffix != ".py")
NESTED_LOOPS = (b"#!/bin/bash\nwhile true; do\n  for i in 1 2; do\n    echo a\n    until false; do b; done\n"
                b"    c\n  done\n  d\ndone\nf() {\n  while read -r x; do e \"$x\"; done\n  g\n}\nh\n")


def _texts() -> list[bytes]:
    texts = [path.read_bytes() for path in SHELL_FILES]
    texts.append(b"#!/bin/bash\n" + (ROOT / "examples" / "tutorial" / "bootstrap").read_bytes() * 30)
    texts.append(NESTED_LOOPS * 20)
    return texts


def _full_depth(root) -> int:
    """Every node's depth, by the plain cursor walk the index made before (the reference)."""
    cursor = root.walk()
    depth = deepest = 0
    while True:
        if cursor.goto_first_child():
            depth += 1
            deepest = max(deepest, depth)
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return deepest
            depth -= 1


def test_max_depth_is_exact_past_the_limit_and_within_it_otherwise():
    """Subtrees with too few nodes to reach past the limit are not walked: the answer is the
    depth whenever the tree nests deeper than the limit, and never over the limit when not."""
    deep = [b"#!/bin/bash\nx=" + b"$(" * n + b"echo" + b")" * n + b"\n" for n in (3, 40, 700)]
    deep.append(b"#!/bin/bash\n" + b"".join(b" " * i + b"if x; then\n" for i in range(60)) + b"fi\n" * 60)
    checked = 0
    for text in _texts() + deep:
        root = parser().parse(text).root_node
        full = _full_depth(root)
        for limit in (0, 1, 2, 5, 10, 30, 100, 1000, MAX_NESTING):
            found = max_depth(root, limit)
            if full > limit:
                assert found == full, (limit, text[:80])
                checked += 1
            else:
                assert found <= limit, (limit, text[:80])
    assert checked > 500


def test_a_file_nested_past_the_limit_says_how_deep():
    from bootlint.engine import Selection, lint_source
    from bootlint.files.source import SourceFile

    text = b"#!/bin/bash\nx=" + b"$(" * 1500 + b"echo" + b")" * 1500 + b"\n"
    depth = _full_depth(parser().parse(text).root_node)
    assert depth > MAX_NESTING
    message = lint_source(SourceFile.from_bytes("bootstrap", text), Selection()).findings[0].message
    assert f"syntax nested {depth:,} levels deep" in message


def _region_by_scan(index, node):
    """The innermost loop or function definition around the node, by the scan back over every
    loop that starts before it (the reference :meth:`ShellIndex.region_of` answers by a chain)."""
    start = node.start_byte
    best = None
    function = index.function_of(node)
    if function is not None:
        definition = index.functions.get(function)
        if definition is not None and definition.start_byte <= start < definition.end_byte:
            best = (definition.start_byte, definition.end_byte)
    at = bisect_right(index.loop_ranges, (start, float("inf"))) - 1
    while at >= 0 and (best is None or index.loop_ranges[at][0] > best[0]):
        begin, end = index.loop_ranges[at]
        if start < end:
            return (begin, end)
        at -= 1
    return best


def test_the_region_of_every_command_is_the_one_the_scan_finds():
    compared = 0
    for text in _texts():
        index = build_index(parser().parse(text).root_node)
        for node in index.commands:
            assert index.region_of(node) == _region_by_scan(index, node), text[:80]
            compared += 1
    assert compared > 4000


def _repeated_runtime(copies: int) -> bytes:
    """bench/inprocess.py's input: one generated runtime written out again and again (the same
    functions and variables defined anew in each copy)."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from run import shell_bootstrap
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return ("#!/bin/bash\n" + shell_bootstrap(0).split("\n", 1)[1] * copies).encode()


def test_last_between_is_the_largest_in_the_range():
    from random import Random

    from bootlint.frontends.shell.handlers import last_between

    rng = Random(20)
    for _ in range(2000):
        ordered = sorted(rng.sample(range(60), rng.randrange(0, 12)))
        low, high = rng.randrange(-5, 65), rng.choice([rng.randrange(-5, 65), float("inf")])
        inside = [n for n in ordered if low <= n < high]
        assert last_between(ordered, low, high) == (max(inside) if inside else None)
    assert last_between((), 0, float("inf")) is None


@pytest.mark.parametrize("copies", [1, 3, 12])
def test_the_repeated_runtime_gets_what_the_scans_found(copies, monkeypatch):
    """The handler search's regions and posts, by the chain and bisection, against the scans
    they replace: the same per-event work on the same lines, the same model, the same findings."""
    from bootlint.engine import Selection, lint_source
    from bootlint.files.source import SourceFile
    from bootlint.frontends.shell import handlers
    from bootlint.frontends.shell.index import ShellIndex

    text = _repeated_runtime(copies)
    seen: list[dict] = []
    find = handlers.EventWork._find

    def recording(self) -> None:
        find(self)
        seen.append(dict(self.found))

    monkeypatch.setattr(handlers.EventWork, "_find", recording)

    def run() -> list:
        result = lint_source(SourceFile.from_bytes("bootstrap", text), Selection(), keep_model=True)
        return [sorted((f.code, f.span.line, f.message) for f in result.findings), repr(result.model)]

    fast = run()
    monkeypatch.setattr(ShellIndex, "region_of", _region_by_scan)
    monkeypatch.setattr(handlers, "last_between", lambda ordered, low, high: max(
        (n for n in ordered if low <= n < high), default=None))
    assert run() == fast
    assert seen[0] == seen[1] and len(seen[0]) == copies


def _words(text: str):
    from bootlint.files.source import SourceFile
    from bootlint.frontends.shell.values import Words

    src = SourceFile.from_bytes("bootstrap", text.encode())
    root = parser().parse(src.encoded).root_node
    return Words(src, build_index(root)), root


def _last_command_word(root):
    index = build_index(root)
    return index.commands[-1].named_children[-1]


def test_reading_is_what_an_alternative_says_without_where():
    from bootlint.diagnostics import Span
    from bootlint.frontends.shell.values import reading
    from bootlint.model import Piece

    here, there = Span(1, 1, 1, 4), Span(9, 5, 9, 8)
    assert reading((Piece(text="abc", span=here), Piece(var="X", span=here))) == \
        reading((Piece(text="abc", span=there), Piece(var="X")))
    assert reading((Piece(text="abc"),)) != reading((Piece(text="abd"),))
    assert reading((Piece(var="X", default="1"),)) != reading((Piece(var="X"),))
    assert reading((Piece(var="X", digits=True),)) != reading((Piece(var="X"),))


def test_past_two_alike_a_variables_alternatives_keep_only_what_reads_differently():
    """MAX_SAME_SHAPE: the same text given a third time and more adds no alternative (the first
    two stay, with where they were written); a different text still does, in order."""
    from bootlint.frontends.shell.values import MAX_SAME_SHAPE

    assert MAX_SAME_SHAPE == 2
    text = "#!/bin/bash\n" + 'U="http://h/a"\n' * 5 + 'U="http://h/b"\n' + 'U="http://h/a"\n' + 'curl "$U/x"\n'
    words, root = _words(text)
    alts = words.evaluate(_last_command_word(root))
    assert ["".join(p.text for p in alt) for alt in alts] == ["http://h/a/x", "http://h/a/x", "http://h/b/x"]
    assert [alt[0].span.line for alt in alts] == [2, 3, 7]
    # Given once, it reads one way; twice or more, several (as before the limit).
    for times, value in ((1, "a"), (2, None), (3, None), (30, None)):
        words, root = _words("#!/bin/bash\n" + "U=a\n" * times + 'echo "$U"\n')
        assert words.literal(_last_command_word(root)) == value, times


@pytest.mark.parametrize("times", [2, 3, 17, 40])
def test_a_variable_given_the_same_url_again_and_again_has_the_findings_of_twice(times):
    """Past the limit nothing changes: a runtime that assigns its API base (and its handler's
    output) the same text 2, 3 or 40 times on one line gets the same findings."""
    from bootlint.engine import Selection, lint_source
    from bootlint.files.source import SourceFile

    def found(n: int) -> list:
        text = ("#!/bin/bash\nset -euo pipefail\n"
                + 'API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"; ' * n + "\n"
                + 'while true; do\n  H=$(mktemp)\n  E=$(curl -sS -D "$H" "$API/invocation/next")\n'
                '  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$H" | tr -d "[:space:]" | cut -d: -f2)\n'
                + '  R="{}"; ' * n + "\n"
                + '  curl -sS -X POST "$API/invocation/$ID/respons" -d "$R"\n'
                '  curl "$API/invocation/$ID/error" -d "oops"\ndone\n')
        return sorted((f.code, f.span.line, f.span.column, f.message)
                      for f in lint_source(SourceFile.from_bytes("bootstrap", text.encode()), Selection()).findings)

    twice = found(2)
    assert "BL003" in {code for code, *_ in twice}, twice   # `respons`, read through $API
    assert found(times) == twice


def test_a_front_end_lowers_with_the_collector_paused_and_sets_it_back(monkeypatch):
    """Frontend.lower pauses the cyclic collector (as lint_source does around a whole lint), for
    callers that lower outside a lint, and sets it back after, also when the lowering raises."""
    import gc
    import importlib

    from bootlint.files.source import SourceFile
    from bootlint.frontends import registry

    shell = registry.by_name("shell")
    module = importlib.import_module(shell.lower_module)
    real = module.lower
    seen: list[bool] = []

    def spy(src, shebang):
        seen.append(gc.isenabled())
        if not src.encoded.strip().endswith(b"hi"):
            raise ZeroDivisionError
        return real(src, shebang)

    monkeypatch.setattr(module, "lower", spy)
    assert gc.isenabled()
    assert shell.lower(SourceFile.from_bytes("bootstrap", b"#!/bin/sh\necho hi\n"), None).language == "shell"
    with pytest.raises(ZeroDivisionError):
        shell.lower(SourceFile.from_bytes("bootstrap", b"#!/bin/sh\n"), None)
    assert seen == [False, False] and gc.isenabled()
