"""`gst simulate` in a child process, for the demo and the benchmarks.

A separate process keeps the simulator from competing with the loaders for the GIL. The module
imports only the standard library and requests, so a benchmark child that imports it stays lean.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

#: Set by `SimulatorProcess` in the simulator's environment: `gst simulate` then ends with its
#: parent (see `exit_with_parent`).
EXIT_WITH_PARENT = "GST_EXIT_WITH_PARENT"


def exit_with_parent(every: float = 1.0) -> None:
    """End this process once its parent is gone (checked every `every` seconds): a simulator or
    polling process whose demo or benchmark was killed would otherwise go on serving or polling
    (retrying a simulator that is gone) until someone finds it. POSIX: an orphan is re-parented,
    so its parent pid changes."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="gst-exit-with-parent", daemon=True).start()


class SimulatorFailed(RuntimeError):
    """The simulator process did not start; the message carries the end of its stderr."""


class SimulatorProcess:
    """`gst simulate` on a free local port in a child process; reads the env block it prints.

    `args` are further `gst simulate` options (seed, channels, start, ...)."""

    def __init__(self, *args: str, cwd: Path | None = None):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        cmd = [sys.executable, "-m", "loaders.cli", "simulate", "--port", str(self.port), *args]
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env={**os.environ, EXIT_WITH_PARENT: "1"},
        )
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env: dict[str, str] = {}
        for line in self.proc.stdout:  # type: ignore[union-attr]
            if line.startswith("export "):
                key, _, value = line[len("export ") :].strip().partition("=")
                self.env[key] = value
            if line.startswith("# advance the clock"):
                break
        if not self.env:
            err = self.proc.stderr.read() if self.proc.stderr else ""  # type: ignore[union-attr]
            raise SimulatorFailed(f"the simulator did not start: {err.strip()[-500:]}")

    def advance(self, minutes: float) -> None:
        requests.post(f"{self.base_url}/_sim/advance", params={"minutes": minutes}, timeout=30)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
