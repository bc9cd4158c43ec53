"""`python -m bootlint`."""

from bootlint.cli import entry

entry()
