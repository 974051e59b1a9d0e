"""A token's user is remembered for a few seconds, but never past a change made in this process."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from engine import accounts, users
from engine.db import utcnow
from engine.models import User


def test_a_disabled_user_is_refused_at_once_though_its_token_was_just_used(as_, campus):
    assert as_("food").get("/findings").status_code == 200  # remembered now
    with campus.store.uow() as uow:
        users.disable_user(uow, "food")
        uow.commit()
    refused = as_("food").get("/findings")
    assert refused.status_code == 401 and "disabled" in refused.get_json()["detail"]


def test_a_rotated_token_is_refused_at_once_and_the_new_one_works(as_, campus):
    assert as_("food").get("/me").status_code == 200
    old = campus.tokens["food"]
    with campus.store.uow() as uow:
        campus.tokens["food"] = users.rotate_token(uow, "food")
        uow.commit()
    assert as_("food").get("/me").status_code == 200
    campus.tokens["food"] = old
    assert as_("food").get("/me").status_code == 401


def test_changed_roles_count_from_the_next_request(as_, campus):
    assert as_("food").get("/audit").status_code == 403  # a centre may not read the audit log
    with campus.store.uow() as uow:
        accounts.update_user(uow, campus.actor("admin"), "food", roles=["auditor"], unit="FOOD", active=True)
        uow.commit()
    assert as_("food").get("/audit").status_code == 200


def test_a_change_this_process_did_not_make_counts_once_the_memory_lapses(as_, campus):
    assert as_("food").get("/me").status_code == 200
    with campus.store.engine.begin() as conn:  # as another process would: the engine's use cases are not told
        conn.execute(sa.update(User).where(User.name == "food").values(active=False))
    assert as_("food").get("/me").status_code == 200  # remembered, for at most PRINCIPAL_TTL seconds
    campus.store.principals.ttl = 0
    assert as_("food").get("/me").status_code == 401


def test_a_remembered_token_still_expires_on_time(as_, campus, monkeypatch):
    assert as_("food").get("/me").status_code == 200
    monkeypatch.setattr("web.auth.utcnow", lambda: utcnow() + timedelta(days=181))
    expired = as_("food").get("/me")
    assert expired.status_code == 401 and "expired" in expired.get_json()["detail"]
