"""Issue 12's points that fixtures alone cannot show: severities, messages, the command line."""

from __future__ import annotations

import pytest

from bootlint.engine import Selection, lint_source
from bootlint.files.source import SourceFile


def findings(text: str, path: str = "bootstrap", extend: tuple[str, ...] = ()):
    return lint_source(SourceFile.from_bytes(path, text.encode()), Selection((), (), extend)).findings


def test_a_relative_interpreter_is_a_warning_that_names_the_working_directory():
    [f] = [f for f in findings("#!./bin/picolisp\n(bye)\n") if f.code == "BL406"]
    assert f.severity.value == "warning"
    assert "working directory" in f.message and "/var/task" in f.message
    assert "`#!/var/task/bin/picolisp`" in f.message


def test_an_env_with_a_flag_stays_an_error():
    [f] = [f for f in findings("#!/usr/bin/env bash -e\nexec node /opt/x.js\n") if f.code == "BL406"]
    assert f.severity.value == "error"


def test_the_configured_severity_still_wins_over_the_case(tmp_path, cli):
    script = tmp_path / "bootstrap"
    script.write_text("#!./bin/picolisp\n(bye)\n")
    script.chmod(0o755)
    config = tmp_path / "bootlint.toml"
    config.write_text('[severity]\nBL406 = "error"\n')
    proc = cli("check", "--no-cache", "--format", "json", "--config", str(config), str(script))
    assert b'"severity": "error"' in proc.stdout, proc.stdout + proc.stderr


def test_a_walk_that_finds_nothing_says_so_on_stderr(tmp_path, cli):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "handler.sh").write_text("echo hi\n")
    proc = cli("check", "--no-cache", str(tmp_path / "src"))
    assert proc.returncode == 0
    assert proc.stderr.decode() == (
        f"bootlint: no bootstrap files found under {tmp_path / 'src'} (looked for files named "
        f"bootstrap, bootstrap.py, bootstrap.sh; excluded and git-ignored paths are skipped); "
        f"name a file to lint it under any name\n")
    quiet = cli("check", "--no-cache", "--quiet", str(tmp_path / "src"))
    assert quiet.returncode == 0 and quiet.stderr == b""


def test_a_walk_that_finds_a_bootstrap_says_nothing_on_stderr(tmp_path, cli):
    (tmp_path / "bootstrap").write_text("#!/bin/sh\nexec node /opt/index.js\n")
    (tmp_path / "bootstrap").chmod(0o755)
    proc = cli("check", "--no-cache", "--archives", str(tmp_path))
    assert proc.stderr == b"" and proc.returncode == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = cli("check", "--no-cache", "--archives", str(empty))
    assert b"bootstrap.sh and *.zip archives;" in proc.stderr


def test_other_languages_without_shebang_get_bl902_and_bl401_never_bl900():
    from conftest import FIXTURES

    for path in sorted((FIXTURES / "any" / "BL902").glob("fail-*")):
        found = findings(path.read_text(), extend=("BL902",))
        assert sorted(f.code for f in found) == ["BL401", "BL902"], (path.name, found)
        [info] = [f for f in found if f.code == "BL902"]
        assert "without shebang whose code reads as" in info.message


def test_python_without_shebang_is_linted_as_python_plus_bl401():
    text = ("import os, urllib.request\nAPI = os.environ['AWS_LAMBDA_RUNTIME_API']\n"
            "urllib.request.urlopen(f'http://{API}/2018-06-01/runtime/invocation/next')\n")
    codes = sorted(f.code for f in findings(text))
    assert codes == ["BL001", "BL201", "BL401"]


API = 'API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"\n'
LOOP = ('while true; do\n  EVENT=$(curl -sS "$API/invocation/next")\n  OUT=$(./handler "$EVENT")\n'
        '  printf "%s" "$OUT" | curl -sS --data-binary @- "$API/invocation/$ID/response"\ndone\n')


def _bl101(text: str) -> str:
    [f] = [f for f in findings(text) if f.code == "BL101"]
    return f.message


