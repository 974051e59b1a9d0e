"""Briefing and ledger benchmark: a briefing of 1,511 findings with a photo each (the seed's eighteen months),
the Excel ledger of 10^5 vs 10^4 findings and the audit log as Excel, 10^5 vs 10^4 rows (time and the worker's
peak RSS, whose ratio should stay near 1).

    python bench/briefing.py [--pdf] [--ledger-only] [--no-audit] [--db URL]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

SH = ZoneInfo("Asia/Shanghai")


def setup(url: str, instance: Path, n: int, photos: bool):
    import sqlalchemy as sa
    from briefing_helpers import png
    from shipped_workflows import QUIET_WORKFLOWS, WORKFLOWS_YAML

    from engine import admin, attachments
    from engine.actors import actor_for
    from engine.migrations import upgrade
    from engine.models import Attachment, Finding, User
    from engine.services import Report, report_finding
    from engine.unit_of_work import Store

    upgrade(url)
    store = Store(url, instance=instance)
    with store.uow() as uow:
        admin.load_workflows(uow, QUIET_WORKFLOWS, file=str(WORKFLOWS_YAML), by="bench")
        for code, name, parent in (("GAD", "总务部", None), ("PROP", "物业服务中心", "GAD"),
                                   ("FOOD", "饮食服务中心", "GAD"), ("ENERGY", "能源服务中心", "GAD")):
            admin.create_unit(uow, code, name, parent=parent)
        admin.create_user(uow, "inspector", ["inspector"])
        admin.create_user(uow, "admin", ["admin"])
        uow.commit()
    with store.uow() as uow:
        actor = actor_for(uow.session, uow.session.scalars(sa.select(User).where(User.name == "inspector")).one())
        start = datetime(2025, 1, 1, 9, 0, tzinfo=SH)
        root = attachments.storage_dir(uow)
        for i in range(n):
            at = start + timedelta(minutes=(i * 547 * 24 * 60) // max(n, 1))
            f = report_finding(uow, actor, Report(
                title=f"问题{i}：地面湿滑未设警示", category=("卫生", "安全", "设施")[i % 3],
                location=f"一食堂{i % 40}号窗口", unit=("PROP", "FOOD", "ENERGY")[i % 3]), now=at)
            if photos:
                data = png(i, 48)
                import hashlib
                sha = hashlib.sha256(data).hexdigest()
                path = attachments.path_for(root, sha)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                uow.session.add(Attachment(finding_id=f.id, name=f"{i}.png", content_type="image/png",
                                           size=len(data), sha256=sha, uploaded_by="inspector", created_at=at))
            if i % 5000 == 4999:
                uow.session.flush()
                uow.session.expunge_all()
        uow.commit()
        assert uow.session is not None and Finding is not None
    return store


def briefing(args) -> None:
    from engine.briefings import pdf, service
    from engine.briefings.build import Scope
    from engine.briefings.docx import render_docx

    with tempfile.TemporaryDirectory() as work:
        store = setup(args.db or f"sqlite:///{work}/b.db", Path(work) / "instance", 1511, True)
        from engine.actors import Actor
        actor = Actor("admin", ("admin",))
        t0 = time.perf_counter()
        with store.uow() as uow:
            row = service.draft(uow, actor, Scope(date(2025, 1, 1), date(2026, 12, 31)))
            content = service.content(uow, actor, row.id)
        t1 = time.perf_counter()
        with store.uow() as uow:
            data = render_docx(content, service.photo_finder(uow))
        t2 = time.perf_counter()
        print(f"briefing of {len(content['finding_ids'])} findings with a photo each: content {t1 - t0:.1f} s, "
              f"docx {t2 - t1:.1f} s ({len(data) / 1e6:.1f} MB), total {t2 - t0:.1f} s (target < 30 s)")
        if args.pdf and pdf.converter():
            t3 = time.perf_counter()
            out = pdf.docx_to_pdf(data)
            Path(work, "b.pdf").write_bytes(out)
            pages = subprocess.run(["pdfinfo", str(Path(work, "b.pdf"))], capture_output=True, text=True).stdout
            count = next((line.split()[-1] for line in pages.splitlines() if line.startswith("Pages")), "?")
            print(f"pdf: {time.perf_counter() - t3:.1f} s, {count} pages")
        store.dispose()


def bulk(store, n: int) -> None:
    """n more findings written straight to the table (the ledger reads findings; their history is not needed)."""
    from engine.models import Finding

    start = datetime(2025, 1, 1, 9, 0, tzinfo=SH)
    with store.uow() as uow:
        units = [uid for (uid,) in uow.session.execute(sa_text("SELECT id FROM units WHERE parent_id IS NOT NULL"))]
        for lo in range(0, n, 5000):
            uow.session.execute(Finding.__table__.insert(), [dict(
                title=f"问题{i}：地面湿滑未设警示", description="午餐高峰后地面积水，未设置警示标识", category="卫生",
                location=f"一食堂{i % 40}号窗口", unit_id=units[i % len(units)], source="department", severity="normal",
                workflow_name="finding", workflow_version=1, state="rectifying", version=1,
                state_entered_at=start, created_at=start + timedelta(minutes=i), updated_at=start,
                due_at=start + timedelta(days=7), failed_verifications=0, reopenings=0, overdue_count=0, repeat_count=0,
                audit_seq=0, audit_head="0" * 64) for i in range(lo, min(n, lo + 5000))])
        uow.commit()


def sa_text(sql: str):
    import sqlalchemy as sa

    return sa.text(sql)


def bulk_audit(store, n: int) -> None:
    """n audit rows on n // 10 findings, written straight to the table (the export reads them, checks nothing)."""
    from engine.models import AuditEntry

    bulk(store, max(1, n // 10))
    start = datetime(2025, 1, 1, 9, 0, tzinfo=SH)
    with store.uow() as uow:
        ids = [fid for (fid,) in uow.session.execute(sa_text("SELECT id FROM findings ORDER BY id"))]
        for lo in range(0, n, 10_000):
            uow.session.execute(AuditEntry.__table__.insert(), [dict(
                finding_id=ids[i % len(ids)], seq=i // len(ids) + 1, event="respond", from_state="assigned",
                to_state="responded", actor="food", role="centre", at=start + timedelta(seconds=i),
                payload={"plan": "立即整改，更换防滑地垫"}, comment=None, workflow_name="finding", workflow_version=1,
                prev_hash="0" * 64, hash=f"{i:064x}") for i in range(lo, min(n, lo + 10_000))])
        uow.commit()


def reset_peak() -> int:
    """The RSS now (KiB), after resetting the peak where Linux allows it (so the peak read next is the export's
    alone, not that of loading the app); elsewhere the lifetime peak so far."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _status("VmRSS")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss() -> int:
    try:
        return _status("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _status(field: str) -> int:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(field + ":"))
    return int(line.split()[1])


def fill_child(n: int, db: str | None, what: str, work: str) -> None:
    """The first process: n findings (or audit rows) and a reader's token, left in `work` for the export."""
    from engine import admin

    store = setup(db or f"sqlite:///{work}/l.db", Path(work) / "instance", 0, False)
    (bulk_audit if what == "audit" else bulk)(store, n)
    with store.uow() as uow:
        _, token = admin.create_user(uow, "reader", ["admin"])
        uow.commit()
    Path(work, "token").write_text(token)
    store.dispose()


def ledger_child(n: int, db: str | None, what: str, work: str) -> None:
    """The worker: a fresh process that only exports (its peak RSS is the export's, not the data loading's)
    through the HTTP app; prints time, size and RSS."""
    from engine.unit_of_work import Store
    from web import create_app

    store = Store(db or f"sqlite:///{work}/l.db", instance=Path(work) / "instance")
    app = create_app({"STORE": store, "TESTING": True})
    token = Path(work, "token").read_text()
    url = "/api/v1/audit?format=xlsx" if what == "audit" else "/api/v1/findings?format=xlsx"
    # a page of JSON first: the app, its imports and the first query are loaded before the peak is read
    app.test_client().get(url.replace("format=xlsx", "per_page=1"), headers={"Authorization": f"Bearer {token}"})
    before = reset_peak()
    t0 = time.perf_counter()
    answer = app.test_client().get(url, headers={"Authorization": f"Bearer {token}"}, buffered=False)
    size = sum(len(chunk) for chunk in answer.response)
    elapsed = time.perf_counter() - t0
    peak = peak_rss()
    print(f"{n} {elapsed:.2f} {size} {before} {peak}")
    store.dispose()


def ledger(args, what: str = "ledger", sizes=(10_000, 100_000)) -> None:
    results = {}
    for n in sizes:
        extra = ["--db", args.db] if args.db else []
        with tempfile.TemporaryDirectory() as work:
            for phase in ("--fill", "--export"):
                out = subprocess.run([sys.executable, __file__, phase, what, str(n), work, *extra],
                                     capture_output=True, text=True, check=True).stdout.split()
        results[n] = (float(out[1]), int(out[2]), int(out[3]), int(out[4]))
        rows = "findings" if what == "ledger" else "audit rows"
        print(f"{what} of {n} {rows}: {out[1]} s, {int(out[2]) / 1e6:.1f} MB, peak RSS {int(out[4]) / 1024:.0f} MiB "
              f"(before the export {int(out[3]) / 1024:.0f} MiB)")
    small, large = sizes
    print(f"{what}: peak RSS ratio {large:,} / {small:,} rows: {results[large][3] / results[small][3]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pdf", action="store_true")
    parser.add_argument("--ledger-only", action="store_true")
    parser.add_argument("--fill", nargs=3, metavar=("WHAT", "N", "DIR"), help="internal: the data, in DIR")
    parser.add_argument("--export", nargs=3, metavar=("WHAT", "N", "DIR"), help="internal: the export alone")
    parser.add_argument("--no-audit", action="store_true")
    parser.add_argument("--db", default=None)
    options = parser.parse_args()
    os.environ.setdefault("XUNCHA_SKIP_PG", "1")
    if options.fill:
        fill_child(int(options.fill[1]), options.db, options.fill[0], options.fill[2])
    elif options.export:
        ledger_child(int(options.export[1]), options.db, options.export[0], options.export[2])
    else:
        if not options.ledger_only:
            briefing(options)
        ledger(options)
        if not options.no_audit:
            ledger(options, "audit", (10_000, 100_000))
