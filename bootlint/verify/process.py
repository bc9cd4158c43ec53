"""Starting a bootstrap as Lambda does, watching it, and ending it with everything it started.

The bootstrap runs in its own session (so its own process group) with the working directory
and the environment Lambda gives it; only ``PATH`` comes from the user's environment (and what
they give with ``--env``). Its output is read by two threads; the last 64 KiB of each stream
are kept, so a bootstrap that floods its output neither blocks nor fills the memory, and the
lines that say why it failed (at the end) are the ones kept. In the sandboxed run
(:mod:`bootlint.verify.sandbox`) every process it starts lives in its PID namespace and ends
with it; without the sandbox the whole group is killed, and so is any process that left the
group (``setsid``) but still carries the run's marker in its environment.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import field
from bootlint.util.records import dataclass

OUTPUT_CAP = 64 * 1024        # bytes kept of each stream per start (the last ones)
MARKER = b"BOOTLINT-PROBE"    # the probe's lines (bootlint.verify.probe.MARKER), kept apart
MARKED_LINE, MARKED_LINES = 4096, 256

# Lambda's environment for a function, besides what the run fills in (see `lambda_environment`).
FUNCTION_NAME = "bootlint-verify"


class EnvironmentProblem(Exception):
    """The run could not be made or judged on this machine (exit 2, with this message): no
    process or thread could be started, the loopback interface is down, the machine is too slow."""


def lambda_environment(api: str, handler: str, task_root: str, runtime_dir: str, tmpdir: str,
                       memory_mb: int = 128, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The variables Lambda sets for a custom runtime; PATH is the only one taken from the user's
    environment, ``extra`` are the function's own (``--env``), which Lambda's reserved ones win over."""
    return {
        **(extra or {}),
        "PATH": (extra or {}).get("PATH") or os.environ.get("PATH", os.defpath),
        "AWS_LAMBDA_RUNTIME_API": api,
        "_HANDLER": handler,
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": runtime_dir,
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_REGION": "us-east-1",
        "TZ": ":UTC",
        "TMPDIR": tmpdir,
    }


def command_for(bootstrap: str, first_line: bytes) -> tuple[list[str], str | None, str]:
    """(argv, executable, note): how to start the file as Lambda's kernel would.

    On Amazon Linux ``/bin/sh`` is bash, which runs in POSIX mode when started as ``sh``;
    where the local ``/bin/sh`` is another shell (dash on Debian and Ubuntu), a ``#!/bin/sh``
    bootstrap is started with bash under the name ``sh`` instead, so it behaves as on Lambda.
    """
    line = first_line.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
    if line.startswith("#!"):
        words = line[2:].split()
        if words and words[0] == "/bin/sh" and not _sh_is_bash():
            bash = shutil.which("bash")
            if bash:
                return (["sh", *words[1:2], bootstrap], bash,
                        "#!/bin/sh was run by bash in POSIX mode, as /bin/sh is on Amazon Linux "
                        f"(here /bin/sh is {os.path.basename(os.path.realpath('/bin/sh'))})")
    return [bootstrap], None, ""


def _sh_is_bash() -> bool:
    return os.path.basename(os.path.realpath("/bin/sh")) == "bash"


@dataclass
class Output:
    """What one stream of one start printed: its last ``OUTPUT_CAP`` bytes (the end of a
    failing run's output says why it failed) and how much there was."""

    kept: bytearray = field(default_factory=bytearray)
    total: int = 0
    # Lines that start with the probe's marker, wherever they were in the output (bounded).
    marked: list[str] = field(default_factory=list)
    _line: bytearray = field(default_factory=bytearray)

    @property
    def truncated(self) -> int:
        return self.total - len(self.kept)

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.kept.extend(chunk[-OUTPUT_CAP:])
        if len(self.kept) > OUTPUT_CAP:
            del self.kept[:len(self.kept) - OUTPUT_CAP]
        *done, rest = chunk.split(b"\n")
        for piece in done:
            self._line.extend(piece[:MARKED_LINE])
            if self._line.startswith(MARKER) and len(self.marked) < MARKED_LINES:
                self.marked.append(self._line.decode("utf-8", "replace"))
            self._line.clear()
        if len(self._line) < MARKED_LINE:
            self._line.extend(rest[:MARKED_LINE - len(self._line)])

    def text(self) -> str:
        return self.kept.decode("utf-8", "replace")


