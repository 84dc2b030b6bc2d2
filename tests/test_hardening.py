"""Faults of the storage folder and the mailbox that an office meets (issue 15): archived bytes
gone before a re-read, the ledger replaced or damaged under the service, a second instance, two
machines on one mailbox, a message expunged by another client, files readable by other users,
half-written files of a killed process. Real Dovecot, real files, the real command line."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import stat
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import corpus
from daemon.config_toml import load_config
from tonghop_demo import samples
from service import EXAMPLE, PASSWORD_ENV, Daemon, make_config, wait_until

ICT = timezone(timedelta(hours=7))
ARRIVED = datetime(2024, 10, 15, 8, 30, tzinfo=ICT)
PROCESSED = "Đã xử lý"
CONFIG = load_config(EXAMPLE)
UNITS = ["xa-my-hoa", "xa-tan-kieu", "phong-tu-phap", "tt-my-an"]
_docs: dict[str, bytes] = {}


def report_mail(unit_id: str, n: int = 0, name: str | None = None) -> bytes:
    unit = CONFIG.unit(unit_id)
    if unit_id not in _docs:
        _docs[unit_id] = samples.report_docx(samples.sample_unit(unit), 2024, kind="BC")
    return corpus.submission(unit.emails[0], f"{unit.name} gửi báo cáo công tác dân vận {n}",
                             [(name or f"Bao cao dan van 2024 {n}.docx", _docs[unit_id])])


@pytest.fixture
def office(tmp_path, imap_account):
    cfg = make_config(tmp_path, imap_account.url(), poll_seconds="1", timeout_seconds="5")
    daemon = Daemon(cfg, imap_account.password, now=ARRIVED.isoformat())
    yield daemon, imap_account
    daemon.stop()


def cli(daemon, *args: str) -> tuple[int, str, str]:
    """The command line in this process (`status`, `messages`, `reprocess`): the same code as the
    child process without its seconds of start-up (the suite runs on two busy cores)."""
    import contextlib
    import io

    from daemon.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = os.environ.get(PASSWORD_ENV)
    os.environ[PASSWORD_ENV] = daemon.password
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--config", str(daemon.config), "--now", daemon.now, *args])
    finally:
        if saved is None:
            os.environ.pop(PASSWORD_ENV, None)
        else:
            os.environ[PASSWORD_ENV] = saved
    return code, out.getvalue(), err.getvalue()


def messages(daemon) -> list[dict]:
    code, out, err = cli(daemon, "messages", "--json")
    assert code == 0, err
    return json.loads(out)


def storage(daemon) -> Path:
    return daemon.config.parent / "var"


def ledger_rows(daemon, sql: str) -> list[tuple]:
    conn = sqlite3.connect(storage(daemon) / "tonghop.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def submitted(daemon) -> set[str]:
    """Units with a recorded report (ledger read directly: each CLI call costs seconds)."""
    return {r[0] for r in ledger_rows(daemon, "select unit_id from submissions where requirement = 'bao-cao'")}


# --- 1. a re-read that cannot read erases nothing ----------------------------------------------


def test_reprocess_without_the_archive_keeps_every_decision_and_says_which(office):
    daemon, account = office
    for i, unit_id in enumerate(UNITS):
        account.append(report_mail(unit_id, i), ARRIVED + timedelta(minutes=i))
    daemon.run("run", "--once")
    before = messages(daemon)
    assert [m["status"] for m in before] == ["recorded"] * 4
    assert submitted(daemon) == set(UNITS)
    shutil.rmtree(storage(daemon) / "archive")  # the archive folder deleted, a disk swapped

    code, _out, err = cli(daemon, "reprocess", "--all")
    assert code == 1, err
    assert "không đọc lại được" in err.lower() and "mã 1, 2, 3, 4" in err, err
    assert messages(daemon) == before  # status, reason and submissions untouched
    # so the next reminder does not ask these units for what they sent
    assert submitted(daemon) == set(UNITS)


# --- 5. everything under storage private, whatever the umask -----------------------------------


def test_everything_under_storage_is_private_and_leftovers_are_cleaned(office):
    """5: 0600 files and 0700 folders whatever the umask; 16: the .tmp-*.part files a killed
    process left are removed at start, not a live writer's."""
    daemon, account = office
    account.append(report_mail("xa-my-hoa"), ARRIVED)
    after_deadline = datetime(2024, 10, 21, 9, 0, tzinfo=ICT)  # the draft and the tracking book are written
    root = storage(daemon)
    old = os.umask(0)
    try:
        daemon.run("run", "--once")
        old_ones = [root / "archive" / "ab" / ".tmp-x1y2.part", root / ".tmp-tracking.part"]
        fresh = root / "archive" / ".tmp-being-written.part"  # another writer's, a second ago
        for path in [*old_ones, fresh]:
            path.parent.mkdir(mode=0o700, exist_ok=True)
            path.write_bytes(b"half")
            path.chmod(0o600)
        for path in old_ones:
            os.utime(path, (time.time() - 3600, time.time() - 3600))
        result = daemon.run("--now", after_deadline.isoformat(), "run", "--once")
    finally:
        os.umask(old)
    assert not any(p.exists() for p in old_ones) and fresh.exists()
    assert "tệp tạm còn sót lại" in result.stderr
    kinds = {p.suffix for p in root.rglob("*") if p.is_file()}
    assert {".db", ".eml", ".docx", ".xlsx"} <= kinds, kinds  # ledger, archive and outbox, draft, workbook
    wrong = [f"{p.relative_to(root)} {stat.filemode(p.stat().st_mode)}" for p in [root, *root.rglob("*")]
             if stat.S_IMODE(p.stat().st_mode) != (0o700 if p.is_dir() else 0o600)]
    assert not wrong, wrong


