"""Crashes and faults against real servers: kill -9 at random moments and failpoints while a
backlog is processed and mail is sent; Dovecot restarted mid-IDLE; the disk full while archiving;
a read-only ledger. Each run ends by comparing the ledger, the folders and what the SMTP server
received with the truth (tests/crash_harness.py; scripts/crash_soak.py runs it for longer).

The SMTP server down for a while is tests/test_cycle.py's
test_mail_queued_while_the_smtp_server_is_down_arrives_once_it_is_back, and a kill inside the
delivery window its test_a_kill_between_delivery_and_bookkeeping_sends_that_one_mail_at_most_twice.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import corpus
import crash_harness as H
from service import Daemon, make_config, wait_until

# The first rounds of the CI run: every failpoint with a small count, in an order where each is
# reached whatever the timing (each failpoint round handles a few messages; the after-deliver ones
# come once the inbox is done and mail is left to send); then kills at random moments until done.
PLAN = [("after-claim:3", 15), ("after-record:4", 15), ("after-archive:3", 15), ("before-batch-move:1", 15),
        ("after-move:5", 15),
        ("after-deliver:2", 15), ("after-deliver:6", 15), ("", 0.4), ("", 1.0), ("", 0.3)]
REACHED = 7  # the failpoint rounds above


def test_kill_9_at_random_moments_loses_nothing_and_doubles_nothing(tmp_path, imap_account, smtp_sink):
    soak = H.Soak(imap_account, smtp_sink, tmp_path, messages=40, seed=int(os.environ.get("TONGHOP_CRASH_SEED", "7")))
    report = soak.run(PLAN, max_kills=14)
    print("\n" + H.describe(report))
    assert report.problems == []
    # every failpoint of the plan reached, in its order; a random round after the plan may reach
    # one too (after-deliver with mail still to send), depending on how far the timed kills got
    assert [c.how for c in report.crashes[:REACHED]] == [f"failpoint {p}" for p, _ in PLAN if p]
    assert all(c.exit_code == -signal.SIGKILL for c in report.crashes)
    # The two after-deliver failpoints are reached with mail still to send: each one is a kill
    # inside the window, each costs exactly one extra copy of one mail, with the same Message-ID.
    assert report.window_crashes >= 2 and len(report.duplicates) == report.window_crashes
    assert set(report.duplicates.values()) == {2}
    assert report.statuses["recorded"] >= 20 and report.outgoing >= 50


def test_kill_9_between_the_batch_commit_and_its_move_moves_each_once_and_answers_once(tmp_path, imap_account, smtp_sink):
    # Batches of 20 (the default): the first kill comes once the first 20 messages are decided and
    # their folders written, before the one UID MOVE of the set; the second once the restarted
    # daemon has moved those (fetch_pass: decided, not moved) and decided the last 4.
    soak = H.Soak(imap_account, smtp_sink, tmp_path, messages=24, seed=3)
    report = soak.run([("before-batch-move:1", 20), ("before-batch-move:2", 20)], max_kills=2)
    print("\n" + H.describe(report))
    first = report.crashes[0]
    assert first.how == "failpoint before-batch-move:1" and first.exit_code == -signal.SIGKILL
    # killed with the batch decided in the ledger and still all in INBOX
    assert first.progress.startswith("inbox 24,") and "'claimed'" not in first.progress, first.progress
    assert sum(n for s, n in report.statuses.items()) == 24
    # recorded once, moved once into the right folder, every mail sent once: the harness's checks
    assert report.problems == []
    assert report.duplicates == {}


def unit_report(unit_id: str, n: int, padding: int = 0) -> bytes:
    unit = H.CONFIG.unit(unit_id)
    files = [(f"Bao cao dan van 2024 {n}.docx", H._report(unit_id, "BC"))]
    if padding:  # incompressible bytes: the archive copy needs that much room on disk
        files.append((f"phu-luc-{n}.docx", os.urandom(padding)))
    return corpus.submission(unit.emails[0], f"{unit.name} gửi báo cáo", files)


def test_dovecot_restarted_mid_idle_misses_nothing_and_answers_once(tmp_path, imap_account, smtp_sink, dovecot_server):
    cfg = make_config(tmp_path, imap_account.url(), f"smtp://127.0.0.1:{smtp_sink.port}", poll_seconds="30",
                      timeout_seconds="5", max_per_address_per_day="1000")
    daemon = Daemon(cfg, imap_account.password, now=H.NOW.isoformat())
    units = ["xa-my-hoa", "xa-tan-kieu", "phong-tu-phap", "tt-my-an", "xa-phu-dien", "phong-y-te"]
    try:
        daemon.start()
        imap_account.append(unit_report(units[0], 0), H.ARRIVED)
        wait_until(lambda: len(imap_account.list_uids(H.PROCESSED)) == 1, timeout=30, what="first message")
        for round_, unit_id in enumerate(units[1:], 1):
            time.sleep(0.5 if round_ % 2 else 1.5)  # in IDLE (poll_seconds=30: only IDLE wakes it)
            dovecot_server.restart()  # the IDLE connection drops; the server is back at once
            imap_account.append(unit_report(unit_id, round_), H.ARRIVED + timedelta(minutes=round_))
        wait_until(lambda: len(imap_account.list_uids(H.PROCESSED)) == len(units), timeout=90, what="all after restarts")
        assert daemon.proc.poll() is None
        rows = daemon.messages()
        assert sorted(r["unit"] for r in rows) == sorted(units) and {r["status"] for r in rows} == {"recorded"}
        assert imap_account.list_uids() == []
        # each unit acknowledged once
        wait_until(lambda: sum(b"X-Tonghop-Kind: ack" in m.raw for m in smtp_sink.messages) >= len(units),
                   timeout=30, what="acknowledgements")
        acks = [H.message_id(m.raw) for m in smtp_sink.messages if b"X-Tonghop-Kind: ack" in m.raw]
        assert len(acks) == len(set(acks)) == len(units)
        assert "thử lại sau" in daemon.log_text()
    finally:
        daemon.stop()


# --- storage faults -------------------------------------------------------------------------------


@contextmanager
def tmpfs(path: Path, size: str):
    """A small tmpfs at path (root only), unmounted whatever happens."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def ledger(store: Path) -> list[dict]:
    conn = sqlite3.connect(f"file:{store / 'tonghop.db'}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("select id, sha256, status from messages order by id")]
    finally:
        conn.close()


def test_disk_full_while_archiving_claims_nothing_and_resumes_when_space_is_freed(tmp_path, imap_account, smtp_sink):
    with tmpfs(tmp_path / "store", "8m") as store:
        cfg = make_config(tmp_path, imap_account.url(), f"smtp://127.0.0.1:{smtp_sink.port}", path=f'"{store}"',
                          poll_seconds="1", timeout_seconds="5")
        daemon = Daemon(cfg, imap_account.password, now=H.NOW.isoformat())
        try:
            daemon.start()
            imap_account.append(unit_report("xa-my-hoa", 0), H.ARRIVED)
            wait_until(lambda: len(imap_account.list_uids(H.PROCESSED)) == 1, timeout=30, what="first message")
            wait_until(lambda: "đã gửi" in daemon.log_text(), timeout=30, what="the first pass's mail")
            filler = store / "filler"
            free = os.statvfs(store).f_bavail * os.statvfs(store).f_frsize
            filler.write_bytes(b"\0" * max(0, free - 256 * 1024))  # 256 KB left
            imap_account.append(unit_report("xa-tan-kieu", 1, padding=1024 * 1024), H.ARRIVED + timedelta(minutes=1))
            wait_until(lambda: "ổ đĩa đã đầy" in daemon.log_text(), timeout=30, what="the disk-full error")
            time.sleep(2)  # a retry or two
            assert daemon.proc.poll() is None, daemon.log_text()[-2000:]
            assert len(imap_account.list_uids()) == 1  # still waiting in INBOX, not moved
            assert len(ledger(store)) == 1  # not claimed
            assert not list((store / "archive").rglob(".tmp-*"))  # no half-written archive file left
            filler.unlink()
            wait_until(lambda: len(imap_account.list_uids(H.PROCESSED)) == 2, timeout=90, what="processed once space is back")
            rows = ledger(store)
            assert [r["status"] for r in rows] == ["recorded", "recorded"]
            assert imap_account.list_uids() == []
            assert daemon.stop() == 0
        finally:
            daemon.stop()


def test_read_only_ledger_loses_nothing_and_says_why(tmp_path, imap_account):
    with tmpfs(tmp_path / "store", "16m") as store:
        cfg = make_config(tmp_path, imap_account.url(), path=f'"{store}"', poll_seconds="1", timeout_seconds="5")
        daemon = Daemon(cfg, imap_account.password, now=H.NOW.isoformat())
        imap_account.append(unit_report("xa-my-hoa", 0), H.ARRIVED)
        daemon.run("run", "--once")
        subprocess.run(["mount", "-o", "remount,ro", str(store)], check=True)
        try:
            imap_account.append(unit_report("xa-tan-kieu", 1), H.ARRIVED + timedelta(minutes=1))
            once = daemon.run("run", "--once", check=False)
            assert once.returncode == 1, once.stderr
            assert "chỉ cho đọc" in once.stderr and str(store) in once.stderr, once.stderr
            assert "Traceback" not in once.stderr
            daemon.start()  # the service refuses to start on a ledger it cannot write
            assert daemon.wait(60) == 1
            assert "chỉ cho đọc" in daemon.log_text() and "Traceback" not in daemon.log_text()
            assert len(imap_account.list_uids()) == 1 and imap_account.list_uids(H.PROCESSED) != []
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(store)], check=True)
        assert len(ledger(store)) == 1
        daemon.run("run", "--once")
        assert [r["status"] for r in ledger(store)] == ["recorded", "recorded"]
        assert imap_account.list_uids() == [] and len(imap_account.list_uids(H.PROCESSED)) == 2
