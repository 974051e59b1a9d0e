"""考核: the ranking of units for a month, quarter, year or any period; each unit's breakdown and trend."""
from __future__ import annotations

from datetime import date, timedelta

from flask import render_template, request

from engine import scorecard
from engine.db import utcnow
from web.context import store, uow
from web.pages.common import current_actor, page_blueprint

bp = page_blueprint("scorecards_page", __name__)
PRESETS = {"month": "本月", "quarter": "本季度", "year": "本年", "last_month": "上月"}
TREND_MONTHS = 12


def today() -> date:
    return utcnow().astimezone(store().calendar.zone).date()


def preset_period(name: str, day: date) -> tuple[date, date]:
    if name == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    if name == "quarter":
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return first, _month_end(_add_months(first, 2))
    if name == "last_month":
        first = _add_months(date(day.year, day.month, 1), -1)
        return first, _month_end(first)
    first = date(day.year, day.month, 1)
    return first, _month_end(first)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_end(first: date) -> date:
    return _add_months(first, 1) - timedelta(days=1)


def period_from(args) -> tuple[str, date, date, dict]:
    errors = {}
    preset = args.get("preset") if args.get("preset") in PRESETS else None
    start, end = preset_period(preset or "month", today())
    if not preset and (args.get("start") or args.get("end")):
        try:
            start, end = date.fromisoformat(args.get("start", "")), date.fromisoformat(args.get("end", ""))
        except ValueError:
            errors["period"] = "开始和结束日期须为 年-月-日"
        preset = ""
    return preset if preset is not None else "month", start, end, errors


@bp.route("/scorecards")
def index():
    preset, start, end, errors = period_from(request.args)
    cards = [] if errors else scorecard.ranking(uow(), current_actor(), start, end)
    rated = [c for c in cards if c.score is not None]  # a unit with nothing to score is not rated, nor charted
    chart = {"kind": "bar", "units": [c.name for c in rated], "scores": [c.score for c in rated]}
    return render_template("scorecards/index.html", cards=cards, preset=preset, presets=PRESETS, start=start,
                           end=end, errors=errors, chart=chart)


@bp.route("/scorecards/<string(maxlength=64):code>")
def unit(code: str):
    preset, start, end, errors = period_from(request.args)
    work, actor = uow(), current_actor()
    card = scorecard.unit_scorecard(work, actor, code, start, end)
    first = _add_months(date(end.year, end.month, 1), 1 - TREND_MONTHS)
    months = [_add_months(first, i) for i in range(TREND_MONTHS)]
    trend = [scorecard.unit_scorecard(work, actor, code, m, _month_end(m)) for m in months]
    chart = {"kind": "trend", "months": [m.strftime("%Y-%m") for m in months],
             "scores": [c.score for c in trend], "closure": [round(c.rates.closure * 100, 1) for c in trend],
             "on_time": [round(c.rates.on_time * 100, 1) for c in trend]}
    return render_template("scorecards/unit.html", card=card, preset=preset, presets=PRESETS, start=start,
                           end=end, errors=errors, chart=chart)
