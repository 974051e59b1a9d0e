"""通知: reminders and overdue notices for the units in reach, and the messages sent about what a person may
see with their delivery state; administrators read the whole outbox and send a failed message again."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from engine import policy, timers
from engine.errors import InvalidInput
from engine.notify import history
from engine.notify.models import STATUSES
from web.context import uow
from web.pages.common import current_actor, page_blueprint

bp = page_blueprint("notifications_page", __name__)
SHOWN = 100
STATUS_ZH = {"pending": "待发送", "sent": "已发送", "dead": "发送失败", "folded": "并入每日待办"}
KIND_ZH = {"assigned": "交办", "reminder": "到期提醒", "overdue": "超期", "escalated": "督办升级",
           "verified": "复查结果", "sanction": "追责处理", "commendation": "表扬", "receipt": "回执",
           "digest": "每日待办", "briefing": "巡查简报"}
OUTCOME_ZH = {"sent": "成功", "failed": "失败"}


def is_admin() -> bool:
    return any(role in history.OUTBOX_READERS for role in current_actor().roles)


@bp.route("/notifications")
def index():
    work, actor = uow(), current_actor()
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    mine = request.args.get("mine") == "1"
    before = request.args.get("before", type=int)
    admin = is_admin()
    if admin and not mine:
        told = history.list_outbox(work, actor, status, limit=SHOWN, before_id=before)
    else:
        told = history.list_visible(work, actor, status, mine=mine, limit=SHOWN, before_id=before)
    notices = timers.list_notifications(work, actor, limit=20) \
        if policy.visible_units(work, actor) != frozenset() and before is None else []
    return render_template("notifications/index.html", told=told, notices=notices, status=status, mine=mine,
                           admin=admin, statuses=STATUS_ZH, kinds=KIND_ZH, outcomes=OUTCOME_ZH,
                           older=told[-1].message.id if len(told) == SHOWN else None)


@bp.route("/notifications/<int(max=2147483647):outbox_id>/retry", methods=["POST"])
def retry(outbox_id: int):
    """A failed message gets a fresh set of attempts (administrators; the same call as the API's retry)."""
    try:
        history.retry(uow(), current_actor(), outbox_id)
    except InvalidInput:
        uow().rollback()
        flash(f"消息 #{outbox_id} 已发送成功，不再重发。")
        return redirect(url_for(".index", status="dead"), 303)
    uow().commit()
    flash(f"消息 #{outbox_id} 已重新排队，稍后由发送程序投递。")
    return redirect(url_for(".index", status="dead"), 303)
