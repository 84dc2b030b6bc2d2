"""daemon/intake/mailbox.py against a real Dovecot (plain, imaps, STARTTLS) and a real Maildir."""
from __future__ import annotations

import os
import ssl
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from daemon.config import MailboxSettings
from daemon.intake.mailbox import ImapSource, MailboxError, MaildirSource, open_source

VN = timezone(timedelta(hours=7))
PROCESSED = "Đã xử lý"
REVIEW = "Cần xem xét"


def make_raw(n: int, extra: bytes = b"") -> bytes:
    """A message with 8-bit Vietnamese text, trailing spaces and a base64 part: bytes that a
    careless client would re-encode or re-wrap."""
    return (
        b"From: =?utf-8?b?UGjDsm5nIE7hu5lpIHbhu6U=?= <noivu@thapmuoi.gov.vn>\r\n"
        b"To: vanthu@thapmuoi.gov.vn\r\n"
        + f"Subject: Báo cáo số {n}\r\n".encode()
        + f"Message-ID: <m{n}@test>\r\n".encode()
        + b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + "Kính gửi Phòng Nội vụ,   \r\nđơn vị gửi báo cáo.\r\n".encode()
        + b"--b\r\nContent-Type: application/octet-stream; name=\"bc.docx\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nUEsDBBQAAAAIAAAAIQA=\r\n--b--\r\n"
        + extra
    )


def when(n: int) -> datetime:
    return datetime(2024, 10, 15, 8, 0, tzinfo=VN) + timedelta(hours=n, minutes=7 * n)


@pytest.fixture
def source(imap_account):
    src = open_source(imap_account.settings(), imap_account.password)
    yield src
    src.close()


def later(seconds: float, action) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(seconds), action()), daemon=True)
    thread.start()
    return thread


# -- IMAP ------------------------------------------------------------------------------------


def test_pending_and_fetch_return_exact_bytes_and_internaldate(imap_account, source):
    uids = [imap_account.append(make_raw(n), when(n)) for n in range(3)]
    source.open()
    assert source.identity == (
        f"imap://{imap_account.user}@127.0.0.1:{imap_account.server.port}"
    )
    assert source.pending() == [str(u) for u in uids]
    fetched = list(source.fetch(source.pending()))
    assert [f.uid for f in fetched] == [str(u) for u in uids]
    for n, item in enumerate(fetched):
        assert item.raw == make_raw(n)
        assert item.internaldate == when(n)
        assert item.internaldate.utcoffset() is not None
    # BODY.PEEK: the clerk's mail program still shows the messages as unread.
    assert all(b"\\Seen" not in m.flags for m in imap_account.messages().values())
    assert isinstance(source.uidvalidity(), int) and source.uidvalidity() > 0


def test_fetch_in_batches_skips_vanished(imap_account):
    uids = [imap_account.append(make_raw(n), when(n)) for n in range(5)]
    src = ImapSource(imap_account.settings(batch_size=2), imap_account.password)
    src.open()
    try:
        calls = []
        real_fetch = src._client.fetch

        def recording(ids, items):
            if b"BODY.PEEK[]" in items:  # the bodies (their sizes are asked first, RFC822.SIZE)
                calls.append(list(ids))
            return real_fetch(ids, items)

        src._client.fetch = recording
        # Another client expunges a message between our SEARCH and FETCH.
        other = imap_account.client()
        other.select_folder("INBOX")
        other.delete_messages([uids[2]])
        other.expunge()
        other.logout()
        wanted = [str(u) for u in uids] + ["99999"]
        got = [f.uid for f in src.fetch(wanted)]
    finally:
        src.close()
    assert got == [str(u) for u in uids if u != uids[2]]
    assert calls == [uids[0:2], uids[2:4], [uids[4], 99999]]


