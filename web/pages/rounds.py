"""巡查轮次: rounds at department and centre level, one round with its checks and findings; planning a round,
starting and finishing it and recording a check go through the same use cases as /api/v1/rounds."""
from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for

from engine import queries, rounds
from engine.errors import InvalidEvent, InvalidFields, MissingFields
from engine.models import LEVELS, ROUND_STATES
from engine.places import registry
from engine.places.config import current_config
from web import zh
from web.context import store, uow
from web.pages.common import current_actor, page_blueprint

bp = page_blueprint("rounds_page", __name__)
ROUND = "<int(max=2147483647):round_id>"
LEVEL_ZH = {"department": "总务部督查", "centre": "中心自查"}
STATE_ZH = {"planned": "计划中", "in_progress": "进行中", "done": "已完成"}
EVENT_ZH = {"start": "开始巡查", "finish": "结束巡查"}
PLAN_FIELDS = ("name", "level", "unit", "inspectors", "planned_start", "planned_end", "scope", "target", "notes")
PICKER_LIMIT = 300  # places offered in the check form's picker; a code typed in works for any place


@bp.app_template_filter("level_zh")
def level_zh(value):
    return LEVEL_ZH.get(value, value)


@bp.app_template_filter("round_state_zh")
def round_state_zh(value):
    return STATE_ZH.get(value, value)


@bp.route("/rounds")
def index():
    return _index({}, {})


def _index(errors: dict, values: dict, status: int = 200):
    work, actor = uow(), current_actor()
    args = {k: request.args.get(k) if request.args.get(k) in allowed else None
            for k, allowed in (("level", LEVELS), ("state", ROUND_STATES))}
    views = rounds.list_rounds(work, actor, rounds.RoundFilters(**args))
    counts = rounds.check_counts(work, [v.round.id for v in views])
    config = current_config(work)
    planners = {role for level in config.round_roles.values() for role in level.get("plan", ())}
    return render_template("rounds/index.html", views=views, counts=counts, args=args, levels=LEVELS,
                           states=ROUND_STATES, may_plan=bool(planners & set(actor.roles)),
                           units=queries.list_units(work), kinds=[(k.name, k.label.zh) for k in config.kinds.values()],
                           errors=errors, values=values or _plan_defaults(work, actor)), status


def _plan_defaults(work, actor) -> dict:
    """A centre plans its own self-inspection; everyone else the department's inspection."""
    if "centre" in actor.roles and actor.unit_id:
        code = next((u.code for u in queries.list_units(work) if u.id == actor.unit_id), "")
        return {"level": "centre", "unit": code}
    return {"level": "department"}


