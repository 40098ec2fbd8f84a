"""`gst simulate` in a child process, for the demo and the benchmarks.

A separate process keeps the simulator from competing with the loaders for the GIL. The module
imports only the standard library and requests, so a benchmark child that imports it stays lean.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import requests


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
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd
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