def test_bl101_names_the_switch_the_file_used():
    assert "runs under `set -o errexit` on line 3 without a guard" in _bl101(
        "#!/bin/bash\n" + API + "set -o errexit\n" + LOOP)
    assert "runs under `set -Ceuo pipefail` on line 2 without" in _bl101(
        "#!/bin/bash\nset -Ceuo pipefail\n" + API + LOOP)
    assert "runs under `#!/bin/bash -e` on line 1 without" in _bl101("#!/bin/bash -e\n" + API + LOOP)
    assert "runs under `#!/usr/bin/env -S bash -eu` on line 1" in _bl101(
        "#!/usr/bin/env -S bash -eu\n" + API + LOOP)
    # The switch in force where the handler runs: the later `set -e`, not the earlier one.
    assert "`set -e` on line 4" in _bl101("#!/bin/sh\nset -eu\nset +e\nset -e\n" + API + LOOP)


def test_bl101_says_the_err_trap_reports_then_errexit_ends_the_runtime():
    message = _bl101("#!/bin/bash\n" + API + "trap on_error ERR\nset -e\n" + LOOP)
    assert "runs under `set -e` on line 4: the ERR trap on line 3 reports the failure, then " \
           "errexit ends the runtime" in message
    assert "without a guard" not in message


def test_bl101_says_which_shell_keeps_errexit_in_a_substitution():
    body = ('run() { ./handler "$1"; echo "rc=$?"; }\nwhile true; do\n'
            '  EVENT=$(curl -sS "$API/invocation/next")\n  OUT=$(run "$EVENT")\n'
            '  printf "%s" "$OUT" | curl -sS --data-binary @- "$API/invocation/$ID/response"\ndone\n')
    assert "`#!/bin/sh` runs bash in POSIX mode on Amazon Linux (dash elsewhere), where `$(...)` " \
           "keeps errexit" in _bl101("#!/bin/sh\nset -e\n" + API + body)
    assert "`#!/bin/dash`: dash keeps errexit inside `$(...)`" in _bl101("#!/bin/dash\nset -e\n" + API + body)
    assert "`#!/bin/bash --posix`: bash in POSIX mode" in _bl101("#!/bin/bash --posix\nset -e\n" + API + body)
    assert "`set -o posix` on line 2: `$(...)` keeps errexit" in _bl101(
        "#!/bin/bash\nset -o posix\nset -e\n" + API + body)
    assert not [f for f in findings("#!/bin/bash\nset -e\n" + API + body) if f.code == "BL101"]


def test_bl101_relates_the_switch_in_force():
    text = "#!/bin/sh\nset -eu\nset +e\nset -e\n" + API + LOOP
    [f] = [f for f in findings(text) if f.code == "BL101"]
    assert [(r.span.line, r.message) for r in f.related] == [(4, "errexit is switched on here")]


def test_the_catalogue_documents_bl905(cli):
    page = cli("rule", "BL905").stdout.decode()
    assert page.startswith("# BL905 unparsed-region\n") and "`bash -n`" in page
    assert "${1:$i:1}" in page and "BL900 with bash's own message" in page


def test_the_nothing_found_message_names_the_configured_globs(tmp_path, cli):
    (tmp_path / "bootlint.toml").write_text('extend-include = ["*.bash"]\n')
    (tmp_path / "src").mkdir()
    proc = cli("check", "--no-cache", "src", cwd=tmp_path)
    assert proc.returncode == 0
    assert "looked for files named bootstrap, bootstrap.py, bootstrap.sh, files matching *.bash;" \
        in proc.stderr.decode()


def test_the_numeric_parameters_expand_to_digits_in_real_bash():
    """BL105 lets `$?`, `$$`, `$RANDOM`... into an error JSON's text: bash itself must agree
    that each expands to digits only (one bash run for the whole table)."""
    import shutil
    import subprocess

    import pytest

    from bootlint.frontends.shell.commands import NUMERIC_PARAMETERS

    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    names = sorted(NUMERIC_PARAMETERS)
    script = "sleep 0 & " + "; ".join(f'printf "%s\\n" "${{{n}}}"' for n in names)
    out = subprocess.run([bash, "-c", script, "zero", "a", "b"], capture_output=True, text=True,
                         timeout=10).stdout.splitlines()
    assert len(out) == len(names)
    assert all(value.isdigit() for value in out), dict(zip(names, out))


