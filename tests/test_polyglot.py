"""A shell-and-Python polyglot (a shell shebang, then a line that opens a Python string and that
the shell runs as `exec python ... "$0"`) is linted as Python. Real sh pins the premise: the
shell hands the file to Python at once and never reads the Python that follows."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from bootlint.frontends.registry import detect
from bootlint.files.source import SourceFile

FORMS = {
    "four quotes": "''''exec {py} -u -- \"$0\" ${{1+\"$@\"}} # '''\n",
    "quoted exec": '"""exec" {py} "$0" "$@"\n"""\n',
    "colon": "''':'\nexec {py} \"$0\" \"$@\"\n'''\n",
}
PYTHON_TAIL = "import sys\nprint('python', sys.argv[1:])\ndef f(x): return (x)\n"


@pytest.mark.subprocess
@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("shell", [s for s in ("sh", "bash", "dash") if shutil.which(s)])
def test_the_shell_hands_the_file_to_python_and_bootlint_lints_python(tmp_path, form, shell):
    script = tmp_path / "bootstrap"
    text = "#!/bin/sh\n" + FORMS[form].format(py=sys.executable) + PYTHON_TAIL
    script.write_text(text)
    run = subprocess.run([shell, str(script), "a"], capture_output=True, text=True, timeout=30)
    assert run.stdout == "python ['a']\n", run.stderr
    assert detect(SourceFile.from_bytes("bootstrap", text.encode())).language == "python"


def test_a_shell_script_that_starts_python_on_another_file_stays_shell():
    for body in ("exec python3 /var/task/app.py\n", "echo '''exec python $0'''\n",
                 "python3 \"$0\"\n"):
        assert detect(SourceFile.from_bytes("bootstrap", ("#!/bin/sh\n" + body).encode())).language == "shell"
