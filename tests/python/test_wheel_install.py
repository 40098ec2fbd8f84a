"""A non-editable install works: the wheel carries its data files (the simulator's catalog, the
Steam source's game list), `gst simulate` serves, and one Steam poll tracks the seed's apps.

The wheel is built from the checkout and installed with `--no-deps` into a fresh venv. Its
dependencies are not installed again (minutes of downloads and unpacking for dbt, dlt, GX and
Streamlit): the fresh venv reads them from this environment's site-packages through a `.pth`
path line. A path line does not run that directory's own `.pth` files, so this checkout's
editable install stays invisible, and the test asserts `loaders` and `simulator` are imported
from the fresh venv."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*build, "-w", str(work / "dist"), str(ROOT)], check=True, timeout=300)
    [wheel] = (work / "dist").glob("game_stream_trends-*.whl")
    env_dir = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=120)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    (Path(site) / "gst_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)]
    subprocess.run(pip, check=True, timeout=300)
    return env_dir


def run(venv: Path, code: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_installed_wheel_simulates_and_polls_steam_with_the_seed_list(venv, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "GST_", "PYTHON"))}
    env.update(GST_DUCKDB_PATH=str(tmp_path / "wh.duckdb"), RUNTIME__DLTHUB_TELEMETRY="false")
    where = run(venv, "import loaders, simulator; print(loaders.__file__, simulator.__file__)",
                env, tmp_path)  # fmt: skip
    assert str(venv) in where and str(ROOT) not in where, where

    port = free_port()
    server = subprocess.Popen(
        [str(venv / "bin" / "gst"), "simulate", "--port", str(port), "--channels", "20"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/", timeout=1)
            except urllib.error.HTTPError:
                break  # the server answers (404 for this path)
            except OSError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.5)
        env.update(
            SOURCES__STEAM__WEB_API_BASE_URL=f"{base}/steam-web-api",
            SOURCES__STEAM__STORE_BASE_URL=f"{base}/steam-store",
            SOURCES__STEAM__INCLUDE_MOST_PLAYED="false",  # only the seed list is tracked
        )
        code = (
            "from loaders.pipeline import load_platform\n"
            "from loaders.steam import SEED_FILE\n"
            "from loaders.steam.helpers import seed_appids\n"
            "report = load_platform('steam')\n"
            "assert report.status == 'ok', report.error\n"
            "print(len(seed_appids(SEED_FILE)), report.rows.get('current_players', 0))\n"
        )
        seeded, polled = map(int, run(venv, code, env, tmp_path).split())
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert seeded >= 10
    assert polled >= seeded * 0.8  # a few seed apps may answer 404 in the simulated world
