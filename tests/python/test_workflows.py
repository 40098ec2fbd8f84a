"""The committed GitHub Actions workflows parse, do what the README says, and handle secrets
only through `env:` (never interpolated into a shell script, never printed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SECRET_REF = re.compile(r"\$\{\{\s*secrets\.([A-Z0-9_]+)\s*\}\}")
CRON_FIELD = r"(\*|\d+)(-\d+)?(/\d+)?(,(\d+))*"
CRON = re.compile(rf"^{CRON_FIELD}( {CRON_FIELD}){{4}}$")


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict) and data.get("jobs"), f"{path.name}: no jobs"
    # YAML 1.1 reads the key `on` as True
    data["on"] = data.pop(True, data.get("on"))
    assert data["on"], f"{path.name}: no triggers"
    return data


def walk(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, (*path, str(i)))
    else:
        yield path, node


def by_name(name: str) -> dict:
    return load(ROOT / ".github" / "workflows" / name)


def all_steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"poll.yml", "pr.yml", "nightly.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_parses_and_every_job_runs_somewhere(path):
    workflow = load(path)
    for name, job in workflow["jobs"].items():
        assert job.get("runs-on"), f"{path.name}: job {name} has no runs-on"
        assert job.get("steps"), f"{path.name}: job {name} has no steps"
    for entry in (
        (workflow["on"] or {}).get("schedule", []) if isinstance(workflow["on"], dict) else []
    ):
        assert CRON.match(entry["cron"]), f"{path.name}: bad cron {entry['cron']!r}"


def secret_problems(workflow: dict) -> list[str]:
    """Places where a workflow lets a secret reach a shell script or a log."""
    problems, secret_vars = [], set()
    for where, value in walk(workflow):
        if not isinstance(value, str) or "secrets." not in value:
            continue
        at = ".".join(where)
        if not SECRET_REF.fullmatch(value.strip()):
            problems.append(f"{at}: a string built around a secret (pass it whole via env)")
        elif len(where) < 2 or where[-2] != "env":
            problems.append(f"{at}: a secret outside an env block")
        else:
            secret_vars.add(where[-1])
    for step in all_steps(workflow):
        script = step.get("run", "")
        problems += [f"step {step.get('name')!r}: `set -x` echoes commands"] * ("set -x" in script)
        for var in secret_vars:
            if re.search(rf"\$\{{?{var}\b", script):
                problems.append(f"step {step.get('name')!r}: shell expands secret variable {var}")
    return problems


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_secrets_only_reach_steps_through_env(path):
    assert secret_problems(load(path)) == []


def test_secret_check_catches_leaks():
    leaky = {
        "jobs": {
            "j": {
                "env": {"TOKEN": "${{ secrets.TOKEN }}"},
                "steps": [
                    {"name": "inline", "run": "curl -u me:${{ secrets.PASSWORD }} https://x"},
                    {"name": "echo", "run": "echo $TOKEN"},
                    {"name": "wrapped", "env": {"URL": "https://me:${{ secrets.PASSWORD }}@x"}},
                ],
            }
        }
    }
    problems = secret_problems(leaky)
    assert any(p.startswith("jobs.j.steps.0.run:") for p in problems)
    assert any("'echo'" in p and "TOKEN" in p for p in problems)
    assert any("steps.2.env.URL" in p and "built around a secret" in p for p in problems)


def test_poll_workflow_loads_every_platform_into_redshift_on_a_schedule():
    workflow = by_name("poll.yml")
    assert workflow["on"]["schedule"]
    runs = " ".join(step.get("run", "") for step in all_steps(workflow))
    assert "gst load all --target redshift" in runs
    env = workflow["jobs"]["load"]["env"]
    for key in ("GST_REDSHIFT_PASSWORD", "GST_REDSHIFT_STAGING_BUCKET", "AWS_SECRET_ACCESS_KEY"):
        assert SECRET_REF.fullmatch(env[key])


def test_pr_workflow_builds_modified_models_deferring_to_the_prod_manifest():
    pr, nightly = by_name("pr.yml"), by_name("nightly.yml")
    assert "pull_request" in pr["on"]
    runs = " ".join(step.get("run", "") for step in all_steps(pr))
    build = re.search(r"dbt build (.*)", runs).group(1)
    assert "--select state:modified+" in build and "--defer" in build
    state_dir = re.search(r"--state (\S+)", build).group(1)
    assert f"--name prod-manifest --dir {state_dir}" in runs
    uploads = [
        s for s in all_steps(nightly) if s.get("uses", "").startswith("actions/upload-artifact")
    ]
    assert any(s["with"]["name"] == "prod-manifest" for s in uploads)


def test_nightly_builds_everything_and_publishes_docs():
    workflow = by_name("nightly.yml")
    assert workflow["on"]["schedule"]
    steps = all_steps(workflow)
    runs = [step.get("run", "") for step in steps]
    assert "dbt build" in runs and "dbt docs generate" in runs
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    assert workflow["permissions"]["pages"] == "write"


def test_cron_recipe_lines_are_valid():
    text = (ROOT / "ops" / "cron.example").read_text()
    entries = [
        line for line in text.splitlines()
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]  # fmt: skip
    assert len(entries) >= 3
    for line in entries:
        assert CRON.match(" ".join(line.split()[:5])), line
    assert any("gst load all" in line for line in entries)
    assert "PASSWORD=" not in "".join(entries)  # secrets live in the env file, not the crontab
