"""Run-time failures that used to lose work or stay silent (issue 15, items 11, 12, 19):

- a mail template that breaks while the daemon runs: the decision is recorded, the answer is kept
  pending and written once the template is fixed (real Dovecot, the real daemon);
- a corrupt Word template of the draft: check-config and `run` refuse it; at the deadline the
  office is told once, `draft` exits 2 with a clear reason;
- a full disk while writing the draft: "ổ đĩa đã đầy" like every other job, no traceback (a real
  tmpfs of 64 KB, mounted in a private mount namespace with `unshare -rm`)."""
from __future__ import annotations

import logging
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

import corpus
from daemon.clock import Clock
from daemon.config_toml import load_config
from daemon.runner import Runner
from daemon.store import Store
from service import PASSWORD_ENV, Daemon, make_config, wait_until
from tonghop_demo import samples

ARRIVED = datetime(2024, 10, 15, 8, 30, tzinfo=timezone(timedelta(hours=7)))
AFTER_DEADLINE = datetime(2024, 10, 25, 9, 0, tzinfo=timezone(timedelta(hours=7)))


def report_mail(config, unit_id: str) -> bytes:
    unit = config.unit(unit_id)
    data = samples.report_docx(samples.sample_unit(unit), 2024, kind="BC")
    return corpus.submission(unit.emails[0], f"{unit.name} gửi báo cáo công tác dân vận",
                             [("Bao cao dan van 2024.docx", data)])


def outbox(cfg) -> list[tuple]:
    with sqlite3.connect(cfg.parent / "var" / "tonghop.db") as db:
        return db.execute("select kind, message, key from outbox order by id").fetchall()


# -- item 11: a template broken at run time ---------------------------------------------------------

def test_an_answer_a_broken_template_kept_from_writing_is_written_once_fixed(tmp_path, imap_account, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, imap_account.password)
    cfg = make_config(tmp_path, imap_account.url(), poll_seconds="2", timeout_seconds="5")
    daemon = Daemon(cfg, imap_account.password)
    ack = cfg.parent / "templates" / "email" / "ack.txt"
    good = ack.read_bytes()
    broken = good.replace(b"{{ unit }}", b"{{ don_vi }}", 1)
    assert broken != good
    # `run` refuses to start with a template check-config rejects.
    ack.write_bytes(broken)
    res = daemon.run("run", "--once", check=False)
    assert res.returncode == 2, res.stderr
    assert "ack.txt: dùng biến không có: 'don_vi' is undefined" in res.stderr
    ack.write_bytes(good)
    config = load_config(cfg)
    try:
        daemon.start()
        wait_until(lambda: "Đang theo dõi hộp thư" in daemon.log_text(), what="daemon start")
        ack.write_bytes(broken)  # an admin's edit while it runs (Jinja reloads a changed file)
        imap_account.append(report_mail(config, "xa-my-hoa"), ARRIVED)
        wait_until(lambda: len(imap_account.list_uids("Đã xử lý")) == 1, timeout=60, what="recorded")
        rows = daemon.messages()
        assert [r["status"] for r in rows] == ["recorded"]
        msg_id = rows[0]["id"]
        wait_until(lambda: "chưa viết được thư trả lời vì mẫu thư bị lỗi" in daemon.log_text(), what="log")
        time.sleep(4.5)  # passes go by with the template still broken: nothing is queued, nothing lost
        assert [k for k, m, _ in outbox(cfg) if m == msg_id] == []
        ack.write_bytes(good)
        wait_until(lambda: ("ack", msg_id, f"ack:{msg_id}") in outbox(cfg), timeout=30, what="ack after the fix")
        assert f"Thư {msg_id}: đã viết thư trả lời còn chờ" in daemon.log_text()
        time.sleep(3)
        assert [k for k, m, _ in outbox(cfg) if m == msg_id] == ["ack"]  # once
    finally:
        daemon.stop()
    assert "could not write the answer" not in daemon.log_text() and "Traceback" not in daemon.log_text()
    store = Store.open(config)
    assert store.pending_answers() == []
    store.close()
