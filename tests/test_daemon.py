"""The daemon against a real Dovecot: every message recorded once, with its INTERNALDATE, through
IDLE, server restarts, kill -9 and UIDVALIDITY resets."""
from __future__ import annotations

import signal
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import pytest

import corpus
from daemon.config_toml import load_config
from tonghop_demo import samples
from service import EXAMPLE, Daemon, make_config, wait_until

ARRIVED = datetime(2024, 10, 15, 8, 30, tzinfo=timezone(timedelta(hours=7)))
UNITS = ["xa-my-hoa", "xa-tan-kieu", "phong-tu-phap", "tt-my-an", "xa-phu-dien", "phong-y-te",
         "ban-qlda", "xa-lang-bien", "phong-giao-duc", "xa-thanh-my"]


@pytest.fixture
def service(tmp_path, imap_account):
    cfg = make_config(tmp_path, imap_account.url(), poll_seconds="2", timeout_seconds="5")
    daemon = Daemon(cfg, imap_account.password)
    yield daemon, imap_account
    daemon.stop()


EXAMPLE_CONFIG = load_config(EXAMPLE)


def report_mail(unit_id: str, kind: str = "BC", n: int = 0) -> bytes:
    config = EXAMPLE_CONFIG
    unit = config.unit(unit_id)
    data = samples.report_docx(samples.sample_unit(unit), 2024, kind=kind)
    name = f"{'Bao cao' if kind == 'BC' else 'Ke hoach'} dan van 2024 {n}.docx"
    return corpus.submission(unit.emails[0], f"{unit.name} gửi báo cáo công tác dân vận", [(name, data)])


def statuses(daemon) -> dict[str, int]:
    out: dict[str, int] = {}
    for m in daemon.messages():
        out[m["status"]] = out.get(m["status"], 0) + 1
    return out


def db(daemon) -> sqlite3.Connection:
    return sqlite3.connect(daemon.config.parent / "var" / "tonghop.db")


def test_messages_appended_while_idling_are_recorded_once_and_quickly(service):
    daemon, account = service
    daemon.start()
    wait_until(lambda: "Đang theo dõi hộp thư" in daemon.log_text(), what="daemon start")
    time.sleep(1)  # let it reach IDLE
    expected = {}
    for i, unit_id in enumerate(UNITS):
        raw = report_mail(unit_id, n=i)
        when = ARRIVED + timedelta(minutes=i)
        account.append(raw, when)
        expected[unit_id] = when
    wait_until(lambda: len(account.list_uids("Đã xử lý")) == len(UNITS), timeout=60, what="all processed")
    rows = daemon.messages()
    assert len(rows) == len(UNITS)
    by_unit = {r["unit"]: r for r in rows}
    assert set(by_unit) == set(UNITS)
    for unit_id, when in expected.items():
        row = by_unit[unit_id]
        assert row["status"] == "recorded", row
        assert datetime.fromisoformat(row["received_at"]) == when
        assert [s["requirement"] for s in row["submissions"]] == ["bao-cao"]
    assert account.list_uids() == []
    # One more while idling: how long from APPEND to the decision being committed.
    latencies = []
    for k in range(3):
        time.sleep(1.0)
        start = time.monotonic()
        account.append(report_mail("xa-my-dong", n=100 + k), ARRIVED + timedelta(hours=1, minutes=k))
        wait_until(lambda: len(daemon.messages()) == len(UNITS) + k + 1, timeout=15, interval=0.05, what="idle pickup")
        latencies.append(time.monotonic() - start)
    # Picked up within wait_until's 15 s while idling; how fast is measured in bench/latency.py, not
    # asserted here (a loaded 2-core machine took 6.9 s once, which says nothing about tonghop).
    print(f"IDLE pickup latency (append -> recorded), seconds: {[round(x, 2) for x in latencies]}")


def test_dovecot_restart_while_running_misses_nothing(service, dovecot_server):
    daemon, account = service
    daemon.start()
    account.append(report_mail("xa-my-hoa"), ARRIVED)
    wait_until(lambda: len(account.list_uids("Đã xử lý")) == 1, timeout=30, what="first message")
    dovecot_server.stop()
    time.sleep(3)  # the daemon sees the connection drop and backs off
    dovecot_server.start()
    for i, unit_id in enumerate(UNITS[1:5]):
        account.append(report_mail(unit_id, n=i), ARRIVED + timedelta(minutes=i + 1))
    wait_until(lambda: len(account.list_uids("Đã xử lý")) == 5, timeout=90, what="messages after restart")
    assert len(daemon.messages()) == 5
    assert daemon.proc.poll() is None
    assert "thử lại sau" in daemon.log_text()


@pytest.mark.parametrize("point", ["after-archive", "after-claim", "after-record", "after-move"])
def test_kill_9_at_any_step_loses_nothing_and_doubles_nothing(service, point):
    daemon, account = service
    for i, unit_id in enumerate(UNITS[:4]):
        account.append(report_mail(unit_id, n=i), ARRIVED + timedelta(minutes=i))
    daemon.start(TONGHOP_CRASH_AT=f"{point}:2")
    assert daemon.wait(60) == -signal.SIGKILL
    daemon.start()
    wait_until(lambda: len(account.list_uids("Đã xử lý")) == 4, timeout=60, what="all processed after restart")
    rows = daemon.messages()
    assert len(rows) == 4 and all(r["status"] == "recorded" for r in rows)
    with db(daemon) as conn:
        assert conn.execute("select count(*) from submissions").fetchone()[0] == 4
        assert conn.execute("select count(*) from messages where status = 'claimed'").fetchone()[0] == 0
    assert account.list_uids() == []