def test_a_sweep_of_the_temp_directory_is_what_real_find_and_rm_remove(tmp_path):
    """BL301 counts `find /tmp -mindepth 1 -delete`, `find ... -exec rm -rf {} \\;` and
    `rm -rf "$TMPDIR"/*` as removing every temp file, but not `-maxdepth 1 -delete`, which
    cannot remove a `mktemp -d` directory with a file in it. Real bash and find decide."""
    import shutil
    import subprocess

    import pytest

    if shutil.which("bash") is None or shutil.which("find") is None:
        pytest.skip("bash or find is not installed")
    sweeps = {
        'find "$TMPDIR" -mindepth 1 -delete': True,
        'find "$TMPDIR" -mindepth 1 -maxdepth 1 -exec rm -rf {} \\;': True,
        'rm -rf "$TMPDIR"/*': True,
        'find "$TMPDIR" -mindepth 1 -maxdepth 1 -delete': False,
    }
    for i, (sweep, empties) in enumerate(sweeps.items()):
        tmp = tmp_path / str(i)
        tmp.mkdir()
        script = f'f=$(mktemp); d=$(mktemp -d); : > "$d/out"; {sweep} 2>/dev/null; ls -A "$TMPDIR"'
        left = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=10,
                              env={"TMPDIR": str(tmp), "PATH": "/usr/bin:/bin"}).stdout.split()
        assert (left == []) is empties, (sweep, left)
        loop = ("#!/bin/bash\nwhile true; do\n  h=$(mktemp -d)\n"
                "  e=$(curl -sS -D \"$h/x\" \"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next\")\n"
                f"  ./handler \"$e\" >/dev/null 2>&1 || true\n  {sweep}\ndone\n")
        leaks = [f for f in findings(loop) if f.code == "BL301"]
        assert (leaks == []) is empties, (sweep, leaks)


def test_an_unquoted_url_that_tree_sitter_cuts_after_its_dollar_reads_as_real_bash_reads_it():
    """tree-sitter-bash cuts `$API/invocation/$ID/response` into `$API/invocation/$` and a word
    `ID/response`; bash reads one word, `$ID` expanded inside it. The words layer joins them
    again: the endpoint is found, and in an assignment no phantom command `ID/response` runs."""
    import shutil
    import subprocess

    import pytest

    from bootlint.model import ApiCall, Endpoint
    from bootlint.frontends.shell.lower import lower

    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    line = 'set -- $API/invocation/$ID/response $D/$N.json; printf "%s|" "$#" "$@"'
    out = subprocess.run([bash, "-c", f"API=h/r ID=7 D=/tmp N=x; {line}"], capture_output=True,
                         text=True, timeout=10).stdout
    assert out == "2|h/r/invocation/7/response|/tmp/x.json|"

    text = ("#!/bin/bash\nAPI=http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\n"
            "while :; do curl -sS -D /tmp/h $API/invocation/next\n"
            "ID=$(grep -i lambda-runtime-aws-request-id /tmp/h | cut -d' ' -f2)\n"
            "OK=$API/invocation/$ID/response\n"
            "curl -sS $API/invocation/$ID/error -d '{}'; curl -sS \"$OK\" -d ok; done\n")
    model = lower(SourceFile.from_bytes("bootstrap", text.encode()))
    calls = {c.endpoint for c in model.events(ApiCall)}
    assert calls == {Endpoint.NEXT, Endpoint.ERROR, Endpoint.RESPONSE}
    assert all(not c.url.unresolved for c in model.events(ApiCall))


def test_printf_fills_each_percent_s_with_the_next_argument_in_real_bash():
    """BL105 reads a piped `printf FORMAT ARGS` body with each `%s` filled by its argument, a
    missing one by nothing: bash's printf (and dash's) agree."""
    import shutil
    import subprocess

    import pytest

    fmt = '{"errorType":"%s","errorMessage":"exit %s%s"}'
    for shell in ("bash", "dash"):
        path = shutil.which(shell)
        if path is None:
            pytest.skip(f"{shell} is not installed")
        out = subprocess.run([path, "-c", f"printf '{fmt}' App.Exit 3"], capture_output=True,
                             text=True, timeout=10).stdout
        assert out == '{"errorType":"App.Exit","errorMessage":"exit 3"}'
    text = ("#!/bin/sh\nB=http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\n"
            f"printf '{fmt}' App.Exit \"$?\" | curl -s \"$B/init/error\" --data-binary @-\nexit 1\n")
    assert [f for f in findings(text) if f.code == "BL105"] == []
    assert [f for f in findings(text.replace('"$?"', '"$OUT"')) if f.code == "BL105"]


