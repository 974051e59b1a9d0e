"""`xuncha place import/export`, and `xuncha init` / `xuncha lint` with the places file."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from places_helpers import PLACES_YAML

from engine import admin
from web.cli import main

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows.yaml"


@pytest.fixture
def xuncha(db_url, tmp_path):
    env = {"XUNCHA_DATABASE_URL": db_url, "XUNCHA_WORKFLOWS": str(WORKFLOWS), "XUNCHA_PLACES": str(PLACES_YAML),
           "XUNCHA_INSTANCE": str(tmp_path / "instance")}
    return lambda *args: CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_init_loads_the_places_file_and_import_export_round_trip(xuncha, tmp_path, store):
    assert xuncha("init").exit_code == 0
    with store.uow() as uow:
        admin.create_unit(uow, "FOOD", "饮食服务中心")
        uow.commit()
    source = tmp_path / "places.csv"
    source.write_bytes("编码,名称,类型,上级编码,责任单位\nC1-1F,一层,楼层,C1,\nC1,一食堂,食堂,,FOOD\n".encode("gbk"))
    dry = xuncha("place", "import", str(source), "--dry-run")
    assert dry.exit_code == 0 and "2 would be created" in dry.output
    assert xuncha("place", "import", str(source)).exit_code == 0
    exported = tmp_path / "out.xlsx"
    assert xuncha("place", "export", "--format", "xlsx", "-o", str(exported)).exit_code == 0
    again = xuncha("place", "import", str(exported), "--dry-run")
    assert again.exit_code == 0 and "2 unchanged" in again.output
    assert "C1-1F,一层,,floor,C1,FOOD,是" in xuncha("place", "export").stdout


def test_bad_rows_are_listed_with_row_and_column_and_nothing_is_stored(xuncha, tmp_path):
    assert xuncha("init").exit_code == 0
    source = tmp_path / "bad.csv"
    source.write_text("code,name_zh,kind\nA,甲,区域\nB,,区域\nC,丙,宿舍\n", encoding="utf-8")
    result = xuncha("place", "import", str(source))
    assert result.exit_code == 1
    assert f"{source}:第3行:name_zh: 名称不能为空" in result.output
    assert f"{source}:第4行:kind: 类型“宿舍”未配置" in result.output
    assert "未导入任何场所" in result.output
    assert xuncha("place", "export").stdout.strip() == "\ufeff编码,名称,英文名称,类型,上级编码,责任单位,启用"


def test_lint_checks_a_places_file_with_line_numbers(xuncha, tmp_path):
    bad = tmp_path / "places.yaml"
    bad.write_text(PLACES_YAML.read_text(encoding="utf-8").replace("tier: building", "tier: tower", 1),
                   encoding="utf-8")
    result = xuncha("lint", str(bad))
    assert result.exit_code == 1
    line = next(i for i, x in enumerate(bad.read_text(encoding="utf-8").splitlines(), 1) if "tier: tower" in x)
    assert f"{bad}:{line}: error: places.kinds.canteen.tier" in result.output
