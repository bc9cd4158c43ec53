"""`python -m bootlint`."""

from bootlint.cli import run_main

run_main()