@pytest.mark.parametrize("use_move", [True, False], ids=["MOVE", "COPY+EXPUNGE"])
def test_move_to_vietnamese_folders(imap_account, use_move):
    uids = [imap_account.append(make_raw(n), when(n)) for n in range(4)]
    # A message a person marked \Deleted but has not expunged: it must survive our move.
    client = imap_account.client()
    client.select_folder("INBOX")
    client.add_flags([uids[3]], [b"\\Deleted"])
    client.logout()

    src = ImapSource(imap_account.settings(), imap_account.password, use_move=use_move)
    src.open()
    try:
        copies = []
        real_copy = src._client.copy
        src._client.copy = lambda ids, folder: copies.append(folder) or real_copy(ids, folder)
        src.move(str(uids[0]), PROCESSED)
        src.move(str(uids[1]), REVIEW)
        src.move(str(uids[2]), PROCESSED)  # folder exists now
        src.move("99999", PROCESSED)  # vanished: nothing happens
        assert src.pending() == [str(uids[3])]
    finally:
        src.close()
    # the vanished UID is not even copied: the claim before the move (CONDSTORE) found nothing
    assert copies == ([] if use_move else [PROCESSED, REVIEW, PROCESSED])
    assert {"INBOX", PROCESSED, REVIEW} <= set(imap_account.folders())
    done = imap_account.messages(PROCESSED)
    assert sorted(m.raw for m in done.values()) == sorted([make_raw(0), make_raw(2)])
    assert sorted(m.internaldate for m in done.values()) == [when(0), when(2)]
    assert [m.raw for m in imap_account.messages(REVIEW).values()] == [make_raw(1)]
    assert imap_account.list_uids("INBOX") == [uids[3]]
    # Created folders are subscribed, so the clerk's mail program lists them.
    client = imap_account.client()
    subscribed = {name for _f, _s, name in client.list_sub_folders()}
    client.logout()
    assert {PROCESSED, REVIEW} <= subscribed
    # On disk Dovecot keeps the names in modified UTF-7: proof that we did not send raw UTF-8.
    maildir = imap_account.server.maildir(imap_account.user)
    assert (maildir / ".&ARAA4w- x&Hu0- l&AP0-").is_dir()


def test_idle_wakes_soon_after_append(imap_account, source):
    source.open()
    assert source.pending() == []
    latencies = []
    for n in range(3):
        appended = {}

        def deliver(n=n):
            imap_account.append(make_raw(n), when(n))
            appended["at"] = time.monotonic()

        thread = later(0.3, deliver)
        started = time.monotonic()
        source.wait(30, lambda: False)
        woke = time.monotonic()
        thread.join()
        assert woke - started < 10, "wait() returned only at its timeout"
        latencies.append(max(0.0, woke - appended["at"]))
        assert len(source.pending()) == n + 1
    print(f"\nIDLE wake-up latency after APPEND: {', '.join(f'{x * 1000:.0f} ms' for x in latencies)}")
    assert max(latencies) < 5


def test_wait_returns_at_once_for_mail_that_came_after_pending(imap_account, source):
    source.open()
    assert source.pending() == []
    imap_account.append(make_raw(1), when(1))
    started = time.monotonic()
    source.wait(30, lambda: False)
    assert time.monotonic() - started < 1
    # Mail already seen (still in the folder, e.g. a failed move) does not wake wait().
    source.pending()
    started = time.monotonic()
    source.wait(1.0, lambda: False)
    assert 0.9 <= time.monotonic() - started < 3


def test_should_stop_interrupts_wait_quickly(imap_account, source):
    source.open()
    source.pending()
    stop = threading.Event()
    later(0.3, stop.set)
    started = time.monotonic()
    source.wait(60, stop.is_set)
    assert time.monotonic() - started < 1.5
    # The connection is still usable after an interrupted IDLE.
    imap_account.append(make_raw(1), when(1))
    assert len(source.pending()) == 1


def test_idle_is_renewed_and_still_wakes(imap_account):
    src = ImapSource(imap_account.settings(idle_renew_seconds=0.4), imap_account.password)
    src.open()
    try:
        src.pending()
        idles = []
        real_idle = src._client.idle
        src._client.idle = lambda: idles.append(1) or real_idle()
        started = time.monotonic()
        src.wait(1.5, lambda: False)
        assert 1.4 <= time.monotonic() - started < 3
        assert len(idles) >= 3
        thread = later(0.9, lambda: imap_account.append(make_raw(1), when(1)))
        started = time.monotonic()
        src.wait(20, lambda: False)
        thread.join()
        assert time.monotonic() - started < 5
        assert len(src.pending()) == 1
    finally:
        src.close()


