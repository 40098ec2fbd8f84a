"""Run dbt in-process (dbt's programmatic `dbtRunner`) for the demo and the tests."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


class DbtFailed(RuntimeError):
    """A dbt command that did not succeed; the message names the failing nodes."""


def profiles_dir() -> Path:
    """profiles.yml next to dbt_project.yml, created from the example when missing."""
    explicit = os.environ.get("DBT_PROFILES_DIR")
    if explicit and (Path(explicit) / "profiles.yml").exists():
        return Path(explicit)
    target = PROJECT_DIR / "profiles.yml"
    if not target.exists():
        target.write_text((PROJECT_DIR / "profiles.yml.example").read_text())
    return PROJECT_DIR


def dbt(*args: str, target: str = "duckdb", quiet: bool = False, manifest: object = None) -> object:
    """Invoke one dbt command (e.g. `dbt("build")`) against `target`; raise DbtFailed on failure.

    `manifest`: the result of an earlier `dbt("parse")`, reused instead of parsing the project
    again (dbt's fixed cost per invocation; only while the project files do not change)."""
    from dbt.cli.main import dbtRunner

    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    cli_args = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(profiles_dir()),
        "--target",
        target,
    ]
    if quiet:
        cli_args = ["--quiet", *cli_args]
    result = dbtRunner(manifest=manifest).invoke(cli_args)
    if not result.success:
        failures = []
        for node_result in getattr(result.result, "results", None) or []:
            status = str(getattr(node_result, "status", ""))
            if status.lower() in {"error", "fail", "runstatus.error", "teststatus.fail"}:
                failures.append(f"{node_result.node.name}: {node_result.message}")
        detail = "; ".join(failures[:10]) or str(result.exception or "see the dbt log above")
        raise DbtFailed(f"dbt {args[0]} failed on target {target}: {detail}")
    return result.result