class Start:
    """One process start of the bootstrap."""

    def __init__(self, number: int, argv: list[str], executable: str | None, cwd: str,
                 env: dict[str, str]) -> None:
        """Start the process; :class:`EnvironmentProblem` when the machine refuses (a process
        limit reached, no memory, no thread for its output)."""
        self.number = number
        self.stdout, self.stderr = Output(), Output()
        self.started_at = time.monotonic()
        self.exited_at: float | None = None
        self.killed = False
        for attempt in range(50):
            try:
                self._proc = subprocess.Popen(argv, executable=executable, cwd=cwd, env=env,
                                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, start_new_session=True)
                break
            except OSError as exc:
                # ETXTBSY: another thread's child, between fork and exec, still holds the file
                # open for writing (the probe or the copy was being written); it passes.
                if exc.errno in (errno.EAGAIN, errno.ENOMEM):
                    raise EnvironmentProblem(
                        f"this machine refused to start a process ({exc.strerror}): the user's "
                        f"process limit (ulimit -u) or the memory is exhausted") from None
                if exc.errno != errno.ETXTBSY or attempt == 49:
                    raise
                time.sleep(0.01)
        self.pid = self._proc.pid
        self._readers = [threading.Thread(target=_drain, args=(stream, out), daemon=True)
                         for stream, out in ((self._proc.stdout, self.stdout),
                                             (self._proc.stderr, self.stderr))]
        try:
            for reader in self._readers:
                reader.start()
        except RuntimeError as exc:    # "can't start new thread": the process limit again
            self._readers = [r for r in self._readers if r.ident is not None]
            self.kill("")
            raise EnvironmentProblem(f"this machine refused to start a thread ({exc}): the user's "
                                     f"process limit (ulimit -u) is reached") from None

    @property
    def returncode(self) -> int | None:
        code = self._proc.poll()
        if code is not None and self.exited_at is None:
            self.exited_at = time.monotonic()
        return code

    @property
    def alive(self) -> bool:
        return self.returncode is None

    def kill(self, marker: str) -> None:
        """End the process, its group and any process that carries ``marker`` in its
        environment (one that left the group with setsid)."""
        if self.alive:
            self.killed = True
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid in _pids_with(marker) if marker else ():
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.returncode  # noqa: B018 - records the exit time
        for reader in self._readers:
            reader.join(timeout=1)

    def last_error_line(self) -> str:
        """The last line the process wrote to stderr that says something (see
        :func:`last_meaningful_line`)."""
        if self.returncode is not None:
            # Its output may still be in the pipe: read to the end (a daemon holding the pipe
            # open keeps it from ending, hence the bound).
            for reader in self._readers:
                reader.join(timeout=1)
        return last_meaningful_line(self.stderr.text())

    def describe_exit(self) -> str:
        code = self.returncode
        if code is None:
            return "still running"
        if code < 0:
            try:
                said = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                said = f"killed by signal {-code}"
        else:
            said = f"exit status {code}"
        last = self.last_error_line() if not self.killed else ""
        return f"{said}; its last error line: {last}" if last else said


# curl's progress meter (written to stderr whenever -s is not given): its two header lines and
# the rows of numbers it rewrites with CR. They say nothing about why a process ended.
_CURL_PROGRESS = re.compile(
    r"^\s*(?:% Total\s+% Received|Dload\s+Upload\b|"
    r"\d{1,3}\s+[\d.]+[kMGTP]?\s+\d{1,3}\s+[\d.]+[kMGTP]?\s+\d{1,3}\s+[\d.]+[kMGTP]?\s)")


def last_meaningful_line(text: str) -> str:
    """The last non-empty line of a process's stderr that is neither the probe's own marker
    nor curl's progress meter, stripped and cut to 200 characters."""
    for line in reversed(text.splitlines()):
        if line.strip() and not line.startswith("BOOTLINT-PROBE") and not _CURL_PROGRESS.match(line):
            return line.strip()[:200]
    return ""


def _drain(stream, out: Output) -> None:
    try:
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                break
            out.add(chunk)
    except (OSError, ValueError):
        pass
    finally:
        try:
            stream.close()
        except OSError:
            pass


def _pids_with(marker: str) -> list[int]:
    """Processes of this user whose environment holds ``marker`` (Linux /proc; else none)."""
    needle = marker.encode()
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    me = os.getpid()
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if needle in handle.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found
