"""The places file: kinds, service periods on weekdays, weekends and holidays, targets; problems with their line."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from engine.places.periods import day_type
from engine.worktime import WorkCalendar
from workflows.places import is_places_text, lint_places_text, load_places_text, period_at

SHIPPED = Path(__file__).resolve().parents[2] / "places.yaml"
TEXT = SHIPPED.read_text(encoding="utf-8")


def weekday(_day):
    return "weekday"


def test_the_shipped_file_loads_without_errors():
    config = load_places_text(TEXT, "places.yaml")
    assert [p for p in lint_places_text(TEXT, "places.yaml") if p.severity == "error"] == []
    assert config.kinds["canteen"].label.zh == "食堂"
    assert config.kind_named("学生公寓") == "dormitory" and config.kind_named("宿舍") is None
    assert {t.per for t in config.targets} == {"day", "week", "month"}
    assert is_places_text(TEXT) and not is_places_text("workflows: {}\n")


def test_periods_follow_the_kind_of_day_and_cross_midnight():
    kinds = load_places_text(TEXT).kinds
    assert period_at(kinds["canteen"], datetime(2026, 3, 3, 6, 45), weekday)[0] == "breakfast"
    assert period_at(kinds["canteen"], datetime(2026, 3, 7, 6, 45), lambda d: "weekend")[0] is None  # 07:00
    assert period_at(kinds["canteen"], datetime(2026, 3, 7, 21, 30), lambda d: "weekend")[0] is None  # no 夜宵
    assert period_at(kinds["canteen"], datetime(2026, 3, 3, 21, 30), weekday)[0] == "late"
    assert period_at(kinds["dormitory"], datetime(2026, 3, 7, 5, 59), weekday) == ("night", date(2026, 3, 6))
    assert period_at(kinds["energy"], datetime(2026, 3, 7, 23, 59), weekday)[0] == "all_day"


def test_weekends_holidays_and_make_up_working_days():
    calendar = WorkCalendar()
    assert day_type(calendar, date(2026, 3, 7)) == "weekend"  # a Saturday
    assert day_type(calendar, date(2026, 10, 1)) == "holiday"  # 国庆节
    assert day_type(calendar, date(2026, 3, 3)) == "weekday"


def test_problems_name_their_line():
    bad = TEXT.replace('lunch:     {label: {zh: 午餐, en: Lunch}, hours: "11:00-13:00"}',
                       'lunch:     {label: {zh: 午餐, en: Lunch}, hours: "11:00-25:00"}')
    problems = lint_places_text(bad, "p.yaml")
    line = bad.splitlines().index(next(x for x in bad.splitlines() if "25:00" in x)) + 1
    assert [(p.line, "25:00" in p.message) for p in problems if p.severity == "error"] == [(line, True)]
    wrong_kind = TEXT.replace("kind: dormitory, periods: [night]", "kind: dorm, periods: [night]")
    problems = lint_places_text(wrong_kind, "p.yaml")
    target_line = next(i for i, x in enumerate(wrong_kind.splitlines(), 1) if "kind: dorm," in x)
    assert [(p.line, "unknown kind 'dorm'" in p.message) for p in problems if p.severity == "error"] == \
        [(target_line, True)]
    unknown_role = lint_places_text(TEXT, "p.yaml", known_roles={"inspector", "admin"})
    assert any("'centre' is not a role" in p.message and p.severity == "warning" for p in unknown_role)


def test_the_public_section_gives_the_qr_pages_categories_and_the_satisfaction_weight():
    config = load_places_text(TEXT)
    assert config.public["categories"][:2] == ["环境卫生", "食品安全"] and config.public["satisfaction"] == 5.0
    bare = load_places_text(TEXT.split("\n  public:")[0])  # without the section: the defaults, no weight
    assert "设施设备" in bare.public["categories"] and bare.public["satisfaction"] == 0.0
    bad = TEXT.replace("satisfaction: 5", "satisfaction: -1")
    problems = [p for p in lint_places_text(bad, "places.yaml") if p.severity == "error"]
    lines = {i + 1 for i, line in enumerate(bad.splitlines()) if "satisfaction: -1" in line}
    assert problems and {p.line for p in problems} & lines