def _local(text: str, field: str, problems: dict) -> datetime | None:
    """A datetime-local field (campus time) as an aware datetime."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=store().calendar.zone)
    except ValueError:
        problems[field] = "须为日期时间（年-月-日 时:分）"
        return None


@bp.route("/rounds", methods=["POST"])
def plan():
    form = request.form
    values = {k: form.get(k, "").strip() for k in PLAN_FIELDS}
    problems: dict[str, str] = {}
    start = _local(values["planned_start"], "planned_start", problems)
    end = _local(values["planned_end"], "planned_end", problems)
    scope, target = values["scope"], values["target"]
    places = tuple(c for c in target.replace("，", ",").replace(" ", ",").split(",") if c) if scope == "places" else ()
    if scope in ("places", "subtree", "kind") and not target:
        problems["target"] = "必填"
    if problems:
        return _index(problems, values, 422)
    data = rounds.RoundInput(
        name=values["name"], level=values["level"], unit=values["unit"] or None,
        inspectors=tuple(n for n in values["inspectors"].replace("，", ",").replace(" ", ",").split(",") if n),
        planned_start=start, planned_end=end, places=places, subtree=target if scope == "subtree" else None,
        kind=target if scope == "kind" else None, notes=values["notes"])
    try:
        row = rounds.plan_round(uow(), current_actor(), data)
    except (InvalidFields, MissingFields) as exc:
        uow().rollback()
        fields = {("target" if k in ("places", "subtree", "kind", "plan") else k): v for k, v in exc.fields.items()}
        return _index(zh.field_errors(fields), values, 422)
    uow().commit()
    flash(f"已计划巡查轮次“{row.name}”。")
    return redirect(url_for(".detail", round_id=row.id), 303)


@bp.route(f"/rounds/{ROUND}")
def detail(round_id: int):
    return _detail(round_id, {}, {})


def _detail(round_id: int, errors: dict, values: dict, status: int = 200):
    work, actor = uow(), current_actor()
    view = rounds.get_round(work, actor, round_id)
    config = current_config(work)
    findings = [queries.finding_view(work, f, actor, with_events=False) for f in view.findings]
    unchecked = [f for f in view.findings if f.check_id is None]
    periods = {p.name: p.label.zh for k in config.kinds.values() for p in k.periods.values()}
    return render_template("rounds/detail.html", view=view, r=view.round, findings=findings, unchecked=unchecked,
                           picker=_picker(work, view.round.plan or {}), periods=periods,
                           unit_name=view.round.unit.name if view.round.unit else None,
                           errors=errors, values=values or {"result": "ok"}), status


def _picker(work, plan: dict) -> list[tuple[str, str]]:
    """Places the check form offers: those the round planned (with what lies below them), else all active."""
    if plan.get("places"):
        out: list[tuple[str, str]] = []
        for code in plan["places"]:
            root = registry.get_place(work, code).place
            out.append((root.code, root.name_zh))
            out += [(p.code, p.name_zh) for p, _, _ in
                    registry.list_places(work, registry.PlaceFilters(parent=code, active=True))]
            if len(out) >= PICKER_LIMIT:
                break
        return list(dict.fromkeys(out))[:PICKER_LIMIT]
    filters = registry.PlaceFilters(parent=plan.get("subtree"), kind=plan.get("kind"), active=True)
    rows = registry.list_places(work, filters)
    if plan.get("subtree"):
        root = registry.get_place(work, plan["subtree"]).place
        rows = [(root, None, None)] + rows
    return [(p.code, p.name_zh) for p, _, _ in rows[:PICKER_LIMIT]]


@bp.route(f"/rounds/{ROUND}/<any(start, finish):event>", methods=["POST"])
def move(round_id: int, event: str):
    try:
        rounds.move_round(uow(), current_actor(), round_id, event)
    except InvalidEvent:
        uow().rollback()
        row = rounds.load_round(uow(), current_actor(), round_id)
        flash(f"本轮次当前为“{STATE_ZH.get(row.state, row.state)}”，不能{EVENT_ZH[event]}。")
        return redirect(url_for(".detail", round_id=round_id), 303)
    uow().commit()
    flash(f"已{EVENT_ZH[event]}。")
    return redirect(url_for(".detail", round_id=round_id), 303)


@bp.route(f"/rounds/{ROUND}/checks", methods=["POST"])
def check(round_id: int):
    form = request.form
    values = {"place": form.get("place", "").strip(), "result": form.get("result", "ok"),
              "note": form.get("note", "").strip(), "findings": form.getlist("findings"),
              "at": form.get("at", "").strip()}
    problems: dict[str, str] = {}
    at = _local(values["at"], "at", problems)
    ids = []
    for text in values["findings"]:
        if text.isdigit() and len(text) < 10:
            ids.append(int(text))
        else:
            problems["findings"] = "请选择本轮次上报的问题"
    if not values["place"]:
        problems["place"] = "必填"
    if problems:
        return _detail(round_id, problems, values, 422)
    data = rounds.CheckInput(place=values["place"], at=at, result=values["result"], findings=tuple(ids),
                             note=values["note"])
    try:
        rounds.record_check(uow(), current_actor(), round_id, data)
    except InvalidFields as exc:
        uow().rollback()
        return _detail(round_id, zh.field_errors(exc.fields), values, 422)
    except InvalidEvent:
        uow().rollback()
        return _detail(round_id, {"round": "本轮次不在进行中：先开始巡查，才能记录检查"}, values, 422)
    uow().commit()
    flash("已记录检查。")
    return redirect(url_for(".detail", round_id=round_id), 303)