def test_server_without_idle_is_polled(imap_account):
    src = ImapSource(imap_account.settings(poll_seconds=0.6), imap_account.password)
    src.open()
    try:
        src.pending()
        real = src._client.has_capability
        src._client.has_capability = lambda name: name.upper() != "IDLE" and real(name)
        started = time.monotonic()
        src.wait(30, lambda: False)
        assert 0.5 <= time.monotonic() - started < 2
    finally:
        src.close()


def test_server_down_then_back_loses_nothing(imap_account, dovecot_server):
    first = imap_account.append(make_raw(1), when(1))
    src = open_source(imap_account.settings(timeout_seconds=5), imap_account.password)
    src.open()
    try:
        assert src.pending() == [str(first)]
        # The server dies while we IDLE: wait() must notice, not sleep until its timeout.
        errors = []

        def waiting():
            try:
                src.wait(30, lambda: False)
            except MailboxError as exc:
                errors.append((time.monotonic(), exc))

        thread = threading.Thread(target=waiting)
        thread.start()
        time.sleep(0.5)
        stopped = time.monotonic()
        dovecot_server.stop()
        thread.join(15)
        assert errors, "wait() did not report the lost connection"
        print(f"\nIDLE noticed the server stop after {errors[0][0] - stopped:.2f} s")
        assert errors[0][0] - stopped < 5
        with pytest.raises(MailboxError):
            src.pending()
        src.close()
        with pytest.raises(MailboxError) as refused:
            src.open()
        assert "từ chối kết nối" in str(refused.value)
        src.close()

        dovecot_server.start()
        second = imap_account.append(make_raw(2), when(2))  # came while we were away
        src.close()
        src.open()
        assert src.pending() == [str(first), str(second)]
        assert [f.raw for f in src.fetch(src.pending())] == [make_raw(1), make_raw(2)]
    finally:
        src.close()
        if not dovecot_server.running:
            dovecot_server.start()


def test_login_failure_is_a_mailbox_error(imap_account):
    src = open_source(imap_account.settings(), "wrong password")
    with pytest.raises(MailboxError) as failed:
        src.open()
    assert "sai tên đăng nhập hoặc mật khẩu" in str(failed.value)
    src.close()
    with pytest.raises(MailboxError):
        open_source(imap_account.settings(), None).open()


@pytest.mark.parametrize("folder", ["INBOX", "Báo cáo đơn vị"])
def test_recreated_folder_has_new_uidvalidity(imap_account, folder):
    for n in range(2):
        imap_account.append(make_raw(n), when(n), folder=folder)
    src = open_source(imap_account.settings(folder=folder), imap_account.password)
    src.open()
    try:
        before = src.uidvalidity()
        assert len(src.pending()) == 2
        imap_account.recreate_folder(folder)
        # The session that still has the old folder open must not serve stale UIDs.
        with pytest.raises(MailboxError):
            list(src.fetch(src.pending()))
        src.close()
        src.open()
        assert src.uidvalidity() != before
        fetched = list(src.fetch(src.pending()))
        assert [f.raw for f in fetched] == [make_raw(0), make_raw(1)]
        assert [f.internaldate for f in fetched] == [when(0), when(1)]
    finally:
        src.close()


@pytest.mark.parametrize(
    "scheme, changes",
    [
        ("imaps", {}),
        ("imaps", {"tls_verify": False, "ca_file": None}),
        ("imap+starttls", {}),
        ("imap+starttls", {"tls_verify": False, "ca_file": None}),
    ],
    ids=["imaps-ca", "imaps-noverify", "starttls-ca", "starttls-noverify"],
)
def test_tls_connections(imap_account, scheme, changes):
    imap_account.append(make_raw(1), when(1))
    src = open_source(imap_account.settings(scheme, **changes), imap_account.password)
    src.open()
    try:
        assert isinstance(src._client.socket(), ssl.SSLSocket)
        assert [f.raw for f in src.fetch(src.pending())] == [make_raw(1)]
        imap_account.append(make_raw(2), when(2))
        src.wait(10, lambda: False)
        assert len(src.pending()) == 2
    finally:
        src.close()


@pytest.mark.parametrize("scheme", ["imaps", "imap+starttls"])
def test_untrusted_certificate_is_refused(imap_account, scheme):
    src = open_source(imap_account.settings(scheme, ca_file=None), imap_account.password)
    with pytest.raises(MailboxError) as refused:
        src.open()
    assert "chứng chỉ TLS" in str(refused.value)
    src.close()


# -- Maildir ---------------------------------------------------------------------------------


