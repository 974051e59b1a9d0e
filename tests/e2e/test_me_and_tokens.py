"""GET /me, and tokens over HTTP: expired or disabled ones get a 401 that says why; last use is recorded."""
from __future__ import annotations

from datetime import datetime, timedelta

from engine import users
from engine.db import utcnow


def test_me_names_the_caller_its_roles_unit_and_token_expiry(as_):
    me = as_("food").get("/me")
    assert me.status_code == 200
    body = me.get_json()
    assert body["name"] == "food" and body["roles"] == ["centre"]
    assert body["unit"] == {"code": "FOOD", "name": {"zh": "饮食服务中心", "en": "Catering Service Centre"}}
    expires = datetime.fromisoformat(body["token_expires_at"])
    assert timedelta(days=179) < expires - utcnow() <= timedelta(days=180)
    assert as_("student").get("/me").get_json()["unit"] is None
    assert as_(None).get("/me").status_code == 401


def test_disabled_and_expired_tokens_are_401_saying_why(as_, campus):
    with campus.store.uow() as uow:
        users.disable_user(uow, "food")
        uow.commit()
    refused = as_("food").get("/findings")
    assert refused.status_code == 401 and "disabled" in refused.get_json()["detail"]
    assert refused.mimetype == "application/problem+json" and "invalid_token" in refused.headers["WWW-Authenticate"]
    with campus.store.uow() as uow:
        users.enable_user(uow, "food")
        token = users.rotate_token(uow, "food", now=utcnow() - timedelta(days=181))
        uow.commit()
    campus.tokens["food"] = token
    expired = as_("food").post("/findings", json={"title": "t", "category": "c", "location": "l", "unit": "FOOD"})
    assert expired.status_code == 401 and "expired" in expired.get_json()["detail"]
    assert "rotate-token food" in expired.get_json()["detail"]


def test_last_use_is_recorded_at_most_once_a_minute(as_, campus):
    with campus.store.uow(write=False) as uow:
        assert users.user_by_name(uow, "inspector").token_used_at is None
    as_("inspector").get("/me")
    first = as_("inspector").get("/me").get_json()["token_used_at"]
    assert first is not None
    assert as_("inspector").get("/me").get_json()["token_used_at"] == first
    with campus.store.uow() as uow:
        users.record_use(uow, campus.actor("inspector").user_id, utcnow() + timedelta(seconds=30))
        uow.commit()
    assert as_("inspector").get("/me").get_json()["token_used_at"] == first  # within the minute: unchanged
