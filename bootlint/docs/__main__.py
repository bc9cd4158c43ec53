"""``python -m bootlint.docs --write`` writes the parts of the rule pages and the README that the
rule definitions give (bootlint.docs.generate); ``--check`` exits 1, naming the files, when any
of them is stale."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bootlint.docs.generate import ROOT, stale, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bootlint.docs", description=__doc__)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--write", action="store_true", help="rewrite the stale files")
    what.add_argument("--check", action="store_true", help="exit 1 when a file is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: %(default)s)")
    args = parser.parse_args(argv)
    if not (args.root / "README.md").is_file():
        print(f"{args.root}: no README.md here; give the checkout with --root", file=sys.stderr)
        return 2
    if args.write:
        for path in write(args.root):
            print(f"wrote {path.relative_to(args.root)}")
        return 0
    old = stale(args.root)
    for path in old:
        print(f"{path.relative_to(args.root)} is stale: run `python -m bootlint.docs --write`", file=sys.stderr)
    return 1 if old else 0


if __name__ == "__main__":
    sys.exit(main())
