"""dbt names that become relation names fit PostgreSQL's and Redshift's 63-character limit
(a unit test runs as a temporary relation named after the test: 64 characters broke CI once)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 63


def unit_test_names() -> list[str]:
    names = []
    for path in sorted((ROOT / "models").rglob("*.yml")):
        for test in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(
            "unit_tests"
        ) or []:
            names.append(test["name"])
    return names


def test_unit_test_names_fit_a_relation_name():
    names = unit_test_names()
    assert len(names) >= 20  # the project's unit tests were found
    too_long = [name for name in names if len(name) > LIMIT]
    assert too_long == [], f"unit test names over {LIMIT} characters: {too_long}"


def test_model_names_fit_a_relation_name():
    too_long = [p.stem for p in (ROOT / "models").rglob("*.sql") if len(p.stem) > LIMIT]
    assert too_long == []
