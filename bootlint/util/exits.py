"""The exit codes every command shares (`check`, `verify`, `rule`, `server`)."""

EXIT_CLEAN = 0          # nothing at the fail-on level
EXIT_FINDINGS = 1       # findings at the fail-on level (or a diff to apply)
EXIT_USAGE = 2          # a usage error, unreadable input, output that cannot be written
EXIT_INTERNAL = 3       # a bug in bootlint (BL999)
EXIT_INTERRUPTED = 130  # Ctrl-C
