"""Start-up: `tonghop --help` and `status` must not pay for what they never use (issue 17). What a
command imports is checked, not how long it takes (speed is measured in bench/startup.py); and the
cached list of a form's indicators is the form's, never a stale one."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl

from daemon.config_toml import load_config
from service import make_config

ROOT = Path(__file__).resolve().parent.parent
# Libraries a status or --help never needs: the mailbox client, the office-file readers, the
# holiday tables of every country (the form's indicators come from the cache).
HEAVY = ("imapclient", "openpyxl", "docx", "lxml", "pypdf", "holidays.countries")


def imported_by(*args: str) -> set[str]:
    code = ("import sys, runpy\n"
            f"sys.argv = ['tonghop', *{list(args)!r}]\n"
            "try:\n    runpy.run_module('daemon.cli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "sys.stdout.flush()\n"
            "print('\\n@@' + ' '.join(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr
    return set(out.stdout.rsplit("@@", 1)[1].split())


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)}


def test_help_and_status_import_no_reader_no_mail_client(tmp_path):
    cfg = make_config(tmp_path, "maildir:../var/maildir")
    (tmp_path / "var").mkdir()
    assert heavy(imported_by("--help")) == set()
    first = imported_by("--config", str(cfg), "--now", "2024-10-10T09:00", "status")
    assert "openpyxl" in first  # the first command reads the form, and keeps its indicators
    assert list((tmp_path / "var" / "cache").glob("form-*.json"))
    assert heavy(imported_by("--config", str(cfg), "--now", "2024-10-10T09:00", "status")) == set()


def test_cached_indicators_are_those_of_the_form_as_it_is_now(tmp_path):
    cfg = make_config(tmp_path, "maildir:../var/maildir")
    (tmp_path / "var").mkdir()
    form = cfg / "campaigns" / "dan-van-bieu-mau.xlsx"
    fresh = load_config(cfg).campaigns[0].indicators
    assert fresh and load_config(cfg).campaigns[0].indicators == fresh  # from the cache, the same

    # An admin renames an indicator in the form: the next load reads the new name.
    book = openpyxl.load_workbook(form)
    sheet = book.active
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == fresh[0].name)
    cell.value = "Số cuộc tuyên truyền đã tổ chức (đổi tên)"
    book.save(form)
    assert load_config(cfg).campaigns[0].indicators[0].name == "Số cuộc tuyên truyền đã tổ chức (đổi tên)"

    # A damaged cache file is read past, never trusted.
    for stored in (tmp_path / "var" / "cache").glob("form-*.json"):
        stored.write_text("{không phải JSON")
    assert load_config(cfg).campaigns[0].indicators[0].name == "Số cuộc tuyên truyền đã tổ chức (đổi tên)"
    rewritten = [json.loads(p.read_text()) for p in (tmp_path / "var" / "cache").glob("form-*.json")
                 if p.read_text().startswith("[")]
    assert rewritten


def test_no_storage_folder_is_created_by_reading_the_config(tmp_path):
    cfg = make_config(tmp_path, "maildir:../var/maildir")
    assert load_config(cfg).campaigns[0].indicators
    assert not (tmp_path / "var").exists()  # check-config on a new machine writes nothing