def test_a_running_ledger_and_its_wal_are_private(office):
    daemon, account = office
    old = os.umask(0o002)
    try:
        daemon.start()
        wait_until(lambda: "Đang theo dõi hộp thư" in daemon.log_text(), what="daemon start")
    finally:
        os.umask(old)
    root = storage(daemon)
    files = [root / "tonghop.db", root / "tonghop.db-wal", root / "tonghop.db-shm", root / "tonghop.lock"]
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}


# --- 13. one instance per storage folder --------------------------------------------------------


def test_a_second_instance_says_who_runs_and_exits_3(office):
    daemon, account = office
    daemon.start()
    wait_until(lambda: "Đang theo dõi hộp thư" in daemon.log_text(), what="daemon start")
    second = daemon.run("run", "--once", check=False)
    assert second.returncode == 3, second
    assert f"tonghop đang chạy rồi (tiến trình số {daemon.proc.pid})" in second.stderr, second.stderr
    assert "locked" not in second.stderr and "Traceback" not in second.stderr
    account.append(report_mail("xa-my-hoa"), ARRIVED)
    wait_until(lambda: len(account.list_uids(PROCESSED)) == 1, what="the first instance still works")
    daemon.signal(signal.SIGKILL)
    daemon.wait()
    daemon.run("run", "--once")  # the kernel released the lock with the killed process


# --- 10. a damaged ledger: said plainly, exit 2, no restart loop --------------------------------


def damage(db: Path, first_page: int) -> None:
    """Overwrite pages from first_page on with garbage, the header (page 1) intact."""
    conn = sqlite3.connect(db)
    page = conn.execute("pragma page_size").fetchone()[0]
    conn.close()
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    data = bytearray(db.read_bytes())
    for at in range((first_page - 1) * page, len(data), 7):
        data[at] = (at * 31) & 0xFF
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("first_page", [1, 6])
def test_a_damaged_ledger_stops_with_how_to_restore_and_exit_2(office, first_page):
    daemon, account = office
    for i, unit_id in enumerate(UNITS):
        account.append(report_mail(unit_id, i), ARRIVED + timedelta(minutes=i))
    daemon.run("run", "--once")
    db = storage(daemon) / "tonghop.db"
    assert db.stat().st_size // 4096 > first_page
    damage(db, first_page)  # 1: the header too ("file is not a database")
    account.append(report_mail("xa-phu-dien", 9), ARRIVED + timedelta(hours=1))
    result = daemon.run("run", "--once", check=False)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr, result.stderr
    for err in (result.stderr, cli(daemon, "messages")[2]):
        assert "bị hỏng" in err and ".recover" in err and "sao lưu" in err, err
    assert cli(daemon, "status")[0] == 2
    assert len(account.list_uids()) == 1  # the new mail waits in the mailbox
    unit = (Path(__file__).resolve().parent.parent / "deploy" / "tonghop.service").read_text()
    assert "RestartPreventExitStatus=2" in unit and "UMask=0077" in unit


# --- 2. the ledger replaced under the running service -------------------------------------------


