"""点位: the place tree with search and filters, one place with its recent checks and findings, and the
administrators' create, edit and deactivate forms (the same registry calls as /api/v1/places)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from engine import queries
from engine.errors import InvalidFields
from engine.places import history, registry, tree
from engine.places.config import current_config
from web import zh
from web.context import uow
from web.pages.common import current_actor, page_blueprint
from web.pages.report import REPORTERS

bp = page_blueprint("places_page", __name__)
CODE = "<string(maxlength=64):code>"
FIELDS = ("code", "name_zh", "name_en", "kind", "parent", "unit")
SHOWN = 500  # a campus has a few thousand places: the tree shows the first ones, a search narrows it


def is_admin() -> bool:
    return "admin" in current_actor().roles


def _kinds(config) -> list[tuple[str, str]]:
    return [(k.name, k.label.zh) for k in config.kinds.values()]


@bp.route("/places")
def index():
    return _index({}, {})


def _index(errors: dict, values: dict, status: int = 200):
    work = uow()
    config = current_config(work)
    args = {k: (request.args.get(k) or "").strip() or None for k in ("q", "kind", "unit")}
    show_inactive = request.args.get("inactive") == "1"
    rows = registry.list_places(work, registry.PlaceFilters(kind=args["kind"], unit=args["unit"], q=args["q"],
                                                            active=None if show_inactive else True))
    top = min((len(tree.path_ids(p)) for p, _, _ in rows), default=1)
    units = queries.list_units(work)
    names = {u.code: u.name for u in units}
    items = [{"place": p, "parent": parent, "unit": names.get(unit, unit), "depth": len(tree.path_ids(p)) - top,
              "kind": config.kinds[p.kind].label.zh if p.kind in config.kinds else p.kind}
             for p, parent, unit in rows[:SHOWN]]
    return render_template("places/index.html", items=items, total=len(rows), shown=SHOWN, args=args,
                           inactive=show_inactive, kinds=_kinds(config), units=units, admin=is_admin(),
                           errors=errors, values=values), status


@bp.route("/places", methods=["POST"])
def create():
    values = {k: request.form.get(k, "").strip() for k in FIELDS}
    data = registry.PlaceInput(code=values["code"], name_zh=values["name_zh"], kind=values["kind"],
                               parent=values["parent"] or None, unit=values["unit"] or None,
                               name_en=values["name_en"] or None)
    try:
        place = registry.create_place(uow(), current_actor(), data)
    except InvalidFields as exc:
        uow().rollback()
        return _index(zh.field_errors(exc.fields), values, 422)
    uow().commit()
    flash(f"已添加点位 {place.name_zh}（{place.code}）。")
    return redirect(url_for(".detail", code=place.code), 303)


@bp.route(f"/places/{CODE}")
def detail(code: str):
    return _detail(code, {}, {})


def _detail(code: str, errors: dict, values: dict, status: int = 200):
    work, actor = uow(), current_actor()
    view = registry.get_place(work, code)
    kind = view.config.kinds.get(view.place.kind)
    periods = [(p.label.zh, _hours(p)) for p in (kind.periods.values() if kind else ())]
    children = registry.list_places(work, registry.PlaceFilters(parent=code))
    checks = history.recent_checks(work, actor, view.place)
    findings = [queries.finding_view(work, f, actor, with_events=False)
                for f in history.recent_findings(work, actor, view.place)]
    period_labels = {p.name: p.label.zh for k in view.config.kinds.values() for p in k.periods.values()}
    return render_template("places/detail.html", view=view, kind=kind.label.zh if kind else view.place.kind,
                           periods=periods, children=[(p, len(tree.path_ids(p))) for p, _, _ in children[:50]],
                           children_total=len(children), checks=checks, findings=findings,
                           period_labels=period_labels, admin=is_admin(), kinds=_kinds(view.config),
                           may_report=bool(set(REPORTERS) & set(actor.roles)),
                           units=queries.list_units(work), errors=errors, values=values), status


DAYS = {"hours": "每天", "weekday": "工作日", "weekend": "周末", "holiday": "节假日"}


def _hours(period) -> str:
    """"每天 06:30-09:00；周末 07:00-09:30": the usual hours, then the days that differ (no usual hours: only those)."""
    spans = dict(period.spans)
    if spans.get("hours") is None and len(spans) > 1:
        spans.pop("hours")
    if len(spans) == 1:
        return _span(next(iter(spans.values())))
    return "；".join(f"{DAYS.get(day, day)} {_span(span)}" for day, span in spans.items())


def _span(span) -> str:
    if span is None:
        return "不服务"
    start, end = span
    return f"{start // 60:02d}:{start % 60:02d}-{end % 1440 // 60 if end != 1440 else 24:02d}:{end % 60:02d}"


@bp.route(f"/places/{CODE}", methods=["POST"])
def update(code: str):
    form = request.form
    values = {k: form.get(k, "").strip() for k in ("name_zh", "name_en", "kind", "parent", "unit")}
    try:
        registry.update_place(uow(), current_actor(), code, name_zh=values["name_zh"],
                              name_en=values["name_en"] or None, kind=values["kind"],
                              parent=values["parent"] or None, unit=values["unit"] or None,
                              active=form.get("active", "1") == "1")
    except InvalidFields as exc:
        uow().rollback()
        return _detail(code, zh.field_errors(exc.fields), values, 422)
    uow().commit()
    flash("点位已更新。")
    return redirect(url_for(".detail", code=code), 303)


@bp.route(f"/places/{CODE}/deactivate", methods=["POST"])
def deactivate(code: str):
    count = registry.deactivate_place(uow(), current_actor(), code)
    uow().commit()
    flash(f"已停用 {count} 个点位（含下级点位）；已有问题仍指向它们。")
    return redirect(url_for(".detail", code=code), 303)
