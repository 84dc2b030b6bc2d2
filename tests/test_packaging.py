"""The wheel an admin installs: built from this checkout, installed (not editable) into a fresh
venv, it carries config/ and templates/, and `tonghop init`, `check-config` and `demo` work from it
in an empty folder. Also `--version`, `python -m daemon` and the config folder lookup."""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from argparse import Namespace
from pathlib import Path

import pytest

from daemon import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "-w", str(out), str(ROOT)], check=True, timeout=300, capture_output=True)
    (found,) = out.glob("tonghop-*.whl")
    return found


def test_wheel_carries_every_config_and_template_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("config", "templates"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                rel = path.relative_to(ROOT).as_posix()
                assert f"daemon/skeleton/{rel}" in names, f"{rel} is not in the wheel (pyproject.toml packages)"
    assert any(n.endswith("licenses/LICENSE") for n in names)


def test_installed_wheel_inits_checks_and_runs_the_demo(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--no-index", str(wheel)], check=True, timeout=120)
    # The dependencies come from the suite's own venv, appended after the new venv's site-packages
    # (a plain path line: that folder's .pth files, the editable checkout among them, are not read).
    ours = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(ours, "deps-from-test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    office = tmp_path / "office"
    office.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("TONGHOP_CONFIG", "PYTHONPATH")}

    def run(*args):
        return subprocess.run([str(venv / "bin" / "tonghop"), *args], cwd=office, env=env,
                              capture_output=True, text=True, timeout=600)

    where = subprocess.run([str(py), "-c", "import daemon; print(daemon.__file__)"], cwd=office, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(venv)), where  # the wheel's code, not this checkout
    assert run("--version").stdout.strip() == "tonghop 0.1.0"
    made = run("init", "van-phong")
    assert made.returncode == 0 and "Đã tạo cấu hình mẫu" in made.stdout, made.stderr
    checked = run("--config", "van-phong", "check-config")  # the folder init made: its config/ inside
    assert checked.returncode == 0 and "Cấu hình hợp lệ" in checked.stdout, checked.stdout + checked.stderr
    again = run("init", "van-phong")
    assert again.returncode == 2 and "không ghi đè" in again.stderr
    # The first days of the demo's cycle (the whole story is test_demo's): mail read, recorded, answered.
    demo = run("--now", "2024-10-08T17:00", "demo", "--dir", "thu")
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "Traceback" not in demo.stderr and "ghi nhận" in demo.stdout, demo.stdout[-2000:]
    assert (office / "thu" / "var" / "tonghop.db").is_file()


def test_python_m_daemon_is_the_cli():
    out = subprocess.run([sys.executable, "-m", "daemon", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("tonghop ")


def test_config_folder_lookup(tmp_path, monkeypatch):
    monkeypatch.delenv("TONGHOP_CONFIG", raising=False)
    system = tmp_path / "etc-tonghop"
    assert cli.config_dir(Namespace(config=None), system) == Path("config")  # no /etc/tonghop here
    system.mkdir()
    (system / "settings.toml").write_text("", encoding="utf-8")
    assert cli.config_dir(Namespace(config=None), system) == system
    monkeypatch.setenv("TONGHOP_CONFIG", "/srv/x")
    assert cli.config_dir(Namespace(config=None), system) == Path("/srv/x")
    assert cli.config_dir(Namespace(config="mine"), system) == Path("mine")
    (tmp_path / "office" / "config").mkdir(parents=True)
    (tmp_path / "office" / "config" / "settings.toml").write_text("", encoding="utf-8")
    assert cli.config_dir(Namespace(config=str(tmp_path / "office")), system) == tmp_path / "office" / "config"


def test_no_config_found_says_where_it_looked(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TONGHOP_CONFIG"}
    out = subprocess.run([sys.executable, "-m", "daemon", "status"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "TONGHOP_CONFIG" in out.stderr and "tonghop init" in out.stderr
    assert not (tmp_path / "var").exists()  # nothing created where it was run
