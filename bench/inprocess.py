"""In-process cost of the shell pipeline (lowering and rules), by CPU time and by Python calls.

Usage: python bench/inprocess.py [CHECKOUT ...]
Each CHECKOUT (default: this one) is a bootlint source tree, e.g. an older commit extracted with
`git archive <commit> | tar -x -C /tmp/old`; each is measured in its own process. Counting calls
is independent of the machine's load (CPU time on a shared machine is not), so both are printed:
1,000 generated shell bootstraps (bench/run.py's generator), and the growth from the same runtime
repeated 10 times to 100 times.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = r'''
import cProfile, pstats, statistics, sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + "/bench")
from run import shell_bootstrap
from bootlint.rules import Subject, all_rules
from bootlint.files.source import SourceFile
try:
    from bootlint.frontends.registry import by_name
    fe = by_name("shell")
    lower = lambda src: fe.lower(src, None)
    subject = lambda src, model: Subject(src, model, "shell", None, fe)
except ImportError:
    from bootlint.frontends.shell.lower import lower_shell as lower
    subject = lambda src, model: Subject(src, model, "shell", None)
files = [shell_bootstrap(i).encode() for i in range(1000)]
rules = [r for r in all_rules().values() if r.check is not None and r.needs_model]
def many():
    for i, raw in enumerate(files):
        src = SourceFile.from_bytes(f"f{i}/bootstrap", raw)
        s = subject(src, lower(src))
        for r in rules:
            list(r.check(s))
body = shell_bootstrap(0).split("\n", 1)[1]
short = ("#!/bin/bash\n" + body * 10).encode()
long = ("#!/bin/bash\n" + body * 100).encode()
def calls(fn):
    pr = cProfile.Profile(); pr.enable(); fn(); pr.disable()
    return pstats.Stats(pr).total_calls
def cpu(fn, n):
    fn()
    out = []
    for _ in range(n):
        t = time.process_time(); fn(); out.append(time.process_time() - t)
    return statistics.median(out)
def cpu_pair(short_fn, long_fn, rounds=15, per_round=4):
    """Medians of the short and the long lowering, interleaved (4 short, 1 long, 15 times): a
    9 ms run moves by a third between one sample and the next on a shared machine, and a run
    pays for the collection the one before it left; interleaving shares both between the two."""
    short_fn(); long_fn()
    s, l = [], []
    for _ in range(rounds):
        for _ in range(per_round):
            t = time.process_time(); short_fn(); s.append(time.process_time() - t)
        t = time.process_time(); long_fn(); l.append(time.process_time() - t)
    return statistics.median(s), statistics.median(l)
one = lambda raw: (lambda: lower(SourceFile.from_bytes("bootstrap", raw)))
c_many, c_short, c_long = calls(many), calls(one(short)), calls(one(long))
t_many = cpu(many, 3)
t_short, t_long = cpu_pair(one(short), one(long))
print(f"{sys.argv[1]}: 1,000 files {t_many:.2f} s CPU, {c_many/1e6:.2f} M calls; growth "
      f"{t_long/t_short:.1f}x CPU ({t_short*1000:.0f} -> {t_long*1000:.0f} ms), {c_long/c_short:.1f}x calls")
'''


def main() -> None:
    for tree in sys.argv[1:] or [str(ROOT)]:
        subprocess.run([sys.executable, "-c", PROBE, tree], check=False, timeout=900)


if __name__ == "__main__":
    main()