def maildir_settings(path: Path, folder: str = "INBOX") -> MailboxSettings:
    return MailboxSettings(
        url=f"maildir:{path}", scheme="maildir", host=None, port=None, user=None, folder=folder,
        path=path, processed_folder=PROCESSED, review_folder=REVIEW, timeout_seconds=10.0,
        poll_seconds=60.0, idle_renew_seconds=600.0, batch_size=20, tls_verify=True,
        ca_file=None,
    )


def deliver(root: Path, name: str, raw: bytes, arrived: datetime, sub: str = "new") -> Path:
    """Deliver as an MDA does: write in tmp/, then rename into new/ (or cur/)."""
    for d in ("tmp", "new", "cur"):
        (root / d).mkdir(parents=True, exist_ok=True)
    tmp = root / "tmp" / name
    tmp.write_bytes(raw)
    os.utime(tmp, (arrived.timestamp(), arrived.timestamp()))
    target = root / sub / (name + (":2,S" if sub == "cur" else ""))
    os.rename(tmp, target)
    return target


@pytest.mark.parametrize("use_move", [True, False], ids=["MOVE", "COPY+EXPUNGE"])
def test_move_many_moves_a_set_in_one_command(imap_account, use_move):
    uids = [imap_account.append(make_raw(n), when(n)) for n in range(5)]
    # Another service's claim on one message: it is theirs to move, not ours.
    other = imap_account.client()
    other.select_folder("INBOX")
    other.add_flags([uids[4]], [b"$Tonghopsomeoneelse"])
    other.logout()
    src = ImapSource(imap_account.settings(), imap_account.password, use_move=use_move)
    src.owner = "test:move_many"
    src.open()
    try:
        commands = []
        for name in ("move", "copy"):
            real = getattr(src._client, name)
            setattr(src._client, name, lambda ids, folder, real=real, name=name: commands.append((name, list(ids))) or real(ids, folder))
        src.move_many([str(u) for u in uids[:3]] + ["99999", str(uids[4])], PROCESSED)
        assert commands == [("move" if use_move else "copy", uids[:3])]  # one command for the set
        src.move_many([str(uids[3])], REVIEW)
        src.move_many([str(uids[0])], PROCESSED)  # moved already: a no-op, as move() is
        assert src.pending() == [str(uids[4])]
    finally:
        src.close()
    assert sorted(m.raw for m in imap_account.messages(PROCESSED).values()) == sorted(make_raw(n) for n in range(3))
    assert [m.raw for m in imap_account.messages(REVIEW).values()] == [make_raw(3)]


def test_maildir_move_many_and_a_file_a_person_renamed(tmp_path):
    root = tmp_path / "Maildir"
    for n in range(4):
        deliver(root, f"170000000{n}.M{n}P1.host", make_raw(n), when(n))
    src = open_source(maildir_settings(root), None)
    src.open()
    uids = src.pending()
    # A mail program marks one read after our listing: new/NAME becomes cur/NAME:2,S.
    (root / "new" / uids[1]).rename(root / "cur" / (uids[1] + ":2,S"))
    src.move_many(uids[:3] + ["gone"], PROCESSED)
    assert src.pending() == [uids[3]]
    processed = root / ".&ARAA4w- x&Hu0- l&AP0-"
    assert sorted(p.name for p in (processed / "new").iterdir()) == [uids[0], uids[2]]
    assert [p.name for p in (processed / "cur").iterdir()] == [uids[1] + ":2,S"]
    src.close()


def test_maildir_pending_fetch_move(tmp_path):
    root = tmp_path / "Maildir"
    deliver(root, "1700000002.M2P1.host", make_raw(2), when(2))
    deliver(root, "1700000001.M1P1.host", make_raw(1), when(1), sub="cur")
    deliver(root, "1700000003.M3P1.host", make_raw(3), when(3))
    src = open_source(maildir_settings(root), None)
    assert isinstance(src, MaildirSource)
    src.open()
    assert src.identity == f"maildir:{root}"
    uids = src.pending()
    assert uids == ["1700000001.M1P1.host", "1700000002.M2P1.host", "1700000003.M3P1.host"]
    fetched = list(src.fetch(uids + ["gone"]))
    assert [f.raw for f in fetched] == [make_raw(1), make_raw(2), make_raw(3)]
    assert [f.internaldate for f in fetched] == [when(1), when(2), when(3)]
    assert all(f.internaldate.tzinfo is not None for f in fetched)

    src.move(uids[0], PROCESSED)
    src.move(uids[1], REVIEW)
    src.move("gone", PROCESSED)
    assert src.pending() == [uids[2]]
    processed = root / ".&ARAA4w- x&Hu0- l&AP0-"
    assert (processed / "maildirfolder").exists()
    # The name (with its flags) and the subdirectory are kept.
    assert (processed / "cur" / (uids[0] + ":2,S")).read_bytes() == make_raw(1)
    assert (root / ".C&Hqc-n xem x&AOk-t" / "new" / uids[1]).read_bytes() == make_raw(2)
    src.close()


