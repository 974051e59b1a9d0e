"""`after`: keyset pages of the findings list under any sort but due_at, ties and filters included."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from engine import services
from engine.models import SEVERITIES, Finding, Unit

FOOD_TITLE = "二食堂售饭窗口排队拥挤"


@pytest.fixture
def made(campus):
    """17 findings, their report times in three runs of equal times (ties the id must break), mixed units,
    severities and titles; returns the rows as (id, created_at, severity, state, unit code, title)."""
    base = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    with campus.store.uow() as uow:
        for i in range(17):
            services.report_finding(uow, campus.actor("inspector"), services.Report(
                title=FOOD_TITLE if i % 2 else "图书馆照明灯不亮", category="卫生", location=f"楼{i}号",
                unit=("FOOD", "PROP")[i % 3 == 0], severity=SEVERITIES[i % 4]),
                now=base + timedelta(minutes=i // 6))  # 6, 6 and 5 share a time
        uow.commit()
    with campus.store.uow(write=False) as uow:
        rows = uow.session.execute(sa.select(Finding, Unit.code).join(Unit, Unit.id == Finding.unit_id)).all()
        return [(f.id, f.created_at, SEVERITIES.index(f.severity), f.state, code, f.title) for f, code in rows]


def walk(caller, query: str) -> tuple[list[int], int]:
    """Follow `next` from the first page of `query`; (ids in the order listed, pages read)."""
    seen, url, pages = [], f"/findings?per_page=4&{query}", 0
    while url:
        response = caller.get(url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        seen.extend(f["id"] for f in body["items"])
        assert (body["after"] is None) == (body["next"] is None)
        url = body["next"] and body["next"].removeprefix("/api/v1")
        pages += 1
        if url:
            assert "after=" in url and "&page=" not in url and "cursor=" not in url
    return seen, pages


def first_after(caller, query: str) -> str:
    return caller.get(f"/findings?per_page=4&{query}").get_json()["after"]


KEYS = {"id": 0, "created_at": 1, "severity": 2, "state": 3}


@pytest.mark.parametrize("sort", ["-created_at", "created_at", "-severity", "severity", "state", "-id", "id"])
@pytest.mark.parametrize("unit", [None, "FOOD"])
def test_after_pages_list_each_finding_once_in_sort_order(as_, made, sort, unit):
    key, descending = sort.lstrip("-"), sort.startswith("-")
    rows = [r for r in made if unit is None or r[4] == unit]
    expected = [r[0] for r in sorted(rows, key=lambda r: (r[KEYS[key]], r[0]), reverse=descending)]
    query = f"sort={sort}" + (f"&unit={unit}" if unit else "")
    caller = as_("leader")
    start = first_after(caller, query)
    seen, pages = walk(caller, f"{query}&after={start}")
    first_page = [f["id"] for f in caller.get(f"/findings?per_page=4&{query}").get_json()["items"]]
    assert first_page + seen == expected
    assert pages == -(-(len(expected) - 4) // 4)


def test_after_with_a_text_search_and_a_state(as_, made):
    caller = as_("leader")
    expected = sorted((r[0] for r in made if r[5] == FOOD_TITLE), reverse=True)
    first = caller.get("/findings?per_page=4&sort=-created_at&q=售饭窗口&state=reported").get_json()
    seen, _ = walk(caller, f"sort=-created_at&q=售饭窗口&state=reported&after={first['after']}")
    # equal times are listed newest id first, like the rest of the -created_at order
    by_time = [r[0] for r in sorted((r for r in made if r[5] == FOOD_TITLE), key=lambda r: (r[1], r[0]),
                                    reverse=True)]
    assert [f["id"] for f in first["items"]] + seen == by_time and set(by_time) == set(expected)


def test_a_finding_reported_meanwhile_neither_repeats_nor_hides_one(as_, made):
    caller = as_("leader")
    first = caller.get("/findings?per_page=4&sort=-created_at").get_json()
    as_("inspector").post("/findings", json={"title": "新问题", "category": "卫生", "location": "新楼",
                                               "unit": "FOOD"})
    seen, _ = walk(caller, f"sort=-created_at&after={first['after']}")
    listed = [f["id"] for f in first["items"]] + seen
    assert len(listed) == len(set(listed)) == len(made)


@pytest.mark.parametrize("query", ["sort=due_at&after={a}", "sort=-created_at&after=not-a-cursor",
                                   "sort=created_at&after={a}", "sort=-created_at&page=2&after={a}"])
def test_a_cursor_that_does_not_fit_is_refused_naming_after(as_, made, query):
    caller = as_("leader")
    a = first_after(caller, "sort=-created_at")
    response = caller.get("/findings?" + query.format(a=a))
    assert response.status_code == 422
    assert "after" in str(response.get_json())


def test_numbered_and_cursor_pages_still_answer_as_before(as_, made):
    caller = as_("leader")
    body = caller.get("/findings?per_page=4&sort=-created_at").get_json()
    assert "page=2" in body["next"] and body["after"]
    body = caller.get("/findings?per_page=4").get_json()
    assert "cursor=" in body["next"]
