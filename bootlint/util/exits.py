"""The exit codes every command shares (`check`, `verify`, `rule`, `server`), and how the
command's process leaves."""

import os
import sys

EXIT_CLEAN = 0          # nothing at the fail-on level
EXIT_FINDINGS = 1       # findings at the fail-on level (or a diff to apply)
EXIT_USAGE = 2          # a usage error, unreadable input, output that cannot be written
EXIT_INTERNAL = 3       # a bug in bootlint (BL999)
EXIT_INTERRUPTED = 130  # Ctrl-C


def leave(code: int) -> None:
    """End the command's process with ``code`` once its output is out: the standard streams
    are flushed and the ``atexit`` handlers run (bootlint's class cache, multiprocessing's
    clean-up), then the process ends without tearing down its modules one by one. That
    tear-down is work nothing reads (about 12 ms of a 130 ms cold check: every module's dict
    cleared, a last garbage collection). Only the console entry calls this: a caller in the same
    process (the tests) uses :func:`bootlint.cli.run_main`, which raises ``SystemExit``."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):   # a reader gone away, a closed stream: already said
            pass
    import atexit

    atexit._run_exitfuncs()
    os._exit(code)