@pytest.mark.parametrize("how", ["restored", "deleted"])
def test_a_ledger_restored_under_the_service_stops_it_before_any_move(office, how):
    daemon, account = office
    account.append(report_mail("xa-my-hoa", 0), ARRIVED)
    daemon.start()
    wait_until(lambda: len(account.list_uids(PROCESSED)) == 1, what="first message")
    db = storage(daemon) / "tonghop.db"
    backup = db.with_name("backup.db")
    src, dst = sqlite3.connect(db), sqlite3.connect(backup)
    src.backup(dst)
    src.close(), dst.close()
    if how == "restored":
        os.replace(backup, db)  # the admin restores the backup: a new file under the same name
    else:
        db.unlink()  # deleted by mistake
    account.append(report_mail("xa-tan-kieu", 1), ARRIVED + timedelta(minutes=1))
    assert daemon.wait(30) == 1
    said = "đã bị thay bằng tệp khác" if how == "restored" else "đã bị xóa hoặc đổi tên"
    assert said in daemon.log_text() and "Traceback" not in daemon.log_text()
    assert len(account.list_uids()) == 1 and len(account.list_uids(PROCESSED)) == 1  # not moved
    if how == "deleted":
        os.replace(backup, db)  # the admin puts the backup back
    daemon.run("run", "--once")  # the next start uses the restored file and records it there
    assert ledger_rows(daemon, "select status from messages") == [("recorded",), ("recorded",)]
    assert account.list_uids() == []


# --- 14, 15, 20. the mailbox shared with other clients and other services -----------------------


def plain(n: int) -> bytes:
    return corpus.submission("nguoi.gui@example.org", f"Thư {n}", [])


def test_two_services_moving_one_mailbox_never_duplicate(imap_account):
    """Two sources (two ledgers, two machines) race to move the same UIDs, interleaved."""
    import threading

    from daemon.intake.mailbox import ImapSource, MailboxError

    for i in range(60):
        imap_account.append(plain(i), ARRIVED)
    for use_move in (True, False):
        sources = [ImapSource(imap_account.settings(), imap_account.password, use_move=use_move) for _ in range(2)]
        errors = []
        for n, source in enumerate(sources):
            source.owner = f"may-{n}:/var/lib/tonghop/tonghop.db"
            source.open()
            source.pending()

        def move_all(source):
            for uid in [str(u) for u in range(1, 61)] if use_move else [str(u) for u in range(61, 121)]:
                try:
                    source.move(uid, PROCESSED)
                except MailboxError as exc:
                    errors.append(str(exc))

        threads = [threading.Thread(target=move_all, args=(s,)) for s in sources]
        [t.start() for t in threads]
        [t.join() for t in threads]
        for source in sources:
            source.close()
        assert errors == []
        moved = imap_account.messages(PROCESSED)
        assert len(moved) == 60 * (1 if use_move else 2), len(moved)
        assert imap_account.list_uids() == []
        if use_move:  # the same 60 again for the COPY + EXPUNGE path
            for i in range(60):
                imap_account.append(plain(100 + i), ARRIVED)