def test_uidvalidity_reset_records_nothing_twice(service):
    daemon, account = service
    for i, unit_id in enumerate(UNITS[:3]):
        account.append(report_mail(unit_id, n=i), ARRIVED + timedelta(minutes=i))
    # Decided and committed, then killed before any move: all three still wait in INBOX.
    daemon.start(TONGHOP_CRASH_AT="after-record:1")
    daemon.wait(60)
    before = account.server.uidvalidity(account.user)
    account.recreate_folder("INBOX")  # same messages, new UIDs, new UIDVALIDITY
    assert account.server.uidvalidity(account.user) != before
    daemon.run("run", "--once")
    rows = daemon.messages()
    assert len(rows) == 3 and {r["status"] for r in rows} == {"recorded"}
    assert account.list_uids() == [] and len(account.list_uids("Đã xử lý")) == 3
    with db(daemon) as conn:
        assert conn.execute("select count(*) from submissions").fetchone()[0] == 3
        assert conn.execute("select count(distinct uidvalidity) from claims").fetchone()[0] == 2


def test_noise_is_ignored_unknown_goes_to_review_malformed_never_crashes(service):
    daemon, account = service
    noise = [corpus.outlook_out_of_office("yte@thapmuoi.example"), corpus.gmail_vacation("a@gmail.example"),
             corpus.unmarked_autoreply("ubnd.myhoa@thapmuoi.example"), corpus.postfix_dsn("x@thapmuoi.example"),
             corpus.exim_bounce(), corpus.list_mail()]
    unknown = corpus.submission("nguoi.la@gmail.example", "Báo cáo", [("bc.docx", b"PK\x03\x04 not really")])
    bad = corpus.malformed()
    for i, raw in enumerate(noise + [unknown] + bad):
        account.append(raw, ARRIVED + timedelta(minutes=i))
    daemon.run("run", "--once")
    rows = daemon.messages()
    assert len(rows) == len(noise) + 1 + len(bad)
    assert [r["status"] for r in rows[: len(noise)]] == ["ignored"] * len(noise)
    assert all(r["reason"] for r in rows)
    assert rows[len(noise)]["status"] == "review" and "nguoi.la@gmail.example" in rows[len(noise)]["reason"]
    for row in rows[len(noise) + 1:]:
        assert row["status"] in ("review", "ignored", "failed") and row["reason"]
    assert account.list_uids() == []
    assert len(account.list_uids("Cần xem xét")) + len(account.list_uids("Đã xử lý")) == len(rows)


def test_messages_json_matches_the_contract(service):
    daemon, account = service
    account.append(report_mail("xa-my-hoa"), ARRIVED)
    account.append(corpus.gmail_vacation("a@gmail.example"), ARRIVED + timedelta(minutes=1))
    daemon.run("run", "--once")
    rows = daemon.messages()
    keys = {"id", "message_id", "received_at", "from", "subject", "status", "reason", "unit", "submissions"}
    assert all(set(r) == keys for r in rows)
    rec = rows[0]
    assert rec["status"] == "recorded" and rec["unit"] == "xa-my-hoa" and rec["from"] == "ubnd.myhoa@thapmuoi.example"
    assert rec["message_id"].startswith("<") and datetime.fromisoformat(rec["received_at"]) == ARRIVED
    assert rec["submissions"] == [{"campaign": "dan-van", "cycle": "2024", "requirement": "bao-cao",
                                   "file": "Bao cao dan van 2024 0.docx"}]
    assert rows[1]["status"] == "ignored" and rows[1]["unit"] is None and rows[1]["submissions"] == []
    only = daemon.run("messages", "--status", "ignored", "--json").stdout
    assert '"ignored"' in only and '"recorded"' not in only
    table = daemon.run("messages").stdout
    assert "đã ghi nhận" in table and "UBND xã Mỹ Hòa" in table


def test_sigterm_stops_cleanly_and_sighup_keeps_a_good_config(service):
    daemon, account = service
    daemon.start()
    account.append(report_mail("xa-my-hoa"), ARRIVED)
    wait_until(lambda: len(account.list_uids("Đã xử lý")) == 1, timeout=30, what="first message")
    settings = daemon.config / "settings.toml"
    good = settings.read_text(encoding="utf-8")
    settings.write_text(good.replace("batch_size = 20", "batch_size = -1"), encoding="utf-8")
    daemon.signal(signal.SIGHUP)
    wait_until(lambda: "tiếp tục dùng cấu hình cũ" in daemon.log_text(), timeout=15, what="reload refused")
    settings.write_text(good, encoding="utf-8")
    account.append(report_mail("xa-tan-kieu"), ARRIVED + timedelta(minutes=1))
    wait_until(lambda: len(account.list_uids("Đã xử lý")) == 2, timeout=30, what="second message")
    daemon.signal(signal.SIGHUP)
    wait_until(lambda: "Đã nạp lại cấu hình" in daemon.log_text(), timeout=15, what="reload")
    assert daemon.stop() == 0
    assert "dừng theo yêu cầu" in daemon.log_text()
