"""Run-time failures that used to lose work or stay silent (issue 15, items 11, 12, 19):

- a mail template that breaks while the daemon runs: the decision is recorded, the answer is kept
  pending and written once the template is fixed (real Dovecot, the real daemon);
- a corrupt Word template of the draft: check-config and `run` refuse it; at the deadline the
  office is told once, `draft` exits 2 with a clear reason;
- a full disk while writing the draft: "ổ đĩa đã đầy" like every other job, no traceback (a real
  tmpfs of 64 KB, mounted in a private mount namespace with `unshare -rm`)."""
from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

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


# -- item 12: a corrupt Word template of the draft ------------------------------------------------

@pytest.fixture
def local_cfg(tmp_path):
    """The example configuration on a local Maildir and an outbox folder (no servers needed)."""
    return make_config(tmp_path, "maildir:../var/maildir")


def test_a_corrupt_draft_template_is_refused_then_told_once_and_draft_exits_2(local_cfg, caplog):
    template = local_cfg.parent / "templates" / "report" / "du-thao-bao-cao.docx"
    good = template.read_bytes()
    template.write_bytes(b"PK\x03\x04" + good[4:2000])  # a cut copy: what a failed upload leaves
    said = "du-thao-bao-cao.docx bị hỏng hoặc không dùng được (không phải tệp Word .docx đọc được)"
    daemon = Daemon(local_cfg, now=AFTER_DEADLINE.isoformat())
    for args, code in ((("check-config",), 2), (("run", "--once"), 2), (("draft", "dan-van"), 2)):
        res = daemon.run(*args, check=False)
        assert res.returncode == code, (args, res.stderr)
        assert said in res.stderr and "Traceback" not in res.stderr, res.stderr
    # At run time (the template was replaced while the service ran): one notice to the office.
    config = load_config(local_cfg)
    store = Store.open(config)
    runner = Runner(config, store, Clock(AFTER_DEADLINE))
    with caplog.at_level(logging.DEBUG, logger="tonghop"):
        for minutes in (0, 1, 2):
            runner.run_jobs(AFTER_DEADLINE + timedelta(minutes=minutes))
    failed = [r for r in outbox(local_cfg) if r[0] == "draft_failed"]
    assert [r[2] for r in failed] == ["draft_failed:dan-van:2024"]
    assert store.last_draft("dan-van", "2024") is None
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "Không viết được dự thảo tổng hợp dan-van kỳ 2024" in errors[0]
    assert not any(r.exc_info for r in caplog.records)
    with sqlite3.connect(local_cfg.parent / "var" / "tonghop.db") as db:
        subject, recipients = db.execute("select subject, recipients from outbox where kind = 'draft_failed'").fetchone()
    assert subject == "Chưa viết được dự thảo báo cáo tổng hợp: " + config.campaign("dan-van").title + " kỳ 2024"
    assert set(config.office.staff) <= set(json.loads(recipients))
    template.write_bytes(good)
    runner.run_jobs(AFTER_DEADLINE + timedelta(minutes=3))
    assert store.last_draft("dan-van", "2024")["version"] == 1
    assert [r[0] for r in outbox(local_cfg)].count("draft") == 1
    store.close()


# -- item 19: the disk fills up while the draft is written ----------------------------------------

FULL_DISK_SCRIPT = """
set -e
mount -t tmpfs -o size=64k tonghop-full "$DRAFTS"
dd if=/dev/zero of="$DRAFTS/fill" bs=4k 2>/dev/null || true
set +e
"$PY" -m daemon.cli --config "$CFG" --now "$NOW" run --once; echo "RUN_EXIT=$?"
"$PY" -m daemon.cli --config "$CFG" --now "$NOW" draft dan-van --out "$DRAFTS/xem-truoc"; echo "DRAFT_EXIT=$?"
"""


def test_a_full_disk_while_writing_the_draft_says_so_in_vietnamese(local_cfg):
    """A real full file system: a 64 KB tmpfs over STORAGE/drafts, filled, in a mount namespace of
    the test's own (`unshare -rm` works as root and as an ordinary user where user namespaces are
    allowed; the ledger and the archive stay on the real disk)."""
    drafts = local_cfg.parent / "var" / "drafts"
    drafts.mkdir(parents=True)
    env = {"DRAFTS": str(drafts), "PY": sys.executable, "CFG": str(local_cfg), "NOW": AFTER_DEADLINE.isoformat(),
           "PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    res = subprocess.run(["unshare", "-rm", "sh", "-c", FULL_DISK_SCRIPT], env=env, capture_output=True,
                         text=True, timeout=300, cwd=local_cfg.parent)
    out = res.stdout + res.stderr
    assert "RUN_EXIT=0" in out and "DRAFT_EXIT=1" in out, out
    assert "Không viết dự thảo tổng hợp được vì không ghi được vào" in out and "ổ đĩa đã đầy" in out, out
    assert "Không ghi được dự thảo vào" in out, out
    assert "Traceback" not in out and "OSError" not in out and "No space left" not in out, out
    # the ledger was not touched by the failure: the draft is still due and written once there is room
    config = load_config(local_cfg)
    store = Store.open(config)
    assert store.last_draft("dan-van", "2024") is None
    Runner(config, store, Clock(AFTER_DEADLINE)).run_jobs(AFTER_DEADLINE)
    assert store.last_draft("dan-van", "2024")["version"] == 1
    store.close()
