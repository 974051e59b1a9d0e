"""Administration: units form a tree, users get a token shown once, and reach follows the tree."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine import admin
from engine.actors import actor_for
from engine.errors import InvalidFields, NotFound
from engine.models import Unit, User


def test_units_form_a_tree_and_reach_goes_down_only(campus):
    with campus.store.uow(write=False) as uow:
        codes = dict(uow.session.execute(sa.select(Unit.id, Unit.code)).all())
        dorm = admin.unit_by_code(uow, "PROP-DORM")
        assert (dorm.name, dorm.parent.code, dorm.parent.parent.code) == ("物业服务中心宿管科", "PROP", "GAD")
    reach = {name: {codes[i] for i in campus.actor(name).reach} for name in ("prop", "dorm", "food", "inspector")}
    assert reach == {"prop": {"PROP", "PROP-DORM"}, "dorm": {"PROP-DORM"}, "food": {"FOOD"}, "inspector": set()}


@pytest.mark.parametrize("code, name, parent, field", [
    ("", "空", None, "code"),
    ("X" * 65, "长", None, "code"),
    ("NEW", "  ", None, "name"),
    ("GAD", "重复", None, "code"),
    ("NEW", "新单位", "MOON", "parent"),
])
def test_create_unit_refuses_bad_input(campus, code, name, parent, field):
    with campus.store.uow() as uow:
        with pytest.raises(InvalidFields) as caught:
            admin.create_unit(uow, code, name, parent=parent)
        assert list(caught.value.fields) == [field]
    with campus.store.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 5


def test_unit_by_code_not_found(store):
    with store.uow(write=False) as uow, pytest.raises(NotFound) as caught:
        admin.unit_by_code(uow, "NOWHERE")
    assert caught.value.key == "NOWHERE"


def test_token_is_shown_once_and_only_its_hash_is_kept(campus):
    token = campus.tokens["food"]
    assert token.startswith(admin.TOKEN_PREFIX) and len(token) > 40
    assert len(set(campus.tokens.values())) == len(campus.tokens)
    with campus.store.uow(write=False) as uow:
        stored = uow.session.scalar(sa.select(User.token_hash).where(User.name == "food"))
        assert stored == admin.hash_token(token) and token not in stored
        user = admin.user_by_token(uow, token)
        assert user.name == "food" and actor_for(uow.session, user) == campus.actor("food")


@pytest.mark.parametrize("token", ["", "xc_", "not-a-token", "xc_" + "A" * 43])
def test_unknown_tokens_find_nobody(campus, token):
    with campus.store.uow(write=False) as uow:
        assert admin.user_by_token(uow, token) is None


def test_inactive_user_token_stops_working(campus):
    with campus.store.uow() as uow:
        uow.session.execute(sa.update(User).where(User.name == "student").values(active=False))
        uow.commit()
    with campus.store.uow(write=False) as uow:
        assert admin.user_by_token(uow, campus.tokens["student"]) is None
        assert admin.user_by_token(uow, campus.tokens["food"]) is not None


@pytest.mark.parametrize("name, roles, unit, field", [
    ("", ["inspector"], None, "name"),
    ("n" * 101, ["inspector"], None, "name"),
    ("new", [], None, "role"),
    ("new", ["inspector", "janitor"], None, "role"),
    ("food", ["centre"], "FOOD", "name"),
    ("new", ["centre"], "MOON", "unit"),
])
def test_create_user_refuses_bad_input(campus, name, roles, unit, field):
    with campus.store.uow() as uow:
        with pytest.raises(InvalidFields) as caught:
            admin.create_user(uow, name, roles, unit=unit)
        assert list(caught.value.fields) == [field]
    with campus.store.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(User)) == 8


def test_unknown_role_message_lists_the_known_ones(store):
    with store.uow() as uow, pytest.raises(InvalidFields) as caught:
        admin.create_user(uow, "x", ["janitor"])
    message = caught.value.fields["role"]
    assert "janitor" in message and "inspector" in message and "centre" in message


def test_known_roles_come_from_active_workflows(store):
    with store.uow(write=False) as uow:
        assert admin.known_roles(uow) == {"inspector", "centre", "leader", "admin", "auditor", "public", "system"}


def test_created_user_keeps_chinese_display_name_and_roles(campus):
    with campus.store.uow() as uow:
        user, token = admin.create_user(uow, "wang", ["inspector", "leader"], display_name="王主任")
        uow.commit()
    with campus.store.uow(write=False) as uow:
        found = admin.user_by_token(uow, token)
        assert (found.display_name, found.roles, found.unit_id) == ("王主任", ["inspector", "leader"], None)
