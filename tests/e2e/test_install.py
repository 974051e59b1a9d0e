"""Installed as the README says: `pip install .` (not editable) then `xuncha init`; gunicorn per its production line."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from live import call, live_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_pip_install_then_init_works_outside_the_checkout(tmp_path):
    # A fresh virtualenv that gets xuncha itself from a real, non-editable install; its dependencies come from
    # this interpreter's site-packages through a .pth line (listed after the fresh venv's own, and without this
    # interpreter's editable-install hooks, which a .pth line does not run); only the build backend is fetched.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    source = tmp_path / "source"  # a clean copy: no build/ or egg-info left by other installs
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__",
                                                                ".pytest_cache", "instance"))
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", str(source)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(ROOT / "workflows.yaml", elsewhere / "workflows.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_") and k != "PYTHONPATH"}
    init = subprocess.run([env_dir / "bin" / "xuncha", "init"], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=300)
    assert init.returncode == 0, init.stdout + init.stderr
    assert "finding v1 loaded" in init.stdout and (elsewhere / "instance" / "xuncha.db").is_file()
    where = subprocess.run([python, "-c", "import engine, xuncha_migrations; print(engine.__file__)"], cwd=elsewhere,
                           env=env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(purelib), where  # the installed copy ran, not the checkout


@pytest.mark.slow
def test_the_production_command_serves_with_gunicorn(campus, db_url, tmp_path):
    gunicorn = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:{port}", "web:create_app()"]
    with live_server(db_url, tmp_path, command=gunicorn) as base:
        status, health = call(f"{base}/health")
        assert status == 200 and health["database"] == "ok" and health["workflows"][0]["name"] == "finding"
        status, me = call(f"{base}/me", campus.tokens["food"])
        assert status == 200 and me["unit"]["code"] == "FOOD"
