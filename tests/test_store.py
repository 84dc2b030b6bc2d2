"""The ledger: archive before parse, one claim per location, one transaction per decision."""
import hashlib
import os

import pytest

from daemon.records import AttachmentRecord, Outcome, OutgoingMail, SubmissionRecord
from daemon.store import Store


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "db" / "tonghop.db", tmp_path / "archive")
    yield s
    s.close()


LOC = ("imap://nv@127.0.0.1:1143", "INBOX", 7, "42")


def claim(store, location=LOC, raw=b"Subject: x\r\n\r\nbody"):
    sha = store.archive.put(raw)
    return store.claim(location, sha256=sha, size=len(raw), message_id="<a@b>", received_at="2024-10-15T08:00:00+07:00")


def test_archive_is_content_addressed_and_complete(store):
    raw = b"From: a@b\r\n\r\n" + os.urandom(1000)
    sha = store.archive.put(raw)
    assert sha == hashlib.sha256(raw).hexdigest()
    assert store.archive.get(sha) == raw
    assert store.archive.put(raw) == sha  # same bytes, same file, no error
    assert not list(store.archive.path(sha).parent.glob(".tmp-*"))


def test_a_location_is_claimed_once(store):
    first = claim(store)
    again = claim(store)
    assert first == (again[0], True) and again[1] is False
    assert len(store.messages()) == 1 and store.messages()[0]["status"] == "claimed"
    assert [m["id"] for m in store.unfinished()] == [first[0]]


def test_same_bytes_under_a_new_uidvalidity_are_the_same_message(store):
    msg_id, _ = claim(store)
    store.record(msg_id, Outcome(status="ignored", reason="thử"))
    new_loc = (LOC[0], LOC[1], 8, "1")
    other, is_new = claim(store, new_loc)
    assert other == msg_id and not is_new
    assert len(store.messages()) == 1
    assert store.claimed_message(*new_loc)["status"] == "ignored"


def test_decision_is_written_whole_and_replaces_the_last(store):
    msg_id, _ = claim(store)
    att = AttachmentRecord("bc.docx", "", "application/x", "docx", 10, "ff", ("vấn đề",), {"number": "45/BC-UBND"})
    mail = OutgoingMail("ack:1", "ack", ("x@y",), "Đã nhận", "<m@t>", b"raw", "xa-my-hoa")
    outcome = Outcome("recorded", "đã ghi nhận", "xa-my-hoa", (att,),
                      (SubmissionRecord(0, "dan-van", "2024", "bao-cao", "45/BC-UBND", "2024-10-15", "BC"),),
                      (mail,), from_addr="x@y", subject="Báo cáo")
    store.record(msg_id, outcome)
    store.record(msg_id, outcome)  # a re-read: same rows, not doubled
    assert len(store.attachments_of(msg_id)) == 1
    subs = store.submissions_of(msg_id)
    assert len(subs) == 1 and subs[0]["filename"] == "bc.docx" and subs[0]["received_at"] == "2024-10-15T08:00:00+07:00"
    assert store.db["outbox"].count == 1
    row = store.message(msg_id)
    assert (row["status"], row["unit_id"], row["from_addr"], row["subject"]) == ("recorded", "xa-my-hoa", "x@y", "Báo cáo")


def test_a_failing_decision_leaves_the_claim_untouched(store):
    msg_id, _ = claim(store)
    bad = Outcome("recorded", "x", "u", (AttachmentRecord("a", "", "t", "k", 1, "s"),),
                  (SubmissionRecord(5, "c", "2024", "r"),))
    store.db.execute("create trigger boom before insert on submissions begin select raise(abort, 'boom'); end")
    with pytest.raises(Exception):
        store.record(msg_id, bad)
    assert store.message(msg_id)["status"] == "claimed"
    assert store.attachments_of(msg_id) == []


def test_outgoing_mail_is_keyed(store):
    mail = OutgoingMail("remind:dan-van:2024:xa:bao-cao:7", "reminder", ("x@y",), "s", "<1@t>", b"r")
    assert store.queue(mail) is True
    assert store.queue(mail) is False
    assert store.db["outbox"].count == 1


def test_attempts_are_counted_before_reading(store):
    msg_id, _ = claim(store)
    assert store.begin_attempt(msg_id) == 1
    assert store.begin_attempt(msg_id) == 2


def test_reopening_applies_no_migration_twice(tmp_path):
    Store(tmp_path / "t.db", tmp_path / "a").close()
    s = Store(tmp_path / "t.db", tmp_path / "a")
    assert [m["name"] for m in s.db["_sqlite_migrations"].rows] == ["m001_initial", "m002_address_health", "m003_drafts", "m004_figures",
                                                                 "m005_desk"]
    assert s.db.execute("pragma journal_mode").fetchone()[0] == "wal"
