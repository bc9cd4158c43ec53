"""Every fixture: a `fail-*` file reports its rule exactly at its `# expect:` positions, a
`pass-*` file never reports its rule. The folder name is the rule under test; `shell/` and
`python/` hold one language each, `any/` the checks that are about the file, not its language
(or whose expectations cannot be written inside the file, see `EXPECT`)."""

from __future__ import annotations

import shutil

import pytest

from conftest import FIXTURES, RULE_TARGET, expectations, lint_text

CASES = sorted(p for p in FIXTURES.glob("*/BL*/*") if p.name.startswith(("fail-", "pass-")))


def _id(path):
    return f"{path.parent.parent.name}/{path.parent.name}/{path.name}"


@pytest.mark.parametrize("path", CASES, ids=_id)
def test_fixture(path):
    code = path.parent.name
    if code == "BL905" and shutil.which("bash") is None:
        pytest.skip("bash is not installed: BL905 needs `bash -n` to tell a parser gap from an error")
    # Linted under the name Lambda runs (`bootstrap`), or as a Python source file.
    name = "bootstrap.py" if path.suffix == ".py" else "bootstrap"
    everything = lint_text(path.read_bytes(), path=name, extend=(code,), target=RULE_TARGET.get(code, "default"))
    assert not [f for f in everything if f[0] == "BL999"], everything
    found = [f for f in everything if f[0] == code]
    if path.name.startswith("pass-"):
        assert found == []
    else:
        expected = expectations(path)
        assert expected, f"{path} has no '# expect:' line"
        assert sorted(found) == expected


def test_every_rule_has_three_failing_and_three_passing_fixtures_per_language():
    from bootlint.rules import all_rules

    for folder in sorted(FIXTURES.glob("*/BL*")):
        fails = list(folder.glob("fail-*"))
        passes = list(folder.glob("pass-*"))
        if folder.name in ("BL900", "BL902"):
            continue
        assert folder.name in all_rules(), folder
        assert len(fails) >= 3 and len(passes) >= 3, folder
