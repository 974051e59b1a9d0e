"""Scorecard arithmetic without a database: rates, the composite score, ranking, the period, CSV rows."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.errors import InvalidFields
from engine.scorecard import CSV_COLUMNS, Scorecard, Tally, composite, csv_rows, period, rank, rates

SH = ZoneInfo("Asia/Shanghai")


def test_rates_count_against_findings_due_to_close():
    t = Tally(received=12, dismissed=2, closed=8, closed_on_time=6, open=2, open_overdue=1, failed_verifications=3)
    r = rates(t)
    assert (r.closure, r.on_time, r.rework, r.overdue) == (0.8, 0.6, 0.3, 0.5)


def test_rework_is_capped_and_a_unit_with_nothing_due_has_full_marks():
    assert rates(Tally(received=2, closed=1, failed_verifications=9)).rework == 1.0
    quiet = rates(Tally())
    assert (quiet.closure, quiet.on_time, quiet.rework, quiet.overdue) == (1.0, 1.0, 0.0, 0.0)
    assert composite(Tally()) == 100.0


def test_composite_uses_the_weights_and_moves_by_exactly_the_points():
    t = Tally(received=10, closed=8, closed_on_time=5, failed_verifications=2)
    assert composite(t) == pytest.approx(50 * 0.5 + 30 * 0.8 + 10 * 0.8 + 10)
    assert composite(t, {"on_time": 0, "closure": 100, "rework": 0, "base": 0}) == pytest.approx(80)
    sanctioned = Tally(**{**t.__dict__, "sanction_points": 7.5})
    praised = Tally(**{**t.__dict__, "sanction_points": 7.5, "commendation_points": 2})
    assert composite(t) - composite(sanctioned) == pytest.approx(7.5)
    assert composite(praised) - composite(sanctioned) == pytest.approx(2)
    assert composite(Tally(sanction_points=150)) == -50  # not clamped: deeper sanctions still rank lower


def test_tallies_add_up_field_by_field():
    total = Tally(received=1, sanction_points=1.5) + Tally(received=2, commendations=1, sanction_points=2)
    assert (total.received, total.commendations, total.sanction_points) == (3, 1, 3.5)


def card(unit, score):
    t = Tally()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return Scorecard(unit, unit, at, at, t, rates(t), score)


def test_ranking_puts_the_best_first_and_shares_ranks_on_ties():
    ranked = rank([card("B", 90.0), card("A", 95.5), card("C", 90.0), card("D", 10.0)])
    assert [(c.unit, c.rank) for c in ranked] == [("A", 1), ("B", 2), ("C", 2), ("D", 4)]


def test_period_takes_campus_days_with_the_last_day_included():
    lo, hi = period(date(2026, 3, 1), date(2026, 3, 31), SH)
    assert (lo, hi) == (datetime(2026, 3, 1, tzinfo=SH), datetime(2026, 4, 1, tzinfo=SH))
    with pytest.raises(InvalidFields) as caught:
        period(date(2026, 3, 2), date(2026, 3, 1), SH)
    assert "to" in caught.value.fields
    with pytest.raises(InvalidFields):
        period(datetime(2026, 3, 1), date(2026, 3, 2), SH)


def test_csv_rows_have_a_header_and_one_row_per_unit():
    rows = csv_rows(rank([card("A", 80.0), card("B", 90.0)]))
    assert rows[0] == list(CSV_COLUMNS)
    assert [(r[0], r[1], r[-1]) for r in rows[1:]] == [(1, "B", 90.0), (2, "A", 80.0)]


def test_satisfaction_moves_the_score_by_the_mean_rating_at_most_its_weight():
    from dataclasses import replace

    from engine.scorecard import satisfaction, satisfaction_points

    assert satisfaction(Tally()) is None and satisfaction_points(Tally(), 5) == 0.0
    assert satisfaction_points(Tally(ratings=2, rating_sum=10), 5) == 5.0  # all 5 stars: +weight
    assert satisfaction_points(Tally(ratings=4, rating_sum=12), 5) == 0.0  # a mean of 3: nothing
    assert satisfaction_points(Tally(ratings=1, rating_sum=1), 5) == -5.0  # 1 star: −weight
    many = Tally(ratings=40, rating_sum=160)
    assert satisfaction_points(many, 5) == satisfaction_points(Tally(ratings=1, rating_sum=4), 5) == 2.5  # a mean
    base = Tally(received=4, closed=4, closed_on_time=4)
    assert composite(replace(base, satisfaction_points=-2.5)) == composite(base) - 2.5
