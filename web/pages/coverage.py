"""覆盖情况: a heat map of checks per service place and period for a date range, and the blind spots (死角)
worst first; the same engine calls (and CSV rows) as /api/v1/coverage."""
from __future__ import annotations

from datetime import date

from flask import render_template, request

from engine import coverage as engine_coverage
from engine import queries
from engine.db import utcnow
from engine.errors import InvalidFields
from engine.models import LEVELS
from engine.places.config import current_config
from web import zh
from web.context import store, uow
from web.loop import _csv
from web.pages.common import current_actor, page_blueprint
from web.pages.rounds import LEVEL_ZH

bp = page_blueprint("coverage_page", __name__)
MAP_ROWS = 80  # places drawn in the heat map; the gaps list and the CSV have them all
GAPS_SHOWN = 100
REASONS = {"below_target": "未达巡查目标", "not_checked": "长期未检查"}


def today() -> date:
    return utcnow().astimezone(store().calendar.zone).date()


def query_from(args) -> tuple[engine_coverage.CoverageQuery, dict, dict]:
    """The page's query string as a coverage question (this month so far by default); errors by field."""
    errors: dict[str, str] = {}
    values = {k: (args.get(k) or "").strip() for k in ("from", "to", "unit", "kind", "level")}
    end = today()
    days = {"from": end.replace(day=1), "to": end}
    for key in ("from", "to"):
        if values[key]:
            try:
                days[key] = date.fromisoformat(values[key])
            except ValueError:
                errors[key] = "须为日期（年-月-日）"
    if values["level"] and values["level"] not in LEVELS:
        errors["level"] = "须为总务部督查或中心自查"
    values["from"], values["to"] = days["from"].isoformat(), days["to"].isoformat()
    q = engine_coverage.CoverageQuery(days["from"], days["to"], values["unit"] or None, values["kind"] or None,
                                      values["level"] or None)
    return q, values, errors


def heatmap(rows: list[engine_coverage.CoverageRow], period_labels: dict[str, str]) -> dict:
    """ECharts data: places down, periods (by Chinese label, so 白天 of dormitories and of outdoor areas share
    a column) across; each cell [x, y, checks, share of the targets' days achieved (-1: no target)]."""
    columns = list(dict.fromkeys(period_labels.get(r.period, r.period) for r in rows))
    places: list[str] = []
    names: dict[str, str] = {}
    for r in rows:
        if r.place not in names and len(places) < MAP_ROWS:
            places.append(r.place)
            names[r.place] = r.name
    cells = []
    for r in rows:
        if r.place not in names:
            continue
        required = sum(t.required for t in r.targets)
        share = -1 if not r.targets else (1 if required == 0 else round(
            sum(t.achieved for t in r.targets) / required, 3))
        cells.append([columns.index(period_labels.get(r.period, r.period)), places.index(r.place),
                      sum(r.checks.values()), share])
    return {"periods": columns, "places": [f"{names[p]}（{p}）" for p in places], "cells": cells,
            "more": len({r.place for r in rows}) - len(places)}


@bp.route("/coverage")
def index():
    q, values, errors = query_from(request.args)
    work, actor = uow(), current_actor()
    config = current_config(work)
    period_labels = {p.name: p.label.zh for k in config.kinds.values() for p in k.periods.values()}
    rows, gaps = [], []
    if not errors:
        try:
            rows = engine_coverage.coverage(work, actor, q)
            gaps = engine_coverage.gaps(work, actor, q, rows=rows)
        except InvalidFields as exc:
            errors = zh.field_errors(exc.fields)
    kinds = [(k.name, k.label.zh) for k in config.kinds.values() if k.periods]
    met = [r.met for r in rows if r.met is not None]
    return render_template(
        "coverage/index.html", values=values, errors=errors, chart=heatmap(rows, period_labels),
        gaps=gaps[:GAPS_SHOWN], gaps_total=len(gaps), reasons=REASONS, period_labels=period_labels,
        kind_labels=dict(kinds), kinds=kinds, units=queries.list_units(work), levels=LEVEL_ZH,
        summary={"rows": len(rows), "met": sum(met), "targeted": len(met)}), 422 if errors else 200


def _export(kind: str):
    q, values, errors = query_from(request.args)
    if errors:
        raise InvalidFields(errors)
    work, actor = uow(), current_actor()
    if kind == "gaps":
        rows = engine_coverage.gap_csv_rows(engine_coverage.gaps(work, actor, q))
    else:
        rows = engine_coverage.coverage_csv_rows(engine_coverage.coverage(work, actor, q))
    return _csv(rows, f"{kind}-{q.start}-{q.end}.csv")


@bp.route("/coverage/gaps.csv")
def gaps_csv():
    """The same file as GET /api/v1/coverage/gaps?format=csv, for a person signed in to the pages."""
    return _export("gaps")


@bp.route("/coverage.csv")
def coverage_csv():
    """The same file as GET /api/v1/coverage?format=csv."""
    return _export("coverage")