# -- execution contexts (issue 21): an `exit` ends the context it runs in ----------------------
CONTEXT_TEMPLATE = """#!/bin/sh
API="http://${{AWS_LAMBDA_RUNTIME_API}}/2018-06-01/runtime"
serve() {{ ./handler "$1" > /dev/null || exit 3; }}
{loop}
  EVENT=$(curl -sS "$API/invocation/next")
  {context}
  printf '%s' "$EVENT" | curl -sS --data-binary @- "$API/invocation/$ID/response"
done
echo END >&2
"""
# (the context the handler's `exit` runs in, whether the loop goes on: written down, checked below)
CONTEXTS = [
    ('serve "$EVENT"', False),                     # the current shell
    ('{ serve "$EVENT"; }', False),                # a group runs in the current shell too
    ('serve "$EVENT" &\n  wait', True),            # a background job
    ('( serve "$EVENT" )', True),                  # a subshell
    ('( serve "$EVENT" ) &\n  wait', True),
    ('OUT=$(serve "$EVENT")', True),               # a substitution
    ('serve "$EVENT" | cat', True),                # a pipeline element
    ('{ serve "$EVENT"; } & wait', True),
]


def _shells() -> list[list[str]]:
    import shutil

    found = [[shutil.which("bash"), "--posix"]] if shutil.which("bash") else []
    return found + ([[shutil.which("dash")]] if shutil.which("dash") else [])


