"""The scorer's I/O with a running sandbox child: stdin in, stdout/stderr/isolation report out.

One selector loop (:func:`pump`) feeds the program and collects its output until EOF, the
wall-clock deadline or the output cap, so a program can neither block the scorer nor fill
its memory.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import time
from typing import Any

STDERR_LIMIT = 100_000
INFO_LIMIT = 65536
CHUNK = 65536


class _Pump:
    """The state of one run's I/O loop (see :func:`pump`)."""

    def __init__(self, proc: subprocess.Popen, data: bytes, info_fd: int, limit: int, on_info: Any) -> None:
        assert proc.stdin and proc.stdout and proc.stderr
        self.proc, self.data, self.info_fd, self.on_info = proc, data, info_fd, on_info
        self.in_fd = proc.stdin.fileno()
        self.sel = selectors.DefaultSelector()
        self.bufs = {"out": bytearray(), "err": bytearray(), "info": bytearray()}
        self.caps = {"out": limit, "err": min(limit, STDERR_LIMIT), "info": INFO_LIMIT}
        self.pos = 0

    def result(self, reason: str | None) -> tuple[bytes, bytes, bytes, str | None]:
        return bytes(self.bufs["out"]), bytes(self.bufs["err"]), bytes(self.bufs["info"]), reason

    def register(self, gate_fd: int | None, cancel_fd: int | None) -> None:
        proc, sel = self.proc, self.sel
        if self.data:
            os.set_blocking(self.in_fd, False)
            if gate_fd is None:
                sel.register(self.in_fd, selectors.EVENT_WRITE, "in")
            else:
                sel.register(gate_fd, selectors.EVENT_READ, "gate")
        else:
            proc.stdin.close()
        sel.register(proc.stdout.fileno(), selectors.EVENT_READ, "out")
        sel.register(proc.stderr.fileno(), selectors.EVENT_READ, "err")
        sel.register(self.info_fd, selectors.EVENT_READ, "info")
        if cancel_fd is not None:
            sel.register(cancel_fd, selectors.EVENT_READ, "cancel")

    def on_ready(self, key: selectors.SelectorKey) -> str | None:
        """Handle one ready descriptor; a reason to stop now ("cancelled", "output_limit") or None."""
        if key.data == "cancel":
            drain(self.info_fd, self.bufs["info"], self.caps["info"])  # the isolation report, if sent
            return "cancelled"
        if key.data == "gate":  # the gate opened: stdin may be written now
            self.sel.unregister(key.fd)
            self.sel.register(self.in_fd, selectors.EVENT_WRITE, "in")
            return None
        if key.data == "in":
            self._write_stdin()
            return None
        try:
            chunk = os.read(key.fd, CHUNK)
        except OSError:
            chunk = b""
        if not chunk:
            self.sel.unregister(key.fd)
            if key.data == "info" and self.on_info is not None:
                self.on_info(bytes(self.bufs["info"]))
            return None
        buf = self.bufs[key.data]
        room = self.caps[key.data] - len(buf)
        buf += chunk[: max(room, 0)]
        if len(chunk) > room and key.data != "info":
            return "output_limit"
        return None

    def _write_stdin(self) -> None:
        try:
            self.pos += os.write(self.in_fd, self.data[self.pos : self.pos + CHUNK])
        except (BrokenPipeError, OSError):
            self.pos = len(self.data)
        if self.pos >= len(self.data):
            self.sel.unregister(self.in_fd)
            self.proc.stdin.close()


def pump(
    proc: subprocess.Popen,
    data: bytes,
    info_fd: int,
    deadline: float,
    limit: int,
    gate_fd: int | None = None,
    cancel_fd: int | None = None,
    on_info: Any = None,
) -> tuple[bytes, bytes, bytes, str | None]:
    """Feed stdin and collect stdout/stderr/info until EOF, the deadline or the output cap.

    stdin is written only once ``gate_fd`` (if any) is readable; ``cancel_fd`` readable
    ends the run ("cancelled"); ``on_info(info_bytes)`` is called when the child's report
    of its isolation is complete (it is about to run the program). Returns stdout, stderr,
    the report and why the run was stopped ("timeout", "output_limit", "cancelled", None).
    """
    io = _Pump(proc, data, info_fd, limit, on_info)
    reason, exited_at = None, None
    try:
        io.register(gate_fd, cancel_fd)
        while len(io.sel.get_map()) > (cancel_fd is not None):
            now = time.monotonic()
            if now >= deadline:
                reason = "timeout"
                break
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > 0.5:
                break  # the program exited but an escaped descendant holds the pipes open
            for key, _ in io.sel.select(min(deadline - now, 0.1)):
                stop = io.on_ready(key)
                if stop is not None:
                    return io.result(stop)
    finally:
        io.sel.close()
    return io.result(reason)


def drain(fd: int, buf: bytearray, cap: int) -> None:
    """Read what ``fd`` holds now (non-blocking) into ``buf``, up to ``cap`` bytes."""
    os.set_blocking(fd, False)
    try:
        while len(buf) < cap:
            chunk = os.read(fd, CHUNK)
            if not chunk:
                break
            buf += chunk
    except OSError:
        pass