def test_two_runners_on_one_mailbox_move_each_message_once(tmp_path, imap_account):
    daemons = []
    for n in range(2):
        folder = tmp_path / f"may-{n}"
        folder.mkdir()
        cfg = make_config(folder, imap_account.url(), timeout_seconds="5", batch_size="2")
        daemons.append(Daemon(cfg, imap_account.password, now=ARRIVED.isoformat()))
    units = [u for u in CONFIG.campaign("dan-van").unit_ids][:6]
    for i, unit_id in enumerate(units):
        imap_account.append(report_mail(unit_id, i), ARRIVED + timedelta(minutes=i))
    import subprocess

    procs = [subprocess.Popen(d.command("run", "--once"), env=d.env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for d in daemons]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert imap_account.list_uids() == []
    subjects = sorted(m.raw.split(b"\r\nSubject:")[1].split(b"\r\n")[0] for m in imap_account.messages(PROCESSED).values())
    assert len(subjects) == len(units) == len(set(subjects))


def test_a_message_expunged_by_another_client_before_the_move_is_a_no_op(imap_account, caplog):
    from daemon.intake.mailbox import ImapSource

    for i in range(3):
        imap_account.append(plain(i), ARRIVED)
    source = ImapSource(imap_account.settings(), imap_account.password)
    source.open()
    try:
        uids = source.pending()
        assert len(list(source.fetch(uids))) == 3
        other = imap_account.client()
        other.select_folder("INBOX")
        other.add_flags([int(uids[0])], [b"\\Deleted"])
        other.expunge()
        other.logout()
        for uid in uids:  # the first is gone: no EXPUNGEISSUED, the others still moved
            source.move(uid, PROCESSED)
        assert len(imap_account.list_uids(PROCESSED)) == 2
        # the processed folder deleted by a person: made again, its name logged as people read it
        other = imap_account.client()
        other.delete_folder(PROCESSED)
        other.logout()
        imap_account.append(plain(9), ARRIVED)
        with caplog.at_level("INFO", logger="tonghop"):
            source.move(source.pending()[-1], PROCESSED)
        assert len(imap_account.list_uids(PROCESSED)) == 1
        assert "Đã tạo lại thư mục «Đã xử lý»" in caplog.text and "&ARAA4w-" not in caplog.text
    finally:
        source.close()


def test_server_words_show_folder_names_decoded():
    from daemon.intake.mailbox import decode_folder_names

    assert decode_folder_names("Mailbox doesn't exist: &ARAA4w- x&Hu0- l&AP0-") == "Mailbox doesn't exist: Đã xử lý"
    assert decode_folder_names("a & b &- c") == "a & b & c"


# --- 18. a resend after the deadline keeps the on-time receipt visible -------------------------


def test_a_resend_after_the_deadline_shows_the_on_time_receipt(office):
    daemon, account = office
    account.append(report_mail("xa-my-hoa", 0, name="Bao cao dan van 2024.docx"), ARRIVED)
    daemon.run("run", "--once")
    later = datetime(2024, 10, 21, 9, 0, tzinfo=ICT)  # after the deadline of 20/10
    account.append(report_mail("xa-my-hoa", 0, name="Bao cao dan van 2024.docx"), later)
    daemon.run("--now", later.isoformat(), "run", "--once")
    daemon.now = later.isoformat()
    doc = json.loads(cli(daemon, "status", "dan-van", "--json")[1])
    cell = next(u for u in doc["campaigns"][0]["units"] if u["id"] == "xa-my-hoa")["submissions"]["bao-cao"]
    assert cell["status"] == "on_time"
    assert datetime.fromisoformat(cell["first_received_at"]) == ARRIVED
    assert datetime.fromisoformat(cell["received_at"]) == later
    missing = next(u for u in doc["campaigns"][0]["units"] if u["id"] == "xa-tan-kieu")["submissions"]["bao-cao"]
    assert missing["status"] == "missing" and missing["first_received_at"] is None
    table = cli(daemon, "status", "dan-van")[1]
    line = next(x for x in table.splitlines() if CONFIG.unit("xa-my-hoa").name in x)
    assert "đúng hạn 15/10, gửi lại 21/10" in line and "đúng hạn 21/10" not in line, line


# --- the same kinds of fault elsewhere ----------------------------------------------------------


def test_a_claim_whose_archive_is_gone_is_finished_from_the_mailbox(office):
    daemon, account = office
    account.append(report_mail("xa-my-hoa"), ARRIVED)
    daemon.extra_env = {"TONGHOP_CRASH_AT": "after-claim:1"}
    killed = daemon.run("run", "--once", check=False)
    daemon.extra_env = {}
    assert killed.returncode == -signal.SIGKILL
    assert ledger_rows(daemon, "select status from messages") == [("claimed",)]
    shutil.rmtree(storage(daemon) / "archive")
    result = daemon.run("run", "--once")
    assert "không còn bản lưu nguyên gốc" in result.stderr
    assert ledger_rows(daemon, "select status from messages") == [("recorded",)]  # not "failed", not review
    assert account.list_uids() == [] and len(account.list_uids(PROCESSED)) == 1


def test_a_drafts_folder_replaced_by_a_file_is_said_plainly_and_mail_still_flows(office):
    daemon, account = office
    after_deadline = datetime(2024, 10, 21, 9, 0, tzinfo=ICT)
    account.append(report_mail("xa-my-hoa"), ARRIVED)
    daemon.run("run", "--once")
    (storage(daemon) / "drafts").write_text("not a folder")  # a restore gone wrong
    account.append(report_mail("xa-tan-kieu", 1), ARRIVED + timedelta(hours=1))
    result = daemon.run("--now", after_deadline.isoformat(), "run", "--once")
    assert "Không viết dự thảo tổng hợp được" in result.stderr and "bị thay bằng một tệp" in result.stderr
    assert "Traceback" not in result.stderr
    assert ledger_rows(daemon, "select status from messages") == [("recorded",), ("recorded",)]
    (storage(daemon) / "drafts").unlink()
    daemon.run("--now", after_deadline.isoformat(), "run", "--once")
    assert list((storage(daemon) / "drafts").rglob("*.docx"))
