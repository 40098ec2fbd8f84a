"""Streamer impact against the simulator's planted truth (product vs naive estimator).

The HTTP demo costs ~2 s per simulated 10-minute poll, so this test writes the raw tables
straight from the world model (``simulator.tables``: the simulator's own item
renderers parsed by the loaders' row functions, written with pyarrow into ``raw_*`` tables of a
temp DuckDB), then runs ``dbt build --select +fct_streamer_game_impact int_streamer_influence``
and compares the per-streamer estimates with the planted influences on seed 2024 (the models
were developed on seed 1001). The Spearman figures are printed (``pytest -s``).
"""

from __future__ import annotations

import math

import pytest

from bench.impact_truth import check

pytestmark = pytest.mark.slow

SEED = 2024


@pytest.fixture(scope="module")
def truth_check():
    report, rows = check(seed=SEED, days=8.0, channels=40, min_events=3)
    print(
        f"\nimpact truth (seed {SEED}, {report.streamers} streamers with >= 3 events): "
        f"Spearman product={report.spearman_product:.3f} naive={report.spearman_naive:.3f}"
    )
    return report, rows


def test_enough_streamers_with_events(truth_check):
    report, rows = truth_check
    assert report.streamers >= 50
    assert (rows["influence_events"] >= 3).all()
    assert rows["estimated_influence"].notna().all()


def test_naive_estimator_falls_short(truth_check):
    report, _ = truth_check
    assert not math.isnan(report.spearman_naive)
    assert report.spearman_naive <= 0.3


def test_product_estimator_holds_the_level_it_reaches(truth_check):
    # The level reached, not the bar: on the calibrated world the event-window estimator in
    # gold ranks streamers at Spearman ~0 (seed 2024, 8 days: -0.05), far from the 0.7 the
    # product needs; the within-day estimator that is to replace it reaches 0.50-0.65 in
    # bench/impact_prototype.py (README "Streamer impact: where the estimate stands"). Raise
    # this threshold with the estimator; a drop below it fails.
    report, _ = truth_check
    assert not math.isnan(report.spearman_product)
    assert report.spearman_product >= -0.25
