"""A small registered campus for the place, round and coverage tests: the shipped places file and a tree."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.places import registry
from engine.places.config import load_config

PLACES_YAML = Path(__file__).resolve().parents[1] / "places.yaml"
SH = ZoneInfo("Asia/Shanghai")
# code, name, kind, parent, unit
TREE = [
    ("MAIN", "主校区", "campus", None, "GAD"),
    ("C1", "一食堂", "canteen", "MAIN", "FOOD"),
    ("C1-1F", "一层", "floor", "C1", None),
    ("C1-W1", "一号窗口", "window", "C1-1F", None),
    ("C1-W2", "二号窗口", "window", "C1-1F", None),
    ("C1-2F", "二层", "floor", "C1", None),
    ("C1-2F-T", "二层餐桌区", "point", "C1-2F", None),
    ("D9", "学生公寓9号楼", "dormitory", "MAIN", "PROP-DORM"),
    ("D9-3F", "3层", "floor", "D9", None),
    ("D9-3F-WC", "东侧卫生间", "room", "D9-3F", None),
    ("D9-3F-301", "301室", "room", "D9-3F", None),
    ("D9-4F", "4层", "floor", "D9", None),
    ("D9-4F-WC", "东侧卫生间", "room", "D9-4F", None),
    ("D3", "学生公寓3号楼", "dormitory", "MAIN", "PROP-DORM"),
    ("EAST", "东门广场", "outdoor", "MAIN", "PROP"),
    ("EAST-LAMP", "东门广场路灯", "point", "EAST", None),
]


def load_places(store) -> None:
    with store.uow() as uow:
        load_config(uow, PLACES_YAML.read_text(encoding="utf-8"), file=str(PLACES_YAML), by="setup")
        uow.commit()


def build_places(campus) -> None:
    """The shipped places file and TREE, added by the campus's administrator."""
    load_places(campus.store)
    with campus.store.uow() as uow:
        for code, name, kind, parent, unit in TREE:
            registry.create_place(uow, campus.actor("admin"), registry.PlaceInput(code, name, kind, parent, unit))
        uow.commit()


def at(day: str, hm: str) -> datetime:
    """A campus time: at("2026-03-03", "17:30")."""
    return datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=SH)