def test_maildir_uidvalidity_is_stable(tmp_path):
    root = tmp_path / "Maildir"
    first = open_source(maildir_settings(root), None)
    first.open()
    value = first.uidvalidity()
    second = MaildirSource(maildir_settings(root))
    second.open()
    assert second.uidvalidity() == value
    assert (root / MaildirSource.UIDVALIDITY_FILE).read_text().strip() == str(value)
    with pytest.raises(MailboxError):
        MaildirSource(maildir_settings(root)).pending()  # not opened


def test_maildir_wait_wakes_on_new_file_and_honours_stop(tmp_path):
    root = tmp_path / "Maildir"
    src = MaildirSource(maildir_settings(root))
    src.open()
    assert src.pending() == []
    arrived = {}

    def mda():
        deliver(root, "1700000009.M9P1.host", make_raw(9), when(9))
        arrived["at"] = time.monotonic()

    thread = later(0.3, mda)
    src.wait(30, lambda: False)
    woke = time.monotonic()
    thread.join()
    print(f"\nMaildir wake-up latency: {(woke - arrived['at']) * 1000:.0f} ms")
    assert woke - arrived["at"] < 2
    assert src.pending() == ["1700000009.M9P1.host"]

    started = time.monotonic()
    src.wait(1.0, lambda: False)  # nothing new: the timeout
    assert 0.9 <= time.monotonic() - started < 2
    stop = threading.Event()
    later(0.3, stop.set)
    started = time.monotonic()
    src.wait(60, stop.is_set)
    assert time.monotonic() - started < 1.5


def test_maildir_watched_subfolder_and_errors(tmp_path):
    root = tmp_path / "Maildir"
    folder_dir = root / ".B&AOE-o c&AOE-o"  # "Báo cáo"
    deliver(folder_dir, "1700000001.M1P1.host", make_raw(1), when(1))
    src = MaildirSource(maildir_settings(root, folder="Báo cáo"))
    src.open()
    assert src.pending() == ["1700000001.M1P1.host"]
    src.move("1700000001.M1P1.host", "INBOX")
    assert (root / "new" / "1700000001.M1P1.host").exists()
    assert src.pending() == []
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with pytest.raises(MailboxError) as failed:
        MaildirSource(maildir_settings(blocked)).open()
    assert "Maildir" in str(failed.value)


def test_maildir_source_reads_dovecot_maildir(imap_account):
    """A Dovecot-delivered Maildir read directly: the file's bytes (Dovecot stores LF line ends
    on disk; we keep files as they are), and mtime is Dovecot's INTERNALDATE. Our moved message
    then shows up in Dovecot under its Vietnamese name."""
    for n in range(2):
        imap_account.append(make_raw(n), when(n))
    maildir = imap_account.server.maildir(imap_account.user)
    src = MaildirSource(maildir_settings(maildir))
    src.open()
    fetched = list(src.fetch(src.pending()))
    assert [(f.raw, f.internaldate) for f in fetched] == [
        (make_raw(0).replace(b"\r\n", b"\n"), when(0)),
        (make_raw(1).replace(b"\r\n", b"\n"), when(1)),
    ]
    src.move(fetched[0].uid, PROCESSED)
    server = imap_account.server
    subprocess.run(["chown", "-R", f"{server.uid}:{server.gid}", str(maildir)], check=True)
    assert PROCESSED in imap_account.folders()
    moved = imap_account.messages(PROCESSED)
    assert [(m.raw, m.internaldate) for m in moved.values()] == [(make_raw(0), when(0))]
    assert len(imap_account.list_uids("INBOX")) == 1
