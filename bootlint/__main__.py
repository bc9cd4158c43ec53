"""The `bootlint` command (pyproject's console script: :func:`main`) and `python -m bootlint`."""

from bootlint.util import gcpause

# The cyclic collector waits until the first lint: the imports that follow make tens of
# thousands of long-lived objects and no garbage (bootlint/util/gcpause.py says what it saves).
gcpause.pause_start_up()

from bootlint.cli import entry as main  # noqa: E402

if __name__ == "__main__":
    main()
