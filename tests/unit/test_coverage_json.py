"""The coverage API writes its rows with orjson: the bytes must be the ones the app's JSON provider writes."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from werkzeug.http import http_date

from engine.coverage import CoverageRow, TargetResult
from web.coverage import _plain_json, coverage_json
from web.encoding import JSONProvider

WEEKLY = TargetResult("每周督查", "department", "week", 1, 52, 51)
DAILY = TargetResult("每日自查 \"早\"\\晚\n", "centre", "day", 2, 365, 365)
ROWS = [
    CoverageRow("H00002", "服务场所2号\t\u2028\x01\x7f", "hall", "PROP", "p0", {"department": 3, "centre": 0},
                datetime(2025, 3, 4, 3, 40, 12, 5, tzinfo=UTC), (WEEKLY, DAILY)),
    CoverageRow("H00003", "🏫 教学楼", "hall", None, "p1", {"department": 0, "centre": 0}, None, (WEEKLY, DAILY)),
    CoverageRow("H00004", "无目标", "hall", "PROP", "p2", {"centre": 1}, None, ()),
]


def provider_bytes(app: Flask, items) -> bytes:
    return app.json.response(items).get_data()


def test_rows_dump_as_the_provider_dumps_their_as_dict():
    app = Flask(__name__)
    app.json = JSONProvider(app)
    with app.app_context():
        answer = _plain_json(coverage_json(ROWS))
        expected = provider_bytes(app, [r.as_dict() for r in ROWS])
    assert answer.mimetype == "application/json"
    assert answer.get_data() == expected
    assert http_date(ROWS[0].last_check_at).encode() in expected


def test_text_utf8_cannot_carry_is_escaped_as_the_provider_does():
    app = Flask(__name__)
    app.json = JSONProvider(app)
    items = [{"name": "bad \ud800 half", "n": 1}]
    with app.app_context():
        assert _plain_json(items).get_data() == provider_bytes(app, items)
