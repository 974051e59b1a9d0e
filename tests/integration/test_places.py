"""The place registry: a tree with tiers, administrators' changes, and import/export that stores all or nothing."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from places_helpers import TREE, build_places, load_places

from engine.errors import InvalidFields, NotAllowed, RowsRejected
from engine.models import Place
from engine.places import registry, sheets, transfer

XLS = Path(__file__).resolve().parents[1] / "data" / "places.xls"


@pytest.fixture
def places(campus):
    build_places(campus)
    return campus


def _import(campus, name, data, dry_run=False):
    with campus.store.uow() as uow:
        report = transfer.import_places(uow, campus.actor("admin"), name, data, dry_run=dry_run)
        uow.commit()
        return report


def _count(campus) -> int:
    with campus.store.uow(write=False) as uow:
        return uow.session.scalar(sa.select(sa.func.count()).select_from(Place))


def _csv(rows, header="编码,名称,类型,上级编码,责任单位") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def test_places_form_a_tree_with_units_inherited_and_tiers_enforced(places):
    with places.store.uow() as uow:
        window = registry.get_place(uow, "C1-W1")
        assert window.unit.code == "FOOD"  # from the canteen above it
        assert window.full_name == "一食堂一层一号窗口"
        with pytest.raises(InvalidFields) as caught:  # a canteen cannot lie inside a floor
            registry.create_place(uow, places.actor("admin"), registry.PlaceInput("BAD", "错层食堂", "canteen",
                                                                                  "D9-3F"))
        assert "parent" in caught.value.fields
        with pytest.raises(NotAllowed):
            registry.create_place(uow, places.actor("food"), registry.PlaceInput("C9", "九食堂", "食堂", "MAIN"))


def test_moving_a_building_moves_its_floors_and_deactivating_keeps_the_rows(places):
    with places.store.uow() as uow:
        registry.create_place(uow, places.actor("admin"), registry.PlaceInput("NORTH", "北区", "area", "MAIN"))
        registry.update_place(uow, places.actor("admin"), "D9", parent="NORTH")
        with pytest.raises(InvalidFields):  # into its own subtree
            registry.update_place(uow, places.actor("admin"), "NORTH", parent="D9-3F-WC")
        assert registry.deactivate_place(uow, places.actor("admin"), "D9") == 6  # the building and below
        uow.commit()
    with places.store.uow(write=False) as uow:
        found = registry.list_places(uow, registry.PlaceFilters(parent="NORTH"))
        assert [p.code for p, _, _ in found][:2] == ["D9", "D9-3F"]
        assert not any(p.active for p, _, _ in found)
        assert registry.get_place(uow, "D9-3F-WC").full_name == "北区学生公寓9号楼3层东侧卫生间"


def test_an_import_of_1000_places_with_3_bad_rows_stores_nothing_and_names_the_rows(places):
    rows = [f"B{i},学生公寓{i}号楼,学生公寓,MAIN,PROP-DORM" for i in range(1000)]
    rows[99] = "B99,学生公寓99号楼,宿舍楼,MAIN,PROP-DORM"  # spreadsheet row 101: unknown kind
    rows[499] = "B499,,学生公寓,MAIN,PROP-DORM"  # row 501: no name
    rows[899] = "B899,学生公寓899号楼,学生公寓,NOWHERE,PROP-DORM"  # row 901: unknown parent
    before = _count(places)
    dry = _import(places, "places.csv", _csv(rows), dry_run=True)
    assert [(p["row"], p["column"]) for p in dry.problems] == [(101, "类型"), (501, "名称"), (901, "上级编码")]
    assert "宿舍楼" in dry.problems[0]["message"] and "未配置" in dry.problems[0]["message"]
    assert dry.problems[1]["message"] == "名称不能为空"
    with pytest.raises(RowsRejected) as caught:
        _import(places, "places.csv", _csv(rows))
    assert [p["row"] for p in caught.value.problems] == [101, 501, 901]
    assert _count(places) == before
    rows[99], rows[499], rows[899] = (r.replace("宿舍楼", "学生公寓").replace(",,", ",学生公寓499号楼,")
                                      .replace("NOWHERE", "MAIN") for r in (rows[99], rows[499], rows[899]))
    report = _import(places, "places.csv", _csv(rows))
    assert (report.created, report.problems) == (1000, [])
    assert _count(places) == before + 1000


def test_gbk_csv_with_parents_defined_later_in_the_file(places):
    data = _csv(["N-1F,一层,楼层,NEWB,", "NEWB,新建学生公寓,学生公寓,MAIN,PROP-DORM"]).decode().encode("gbk")
    report = _import(places, "场所.csv", data)
    assert (report.created, report.problems) == (2, [])
    with places.store.uow(write=False) as uow:
        assert registry.get_place(uow, "N-1F").full_name == "新建学生公寓一层"
        assert registry.get_place(uow, "N-1F").unit.code == "PROP-DORM"


def test_a_cycle_and_a_duplicate_code_are_refused(places):
    data = _csv(["LOOP-A,甲,区域,LOOP-B,", "LOOP-B,乙,区域,LOOP-A,", "LOOP-A,甲二,区域,MAIN,"])
    report = _import(places, "x.csv", data, dry_run=True)
    messages = {(p["row"], p["column"]): p["message"] for p in report.problems}
    assert "与第2行重复" in messages[(4, "编码")]
    assert "循环" in messages[(2, "上级编码")] or "循环" in messages[(3, "上级编码")]


def test_export_then_import_round_trips_as_csv_and_xlsx(places):
    with places.store.uow(write=False) as uow:
        rows = transfer.export_rows(uow)
    for name, data in (("out.csv", sheets.write_csv(rows)), ("out.xlsx", sheets.write_xlsx(rows))):
        report = _import(places, name, data, dry_run=True)
        assert (report.problems, report.unchanged, report.rows) == ([], len(rows), len(rows)), name


def test_an_old_xls_file_imports(places):
    report = _import(places, "places.xls", XLS.read_bytes())
    assert (report.created, report.problems) == (4, [])
    with places.store.uow(write=False) as uow:
        window = registry.get_place(uow, "1001")  # a number in Excel, a code here
        assert window.place.active is False
        assert window.full_name == "二食堂二食堂一层数字编码窗口"


def test_an_unreadable_header_names_the_column(places):
    with pytest.raises(Exception) as caught:
        sheets.read_rows("x.csv", "编码,名字,类型\nA,甲,区域\n".encode())
    assert "名字" in str(caught.value)
    assert sheets.read_rows("x.csv", io.BytesIO("\ufeffcode,name_zh,kind\nA,甲,area\n".encode()).read())[1] == \
        [(2, {"code": "A", "name_zh": "甲", "kind": "area"})]


def test_places_need_the_configuration(campus):
    with campus.store.uow() as uow, pytest.raises(Exception) as caught:
        registry.create_place(uow, campus.actor("admin"), registry.PlaceInput("A", "甲", "area"))
    assert "xuncha init" in str(caught.value)
    load_places(campus.store)


def test_every_change_of_a_place_is_in_the_audit_and_an_edit_outside_it_is_caught(places):
    from audit_helpers import check, owner_sql

    from engine.models import AuditRecord

    with places.store.uow() as uow:
        registry.update_place(uow, places.actor("admin"), "D9", unit="PROP")
        assert registry.deactivate_place(uow, places.actor("admin"), "D3") == 1
        registry.update_place(uow, places.actor("admin"), "C1-2F", active=False)  # and the point below it
        uow.commit()
    _import(places, "places.csv", _csv(["NEWB,新建学生公寓,学生公寓,MAIN,PROP-DORM",
                                        "D3,学生公寓3号楼,学生公寓,MAIN,PROP"]))
    with places.store.uow(write=False) as uow:
        rows = uow.session.execute(sa.select(AuditRecord.event, AuditRecord.subject, AuditRecord.payload)
                                   .where(AuditRecord.chain == "places").order_by(AuditRecord.seq)).all()
        ids = {code: i for code, i in uow.session.execute(sa.select(Place.code, Place.id))}
    subject = {f"places:{i}": code for code, i in ids.items()}
    events = [(event, subject[s]) for event, s, _ in rows]
    assert events == [("create", code) for code, *_ in TREE] + [
        ("update", "D9"), ("deactivate", "D3"), ("update", "C1-2F"), ("deactivate", "C1-2F-T"), ("create", "NEWB"),
        ("update", "D3")]
    assert rows[-1].payload["row"]["unit_id"] is not None and rows[-1].payload["file"] == "places.csv"
    assert check(places.store).ok
    # The registry's owner quietly hands a canteen to another unit: its findings and coverage would follow.
    owner_sql(places.store, f"UPDATE places SET unit_id = NULL WHERE id = {ids['C1']}")
    found = check(places.store)
    assert not found.ok and found.chain == "places" and "unit_id" in found.problem
