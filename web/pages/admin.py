"""组织与用户: the unit tree, people (create, roles, unit, disable, reset password) and closed days."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from engine import accounts, admin, calendars, queries
from engine.errors import InvalidFields, MissingFields
from web import zh
from web.context import uow
from web.pages.common import current_actor, page_blueprint, require_roles

bp = page_blueprint("admin_page", __name__, url_prefix="/admin")
bp.before_request(require_roles("admin")(lambda: None))


def _users_page(errors: dict | None = None, values: dict | None = None, status: int = 200):
    work = uow()
    labels = {name: role.label.zh for info in queries.active_workflows(work)
              for name, role in info.workflow.roles.items()}
    return render_template("admin/users.html", users=accounts.list_users(work, current_actor()),
                           units=queries.list_units(work), roles=sorted(admin.known_roles(work) - {"system"}),
                           role_labels=labels,
                           errors=errors or {}, values=values or {}), status


@bp.route("/users")
def users():
    return _users_page()


@bp.route("/users", methods=["POST"])
def create_user():
    form = request.form
    values = {"name": form.get("name", "").strip(), "display_name": form.get("display_name", "").strip(),
              "unit": form.get("unit", ""), "roles": form.getlist("roles")}
    try:
        accounts.create_person(uow(), current_actor(), values["name"], values["roles"], unit=values["unit"],
                               display_name=values["display_name"], password=form.get("password", ""))
    except MissingFields as exc:
        uow().rollback()
        return _users_page(zh.field_errors(exc.fields), values, 422)
    uow().commit()
    flash(f"已创建用户 {values['name']}。")
    return redirect(url_for(".users"), 303)


@bp.route("/users/<string(maxlength=100):name>", methods=["POST"])
def update_user(name: str):
    form = request.form
    try:
        accounts.update_user(uow(), current_actor(), name, roles=form.getlist("roles"), unit=form.get("unit"),
                             active=form.get("active") == "1")
    except MissingFields as exc:
        uow().rollback()
        return _users_page({f"{name}:{k}": v for k, v in zh.field_errors(exc.fields).items()}, status=422)
    uow().commit()
    flash(f"已更新用户 {name}。")
    return redirect(url_for(".users"), 303)


@bp.route("/users/<string(maxlength=100):name>/password", methods=["POST"])
def reset_password(name: str):
    try:
        accounts.set_password(uow(), current_actor(), name, request.form.get("password", ""))
    except MissingFields as exc:
        uow().rollback()
        return _users_page({f"{name}:password": zh.field_errors(exc.fields).get("password", "")}, status=422)
    uow().commit()
    flash(f"已重置 {name} 的密码，并解除锁定。")
    return redirect(url_for(".users"), 303)


@bp.route("/units", methods=["GET", "POST"])
def units():
    work, errors, values = uow(), {}, {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in ("code", "name", "name_en", "parent")}
        try:
            admin.create_unit(work, values["code"], values["name"], parent=values["parent"] or None,
                              name_en=values["name_en"] or None)
        except InvalidFields as exc:
            work.rollback()
            errors = zh.field_errors(exc.fields)
        else:
            work.commit()
            flash(f"已添加单位 {values['name']}。")
            return redirect(url_for(".units"), 303)
    all_units = queries.list_units(work)
    children: dict = {}
    for u in all_units:
        children.setdefault(u.parent_id, []).append(u)
    return render_template("admin/units.html", children=children, units=all_units, errors=errors,
                           values=values), 422 if errors else 200


@bp.route("/closed-days", methods=["GET", "POST"])
def closed_days():
    """Closed days (寒暑假) and open days (调休上班) set against the national calendar."""
    work, errors = uow(), {}
    if request.method == "POST":
        try:
            if request.form.get("remove"):
                calendars.remove_days(work, current_actor(), [request.form["remove"]])
            else:
                change = calendars.open_days if request.form.get("kind") == "open" else calendars.close_days
                change(work, current_actor(), [request.form.get("day", "")], request.form.get("note", ""))
        except InvalidFields as exc:
            work.rollback()
            errors = zh.field_errors({("day" if k == "days" else k): v for k, v in exc.fields.items()})
        else:
            work.commit()
            flash("工作日历已更新。")
            return redirect(url_for(".closed_days"), 303)
    return render_template("admin/closed_days.html", days=calendars.list_days(work), errors=errors), \
        422 if errors else 200
