"""The package list in setup.cfg is explicit (the migrations install under another name): it must name every
package of the source tree, or a non-editable install lacks modules the editable one has."""
from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_setup_cfg_lists_every_package_of_the_source_tree():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    listed = {line.strip() for line in config["options"]["packages"].splitlines() if line.strip()}
    found = {".".join(init.parent.relative_to(ROOT).parts)
             for top in ("engine", "web", "workflows") for init in (ROOT / top).rglob("__init__.py")}
    assert found - listed == set(), "packages missing from setup.cfg"
