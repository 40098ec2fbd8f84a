"""Bad configuration fails with one clear sentence and a non-zero exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GST = [sys.executable, "-c", "from loaders.cli import main; main()"]


def gst(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*GST, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def no_twitch_credentials(monkeypatch, tmp_path):
    for key in ("SOURCES__TWITCH__CLIENT_ID", "SOURCES__TWITCH__CLIENT_SECRET"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GST_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    monkeypatch.chdir(tmp_path)  # no .dlt/secrets.toml here either


def test_missing_credentials_name_the_keys_to_set(no_twitch_credentials):
    done = gst("load", "twitch", "--no-progress")
    assert done.returncode == 1
    assert (
        "twitch: FAILED - twitch: missing configuration: set SOURCES__TWITCH__CLIENT_ID and "
        "SOURCES__TWITCH__CLIENT_SECRET" in done.stdout
    )
    assert "Traceback" not in done.stdout + done.stderr


def test_malformed_base_url_is_one_sentence(tmp_path):
    env = {"SOURCES__SOOP__WEB_BASE_URL": "not-a-url", "GST_DUCKDB_PATH": str(tmp_path / "w.db")}
    done = gst("load", "soop", "--no-progress", env=env)
    assert done.returncode == 1
    assert "soop: FAILED - soop: Invalid URL 'not-a-url/" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("load", "kick"), "error: unknown platform 'kick'; choose from chzzk, soop, twitch"),
        (("load", "soop", "--target", "oracle"), "unknown target 'oracle'"),
        (("poll", "chzzk", "--every", "5x"), "error: cannot read duration '5x'"),
        (("poll", "chzzk", "--every", "-5s"), "'-5s': a duration cannot be negative"),
        (("demo", "--days", "0"), "error: demo: --days must be greater than 0, got 0"),
        (("demo", "--faults", "2"), "--faults between 0 and 1"),
        (("validate", "--suite", "bronze"), "bronze"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message, tmp_path):
    done = gst(*args, env={"GST_DUCKDB_PATH": str(tmp_path / "w.duckdb")})
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_bad_duckdb_memory_limit_names_the_variable(tmp_path):
    env = {"GST_DUCKDB_PATH": str(tmp_path / "w.duckdb"), "GST_LOADER_MEMORY_LIMIT": "lots"}
    done = gst("load", "soop", "--no-progress", env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "GST_LOADER_MEMORY_LIMIT must be a size such as 128MB or 1GB, got 'lots'" in (
        done.stderr
    )
    assert "Traceback" not in done.stdout + done.stderr