def _run_each_shell(shells: list[list[str]], text: str, tmp_path, curl: str, handler: str) -> list:
    """Run ``text`` as a bootstrap under each shell, with a `curl` on PATH and a `./handler`
    whose bodies are given; the finished processes."""
    import os
    import subprocess

    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "curl").write_text(f"#!/bin/sh\n{curl}\n")
    (tmp_path / "handler").write_text(f"#!/bin/sh\n{handler}\n")
    for f in (folder / "curl", tmp_path / "handler"):
        f.chmod(0o755)
    script = tmp_path / "bootstrap"
    script.write_text(text)
    env = {"PATH": f"{folder}:{os.environ.get('PATH', '')}", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9"}
    return [(shell, subprocess.run([*shell, str(script)], cwd=tmp_path, env=env, capture_output=True,
                                   timeout=10)) for shell in shells]


@pytest.mark.parametrize("context,goes_on", CONTEXTS, ids=[c for c, _ in CONTEXTS])
def test_an_exit_ends_the_context_it_runs_in_as_bash_and_dash_do(context, goes_on, tmp_path):
    text = CONTEXT_TEMPLATE.format(loop="for _ in 1; do", context=context)
    for shell, proc in _run_each_shell(_shells(), text, tmp_path, "exit 0", "exit 2"):
        assert ("END" in proc.stderr.decode()) == goes_on, (shell, proc.stderr)
    text = CONTEXT_TEMPLATE.format(loop="while true; do", context=context)
    codes = {f.code for f in findings(text)}
    assert ("BL002" in codes) == (not goes_on), codes


# -- `$?` after a compound statement and at the start of an arm (issue 21) ----------------------
# An `exit` on the path where `$?` holds a failed `next` request's status is the exit the API asks
# for (no BL002); anywhere else in the loop it is BL002. Where `$?` holds that status is bash's to
# say: after `if`/`case`/a loop it is the status of the arm or body that ran (0 when none ran, the
# condition's status is gone); each arm (and an elif's condition) starts with the condition's
# status; `{ }` and `( )` start with the status before them; `cmd &` and a function's
# definition leave 0.
STATUS_TEMPLATE = """#!/bin/bash
API="http://${{AWS_LAMBDA_RUNTIME_API}}/2018-06-01/runtime"
{loop}
  {shape}
  printf '%s' "$OUT" | curl -sS --data-binary @- "$API/invocation/$ID/response"
done
echo END >&2
"""
NEXT = 'EVENT=$(curl -sS "$API/invocation/next")'
HANDLE = 'OUT=$(./handler "$EVENT")'
PROBE = '[ $? -eq 0 ] || exit 1'
# (shape, whether `$?` at the probe is the failed `next`'s status: written down, checked below)
STATUS_SHAPES = [
    (f"{NEXT}\n  {PROBE}\n  {HANDLE}", True),
    (f"if {NEXT}; then {HANDLE}; fi\n  {PROBE}", False),
    (f"if {NEXT}; then {HANDLE}; else {PROBE}; {HANDLE}; fi", True),
    (f"if {NEXT}; then {HANDLE}; elif {PROBE}; then {HANDLE}; fi", True),
    (f"if true; then {NEXT}; fi\n  {PROBE}\n  {HANDLE}", True),
    (f"if false; then :; else {NEXT}; fi\n  {PROBE}\n  {HANDLE}", True),
    (f"{NEXT}\n  {{ {PROBE}; }}\n  {HANDLE}", True),
    (f"{NEXT}\n  ( {PROBE} ) || exit 1\n  {HANDLE}", True),
    (f"{NEXT}\n  case $ID in *) {PROBE};; esac\n  {HANDLE}", True),
    (f"case x in x) {NEXT};; esac\n  {PROBE}\n  {HANDLE}", True),
    (f"{NEXT}\n  case $? in 0) ;; *) exit 1 ;; esac\n  {HANDLE}", True),
    (f"while ! {NEXT}; do sleep 0; break; done\n  {PROBE}\n  {HANDLE}", False),
    (f"{NEXT}\n  helper() {{ :; }}\n  {PROBE}\n  {HANDLE}", False),
    (f"curl -sS \"$API/invocation/next\" -o event.json &\n  {PROBE}\n  wait\n  {HANDLE}", False),
]


@pytest.mark.parametrize("shape,holds_next", STATUS_SHAPES, ids=[s for s, _ in STATUS_SHAPES])
def test_where_dollar_question_holds_the_next_status_is_where_bash_and_dash_say(shape, holds_next, tmp_path):
    import shutil

    shells = ([[shutil.which("bash")]] if shutil.which("bash") else []) + _shells()
    assert shells, "no shell to run"
    text = STATUS_TEMPLATE.format(loop="for _ in 1; do", shape=shape)
    # (every request fails, as with no API: curl's status 7)
    for shell, proc in _run_each_shell(shells, text, tmp_path, "exit 7", "echo '{}'"):
        # The probe exits 1 exactly when `$?` there is the failed request's 7.
        assert (proc.returncode == 1 and "END" not in proc.stderr.decode()) == holds_next, (shell, proc.stderr)
    codes = {f.code for f in findings(STATUS_TEMPLATE.format(loop="while true; do", shape=shape))}
    assert ("BL002" in codes) == (not holds_next), codes


# -- the event through files (issue 21): a program that reads a file holding the event reads it --
FILE_TEMPLATE = """#!/bin/bash
set -e
API="http://${{AWS_LAMBDA_RUNTIME_API}}/2018-06-01/runtime"
F=/tmp/event.json
while true; do
  {write}
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id /tmp/h | tr -d '[:space:]' | cut -d: -f2)
  {read}
  curl -sS -d '{{}}' "$API/invocation/$ID/response"
done
"""
EVENT_WRITES = [
    'curl -sS -D /tmp/h -o "$F" "$API/invocation/next"',
    'EVENT=$(curl -sS -D /tmp/h "$API/invocation/next")\n  printf \'%s\' "$EVENT" > "$F"',
    'EVENT=$(curl -sS -D /tmp/h "$API/invocation/next")\n  echo "$EVENT" | tee /tmp/event.json >/dev/null',
    'curl -sS -D /tmp/h "$API/invocation/next" | tee "$F" > /dev/null',
    'curl -sS -D /tmp/h "$API/invocation/next" > /tmp/raw.json\n  cat /tmp/raw.json > "$F"',
]
EVENT_READS = ['./handler < "$F"', './handler /tmp/event.json', 'jq -c .detail "$F" | ./handler']


@pytest.mark.parametrize("write", EVENT_WRITES)
@pytest.mark.parametrize("read", EVENT_READS)
def test_a_program_reading_a_file_that_holds_the_event_reads_the_event(write, read):
    found = [f for f in findings(FILE_TEMPLATE.format(write=write, read=read)) if f.code == "BL101"]
    assert len(found) == 1 and found[0].span.line == 8 + write.count("\n"), found
    message = found[0].message
    # The handler (a program given the event's file) or work that reads the event: not merely
    # "it runs for each event".
    assert message.startswith("the handler call") or "(it reads the event," in message, message


# -- here-documents (issue 21): a quoted delimiter keeps the text as written -------------------
HEREDOCS = [
    ("<<EOF", '{"errorMessage": "$MSG"}', True),
    ("<<'EOF'", '{"errorMessage": "$MSG"}', False),
    ('<<"EOF"', '{"errorMessage": "$MSG"}', False),
    ("<<\\EOF", '{"errorMessage": "$(echo x)"}', False),
    ("<<EOF", '{"errorMessage": "exit $?"}', True),
]


@pytest.mark.parametrize("opener,body,expands", HEREDOCS, ids=[h[0] + " " + h[1] for h in HEREDOCS])
def test_a_here_document_expands_exactly_where_bash_and_dash_expand_it(opener, body, expands):
    import subprocess

    from bootlint.frontends.shell.facts import RequestFacts
    from bootlint.frontends.shell.index import build_index
    from bootlint.frontends.shell.syntax import parser
    from bootlint.frontends.shell.values import Words

    script = f"MSG='a\"b'\ncat {opener}\n{body}\nEOF\n"
    for shell in _shells():
        out = subprocess.run([*shell, "-c", script], capture_output=True, timeout=10).stdout.decode()
        assert (out != body + "\n") == expands, (shell, out)
    src = SourceFile.from_bytes("bootstrap", script.encode())
    tree = parser().parse(src.encoded)
    index = build_index(tree.root_node)
    heredoc = next(n for n in _walk(tree.root_node) if n.type == "heredoc_redirect")
    pieces = RequestFacts(Words(src, index))._heredoc_body(heredoc)
    assert any(not p.is_literal for p in pieces) == expands, pieces
    if not expands:
        assert "".join(p.text for p in pieces) == body + "\n"


def _walk(node):
    stack = [node]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(cur.children)


# -- files without shebang (issue 21): the whole text decides, not the first statement --------
@pytest.mark.parametrize("name,language", [
    ("pass-shell-first-line-require", "shell"),      # first line reads like Ruby
    ("pass-shell-first-line-use", "shell"),          # first line reads like Perl
    ("pass-python-first-statement-try", "python"),   # first statement `try:`
    ("pass-python-first-statement-constant", "python"),
    ("pass-python-without-shebang", "python"),
    ("fail-ruby-without-shebang", "ruby"),
    ("fail-perl-without-shebang", "perl"),
    ("fail-javascript-without-shebang", "node"),
])
def test_a_file_without_shebang_is_read_in_the_language_its_whole_text_is_written_in(name, language):
    from conftest import FIXTURES

    from bootlint.frontends.registry import detect

    text = (FIXTURES / "any" / "BL902" / name).read_bytes()
    assert detect(SourceFile.from_bytes("bootstrap", text)).language == language
    codes = {f.code for f in findings(text.decode())}
    assert "BL900" not in codes and ("BL902" in codes) == (language not in ("shell", "python")), codes


def test_the_index_walk_finds_exactly_the_nodes_a_tree_sitter_query_finds():
    """The index walks the named nodes in Python (no query to build); a query of the same kinds
    must find the same nodes (the index orders them by place) on every shell fixture and example and on a
    generated file of 20,000 nodes."""
    import tree_sitter
    import tree_sitter_bash

    from bootlint.frontends.shell.index import _KINDS, captures
    from bootlint.frontends.shell.syntax import parser

    query = tree_sitter.Query(tree_sitter.Language(tree_sitter_bash.language()),
                              "\n".join(f"({kind}) @{capture}" for kind, capture in _KINDS.items()))
    root_dir = __import__("pathlib").Path(__file__).resolve().parent.parent
    files = sorted((root_dir / "tests" / "fixtures" / "shell").rglob("*.sh")) + \
        sorted(p for p in (root_dir / "examples").rglob("bootstrap*") if p.suffix != ".py")
    assert len(files) > 100
    texts = [path.read_bytes() for path in files]
    texts.append(b"#!/bin/bash\n" + (root_dir / "examples" / "tutorial" / "bootstrap").read_bytes() * 150)
    for text in texts:
        root = parser().parse(text).root_node
        by_query = {kind: sorted((n.start_byte, n.end_byte, n.type) for n in nodes)
                    for kind, nodes in tree_sitter.QueryCursor(query).captures(root).items()}
        walked = captures(root)
        by_walk = {kind: sorted((n.start_byte, n.end_byte, n.type) for n in nodes) for kind, nodes in walked.items()}
        assert by_walk == by_query, text[:200]
    assert root.descendant_count > 20000
