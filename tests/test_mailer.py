"""Outgoing mail: composing, and delivering the outbox to a real aiosmtpd server (tests/servers.py).

No sleeping: backoff and give-up are exercised by moving `now`, the service clock.
"""
from __future__ import annotations

import json
import re
import socket
import ssl
from datetime import datetime, timedelta, timezone
import email
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from daemon.config import SmtpSettings
from daemon.outgoing.compose import compose, make_message_id
from daemon.outgoing.outbox import SendReport, backoff, send_due
from daemon.outgoing.smtp import DeliveryError, Sender, eml_name
from daemon.records import OutgoingMail
from daemon.store import Store
from servers import LOOPBACK, SmtpSink, _Handler, free_port, make_tls_files

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2024, 10, 15, 8, 0, tzinfo=TZ)
OFFICE = "phongnoivu@thapmuoi.example"
OFFICE_ALIAS = "noivu@thapmuoi.example"
OFFICE_NAME = "Phòng Nội vụ huyện Tháp Mười"
MYHOA = "ubnd.myhoa@thapmuoi.example"
MYAN = "ubnd.myan@thapmuoi.example"


def parse(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


def settings_for(sink=None, scheme: str = "smtp", **changes) -> SmtpSettings:
    values = dict(
        url=f"{scheme}://{LOOPBACK}:{sink.port if sink else 0}", scheme=scheme, host=LOOPBACK,
        port=sink.port if sink else None, user=None, path=None, sender=OFFICE,
        sender_name=OFFICE_NAME, timeout_seconds=5.0, tls_verify=True, ca_file=None,
    )
    values.update(changes)
    return SmtpSettings(**values)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "tonghop.db", tmp_path / "archive")
    yield s
    s.close()


def queue(store: Store, key: str, to: list[str], now: datetime, kind: str = "ack") -> int:
    subject = f"Đã nhận báo cáo ({key})"
    mid = make_message_id(key, "thapmuoi.example")
    raw = compose(sender=OFFICE, sender_name=OFFICE_NAME, recipients=to, subject=subject,
                  text="Kính gửi quý đơn vị,\nPhòng Nội vụ đã nhận báo cáo.\n", html=None,
                  kind=kind, message_id=mid, date=now)
    assert store.queue(OutgoingMail(key, kind, tuple(to), subject, mid, raw), now=now)
    return store.db.execute("select id from outbox where key = ?", [key]).fetchone()[0]


def row(store: Store, row_id: int) -> dict:
    return store.db["outbox"].get(row_id)


def received_ids(sink: SmtpSink) -> list[str]:
    return [parse(m.raw)["Message-ID"] for m in sink.messages]


class CountingSender(Sender):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    def deliver(self, raw, envelope_from, recipients):
        self.calls += 1
        return super().deliver(raw, envelope_from, recipients)


# --- compose ----------------------------------------------------------------------------------


def test_message_id_is_fixed_by_the_key():
    a = make_message_id("ack:17", "thapmuoi.example")
    assert a == make_message_id("ack:17", "thapmuoi.example")
    assert a != make_message_id("ack:18", "thapmuoi.example")
    assert re.fullmatch(r"<tonghop\.[0-9a-f]{32}@thapmuoi\.example>", a)


ORIGINAL = (
    "From: =?utf-8?b?VUJORCB4w6MgTeG7uSBIw7Jh?= <ubnd.myhoa@thapmuoi.example>\n"
    "To: phongnoivu@thapmuoi.example\n"
    # Raw UTF-8 in a header, as some mail programs send it: must survive untouched.
    "Subject: Báo cáo công tác dân vận năm 2024 của Ủy ban nhân dân xã Mỹ Hòa gửi Phòng Nội vụ\n"
    "Message-ID: <goc-1@thapmuoi.example>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n\n"
    "Kính gửi Phòng Nội vụ,\nxin gửi báo cáo.\n"
).encode()


def test_compose_headers_parts_and_attachments_round_trip():
    date = datetime(2024, 10, 15, 9, 30, tzinfo=TZ)
    raw = compose(
        sender=OFFICE, sender_name=OFFICE_NAME, recipients=[MYHOA, MYAN],
        subject="Đã nhận Báo cáo kết quả thực hiện công tác dân vận năm 2024 của UBND xã Mỹ Hòa",
        text="Kính gửi Ủy ban nhân dân xã Mỹ Hòa,\nPhòng Nội vụ đã nhận báo cáo.\n",
        html="<p>Kính gửi <b>Ủy ban nhân dân xã Mỹ Hòa</b></p>",
        kind="review", message_id="<tonghop.abc123@thapmuoi.example>", date=date,
        auto_submitted="auto-replied", in_reply_to="<goc-1@thapmuoi.example>",
        references=["<goc-0@thapmuoi.example>", "<goc-1@thapmuoi.example>"],
        attachments=[("Báo cáo dân vận năm 2024.docx", b"PK\x03\x04 not really a docx",
                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                     ("thư gốc.eml", ORIGINAL, "message/rfc822")],
    )
    # CRLF only (servers refuse bare LF), and our own headers are 7-bit (RFC 2047 / 2231).
    assert raw.count(b"\n") == raw.count(b"\r\n")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()

    msg = parse(raw)
    assert msg["From"].addresses[0].display_name == OFFICE_NAME
    assert msg["From"].addresses[0].addr_spec == OFFICE
    assert [a.addr_spec for a in msg["To"].addresses] == [MYHOA, MYAN]
    assert msg["Subject"] == "Đã nhận Báo cáo kết quả thực hiện công tác dân vận năm 2024 của UBND xã Mỹ Hòa"
    assert msg["Date"].datetime == date
    assert msg["Message-ID"] == "<tonghop.abc123@thapmuoi.example>"
    assert msg["In-Reply-To"] == "<goc-1@thapmuoi.example>"
    assert msg["References"].split() == ["<goc-0@thapmuoi.example>", "<goc-1@thapmuoi.example>"]
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["X-Tonghop-Kind"] == "review"
    assert msg["Precedence"] is None

    assert msg.get_content_type() == "multipart/mixed"
    alternative, docx, attached = msg.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html = alternative.get_payload()
    assert plain.get_content_type() == "text/plain" and plain.get_content_charset() == "utf-8"
    # base64 text carries canonical CRLF line ends (RFC 2045); readers show them as line breaks
    assert plain.get_content().replace("\r\n", "\n") == "Kính gửi Ủy ban nhân dân xã Mỹ Hòa,\nPhòng Nội vụ đã nhận báo cáo.\n"
    assert html.get_content_type() == "text/html"
    assert "<b>Ủy ban nhân dân xã Mỹ Hòa</b>" in html.get_content()

    assert docx.get_filename() == "Báo cáo dân vận năm 2024.docx"
    assert docx.get_content() == b"PK\x03\x04 not really a docx"
    assert docx.get_content_disposition() == "attachment"

    assert attached.get_content_type() == "message/rfc822"
    assert attached.get_filename() == "thư gốc.eml"
    inner = attached.get_payload()[0]
    assert inner["Message-ID"] == "<goc-1@thapmuoi.example>"
    assert inner["From"].addresses[0].display_name == "UBND xã Mỹ Hòa"
    assert inner.get_content() == "Kính gửi Phòng Nội vụ,\r\nxin gửi báo cáo.\r\n"
    # The original's raw 8-bit Subject is kept byte for byte, not refolded into unknown-8bit.
    assert ("Subject: Báo cáo công tác dân vận năm 2024 của Ủy ban nhân dân xã Mỹ Hòa gửi Phòng Nội vụ\r\n"
            .encode()) in raw


def test_compose_text_only_mail_is_a_single_part():
    raw = compose(sender=OFFICE, sender_name="", recipients=[MYHOA], subject="Nhắc nộp báo cáo",
                  text="Hạn nộp: 20/10/2024.\n", html=None, kind="reminder",
                  message_id="<tonghop.1@thapmuoi.example>", date=T0)
    msg = parse(raw)
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content().replace("\r\n", "\n") == "Hạn nộp: 20/10/2024.\n"
    assert msg["From"].addresses[0].addr_spec == OFFICE
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["In-Reply-To"] is None and msg["References"] is None
    assert raw.isascii()  # base64 body: passes servers without 8BITMIME


# --- send_due against a running server -------------------------------------------------------


def test_send_due_delivers_each_row_once(store, smtp_sink):
    ids = [queue(store, "ack:1", [MYHOA], T0), queue(store, "ack:2", [MYAN], T0),
           queue(store, "digest:1", [MYHOA, MYAN], T0, kind="digest")]
    sender = Sender(settings_for(smtp_sink), None)
    now = T0 + timedelta(seconds=5)
    report = send_due(store, sender, now, tz=TZ)
    order = [ids[2], ids[0], ids[1]]  # the digest goes before the acknowledgements (outbox.PRIORITY)
    assert report == SendReport(sent=order)
    assert len(smtp_sink.messages) == 3
    for row_id, mail in zip(order, smtp_sink.messages):
        r = row(store, row_id)
        assert parse(mail.raw)["Message-ID"] == r["message_id"]
        assert mail.rcpt_tos == json.loads(r["recipients"])
        assert mail.mail_from == OFFICE
        assert (r["status"], r["sent_at"], r["attempts"]) == ("sent", now.isoformat(), 1)
        assert r["last_error"] is None

    again = send_due(store, sender, now + timedelta(hours=1), tz=TZ)
    assert again == SendReport()
    assert len(smtp_sink.messages) == 3


def test_smtp_down_defers_everything_then_each_row_arrives_once(store, smtp_sink):
    smtp_sink.stop()
    ids = [queue(store, f"ack:{n}", [MYHOA if n % 2 else MYAN], T0) for n in range(5)]
    sender = CountingSender(settings_for(smtp_sink), None)

    report = send_due(store, sender, T0, tz=TZ)
    assert report.deferred == ids and not report.sent and not report.gave_up
    assert sender.calls == 1  # after the first connection failure the rest are not tried
    for row_id in ids:
        r = row(store, row_id)
        assert (r["status"], r["attempts"]) == ("queued", 1)
        assert "máy chủ thư" in r["last_error"].lower()
        assert datetime.fromisoformat(r["next_attempt_at"]) == T0 + timedelta(seconds=30)

    # Not due yet: nothing is tried.
    assert send_due(store, sender, T0 + timedelta(seconds=29), tz=TZ) == SendReport()
    assert sender.calls == 1
    # Still down 30 s later: the backoff doubles.
    report = send_due(store, sender, T0 + timedelta(seconds=30), tz=TZ)
    assert report.deferred == ids
    assert datetime.fromisoformat(row(store, ids[-1])["next_attempt_at"]) == T0 + timedelta(seconds=90)

    smtp_sink.start()
    # `now` in UTC while the rows carry +07:00: due is decided on instants, not on strings.
    later = (T0 + timedelta(seconds=91)).astimezone(timezone.utc)
    report = send_due(store, sender, later, tz=TZ)
    assert report.sent == ids and not report.deferred
    assert sorted(received_ids(smtp_sink)) == sorted(row(store, i)["message_id"] for i in ids)
    assert all(row(store, i)["attempts"] == 3 for i in ids)
    assert send_due(store, sender, later + timedelta(hours=2), tz=TZ) == SendReport()
    assert len(smtp_sink.messages) == 5


def test_backoff_doubles_from_30_seconds_up_to_30_minutes():
    assert [backoff(n).total_seconds() for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1800, 1800]


def test_gives_up_after_the_limit_and_reports_the_rows(store, smtp_sink):
    smtp_sink.stop()
    old = [queue(store, "ack:old-1", [MYHOA], T0), queue(store, "remind:old-2", [MYAN], T0, kind="reminder")]
    young = queue(store, "ack:young", [MYHOA], T0 + timedelta(hours=23))
    report = send_due(store, Sender(settings_for(smtp_sink), None), T0 + timedelta(hours=24), tz=TZ,
                      give_up_after=timedelta(hours=24))
    assert [g["id"] for g in report.gave_up] == old
    assert report.deferred == [young]
    first = report.gave_up[0]
    assert first["key"] == "ack:old-1" and first["kind"] == "ack" and first["recipients"] == [MYHOA]
    assert first["subject"] == "Đã nhận báo cáo (ack:old-1)"
    assert "Đã ngừng thử gửi sau 24 giờ" in first["last_error"]
    for entry in report.gave_up:
        r = row(store, entry["id"])
        assert (r["status"], r["last_error"], r["attempts"]) == ("failed", entry["last_error"], 1)
    assert row(store, young)["status"] == "queued"


class _PickyHandler(_Handler):
    """Refuses by local part: khongco* 550 (no such mailbox), tamhoan* 450, noidung* at DATA 554."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("khongco"):
            return "550 5.1.1 No such mailbox"
        if address.startswith("tamhoan"):
            return "450 4.2.1 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if any(a.startswith("noidung") for a in envelope.rcpt_tos):
            return "554 5.6.0 Content rejected"
        return await super().handle_DATA(server, session, envelope)


class PickySink(SmtpSink):
    def __init__(self) -> None:
        super().__init__()
        self._handler = _PickyHandler()


@pytest.fixture
def picky_sink():
    sink = PickySink()
    sink.start()
    yield sink
    sink.stop()


def test_permanent_and_temporary_refusals(store, picky_sink):
    bad = queue(store, "ack:bad", ["khongco@thapmuoi.example"], T0)
    busy = queue(store, "ack:busy", ["tamhoan@thapmuoi.example"], T0)
    content = queue(store, "ack:content", ["noidung@thapmuoi.example"], T0)
    mixed = queue(store, "ack:mixed", [MYHOA, "khongco2@thapmuoi.example"], T0)
    good = queue(store, "ack:good", [MYAN], T0)
    report = send_due(store, Sender(settings_for(picky_sink), None), T0, tz=TZ)

    assert [g["id"] for g in report.gave_up] == [bad, content]  # failed at once, not after 24 h
    assert "550 5.1.1" in row(store, bad)["last_error"] and row(store, bad)["status"] == "failed"
    assert "554 5.6.0" in row(store, content)["last_error"]
    assert report.deferred == [busy]
    assert row(store, busy)["status"] == "queued" and "450" in row(store, busy)["last_error"]
    assert report.sent == [mixed, good]  # a refusal never blocks the rows after it
    assert [p["id"] for p in report.partial] == [mixed]
    assert report.partial[0]["missed"] == ["khongco2@thapmuoi.example"]
    assert "khongco2@thapmuoi.example" in row(store, mixed)["last_error"]
    assert [m.rcpt_tos for m in picky_sink.messages] == [[MYHOA], [MYAN]]


def test_own_addresses_are_never_mailed(store, smtp_sink):
    both = queue(store, "ack:both", [OFFICE, MYHOA], T0)
    only_own = queue(store, "ack:own", [OFFICE_ALIAS.upper()], T0)
    report = send_due(store, Sender(settings_for(smtp_sink), None), T0, tz=TZ,
                      own_addresses=frozenset({OFFICE, OFFICE_ALIAS}))
    assert report.sent == [both]
    assert [g["id"] for g in report.gave_up] == [only_own]
    assert row(store, only_own)["status"] == "failed" and row(store, only_own)["attempts"] == 0
    assert "chính văn phòng" in row(store, only_own)["last_error"]
    assert [m.rcpt_tos for m in smtp_sink.messages] == [[MYHOA]]


def test_daily_limit_per_address_holds_the_eleventh_until_local_midnight(store, smtp_sink):
    evening = datetime(2024, 10, 15, 23, 30, tzinfo=TZ)  # 16:30 UTC, same UTC date as next 00:00 local
    ids = [queue(store, f"ack:{n}", [MYHOA], evening) for n in range(11)]
    other = queue(store, "ack:other", [MYAN], evening)
    sender = Sender(settings_for(smtp_sink), None)

    report = send_due(store, sender, evening, tz=TZ, max_per_address_per_day=10)
    assert report.sent == ids[:10] + [other] and report.limited == [ids[10]]
    held = row(store, ids[10])
    midnight = datetime(2024, 10, 16, 0, 0, tzinfo=TZ)
    assert held["status"] == "queued" and datetime.fromisoformat(held["next_attempt_at"]) == midnight
    assert held["attempts"] == 0 and "10 thư" in held["last_error"]
    # A further mail that day also waits (the count comes from the ledger, not from memory).
    extra = queue(store, "ack:extra", [MYHOA], evening)
    assert send_due(store, sender, evening + timedelta(minutes=10), tz=TZ).limited == [extra]
    # Only some recipients over the limit: the others get it, and the report says who did not.
    pair = queue(store, "ack:pair", [MYHOA, MYAN], evening)
    report = send_due(store, sender, evening + timedelta(minutes=20), tz=TZ)
    assert report.sent == [pair] and report.partial[0]["missed"] == [MYHOA]
    assert smtp_sink.messages[-1].rcpt_tos == [MYAN]

    # The next local day begins at 17:00 UTC, on the same UTC date: counted on the office's date.
    report = send_due(store, sender, midnight.astimezone(timezone.utc), tz=TZ)
    assert report.sent == [ids[10], extra]
    assert sum(m.rcpt_tos == [MYHOA] for m in smtp_sink.messages) == 12


def test_an_unexpected_error_is_retried_and_does_not_block_the_rest(store, smtp_sink):
    ids = [queue(store, f"ack:{n}", [MYHOA], T0) for n in range(3)]

    class Buggy(Sender):
        def deliver(self, raw, envelope_from, recipients):
            if make_message_id("ack:1", "thapmuoi.example").encode() in raw:
                raise ValueError("lỗi lập trình")
            return super().deliver(raw, envelope_from, recipients)

    report = send_due(store, Buggy(settings_for(smtp_sink), None), T0, tz=TZ)
    assert report.sent == [ids[0], ids[2]] and report.deferred == [ids[1]]
    assert "ValueError: lỗi lập trình" in row(store, ids[1])["last_error"]
    report = send_due(store, Buggy(settings_for(smtp_sink), None), T0 + timedelta(days=1), tz=TZ)
    assert [g["id"] for g in report.gave_up] == [ids[1]]


def test_should_stop_leaves_the_rest_untouched(store, smtp_sink):
    ids = [queue(store, f"ack:{n}", [MYHOA], T0) for n in range(3)]
    sender = CountingSender(settings_for(smtp_sink), None)
    report = send_due(store, sender, T0, tz=TZ, should_stop=lambda: sender.calls >= 1)
    assert report.sent == ids[:1]
    assert [row(store, i)["status"] for i in ids] == ["sent", "queued", "queued"]
    assert row(store, ids[1])["attempts"] == 0


def test_two_passes_at_once_never_send_a_row_twice(store, smtp_sink, tmp_path):
    """The daemon and `run --once` may work the same outbox at the same time.

    While the first pass delivers row 1, a second process starts a pass: row 1 is leased, so it
    takes row 2, hands it to the server and crashes before recording it. The first pass then
    finds row 2 leased too and leaves it; after the lease the crash window shows: row 2 goes out
    again, with the same Message-ID."""
    ids = [queue(store, f"ack:{n}", [MYHOA], T0) for n in range(4)]
    other_store = Store(tmp_path / "tonghop.db", tmp_path / "archive")

    class Crash(BaseException):
        """The other process dies (a BaseException, as SystemExit: nothing catches it)."""

    class CrashAfterDelivery(Sender):
        def deliver(self, raw, envelope_from, recipients):
            super().deliver(raw, envelope_from, recipients)
            raise Crash()

    class Interleaving(Sender):
        started = False

        def deliver(self, raw, envelope_from, recipients):
            if not self.started:
                self.started = True
                with pytest.raises(Crash):
                    send_due(other_store, CrashAfterDelivery(self.settings, None), T0, tz=TZ)
            return super().deliver(raw, envelope_from, recipients)

    report = send_due(store, Interleaving(settings_for(smtp_sink), None), T0, tz=TZ)
    other_store.close()
    assert report.sent == [ids[0], ids[2], ids[3]]
    assert row(store, ids[1])["status"] == "queued"
    mids = [row(store, i)["message_id"] for i in ids]
    assert received_ids(smtp_sink) == [mids[1], mids[0], mids[2], mids[3]]  # each exactly once

    sender = Sender(settings_for(smtp_sink), None)
    assert send_due(store, sender, T0 + timedelta(minutes=14), tz=TZ) == SendReport()
    assert send_due(store, sender, T0 + timedelta(minutes=16), tz=TZ).sent == [ids[1]]
    assert received_ids(smtp_sink).count(mids[1]) == 2


# --- Sender: authentication, TLS, timeouts, dir: --------------------------------------------


@pytest.mark.parametrize("password", ["Secret-2024", "mật-khẩu-đúng"])  # smtplib alone rejects non-ASCII
def test_auth_with_user_and_password(store, password):
    sink = SmtpSink(user="phongnoivu", password=password)
    sink.start()
    try:
        first = queue(store, "ack:1", [MYHOA], T0)
        good = Sender(settings_for(sink, user="phongnoivu"), password)
        assert send_due(store, good, T0, tz=TZ).sent == [first]
        assert received_ids(sink) == [row(store, first)["message_id"]]

        second = queue(store, "ack:2", [MYHOA], T0)
        for wrong in (Sender(settings_for(sink, user="phongnoivu"), "sai"),
                      Sender(settings_for(sink, user="phongnoivu"), None)):
            with pytest.raises(DeliveryError) as caught:
                wrong.deliver(row(store, second)["raw"], OFFICE, [MYHOA])
            assert caught.value.temporary and caught.value.connection
        report = send_due(store, Sender(settings_for(sink, user="phongnoivu"), "sai"), T0, tz=TZ)
        assert report.deferred == [second]
        assert "từ chối đăng nhập" in row(store, second)["last_error"]
        # No user configured: the server answers 530 at MAIL. That is about the configuration,
        # not this mail: retried later, never a permanent failure of every queued mail.
        with pytest.raises(DeliveryError) as caught:
            Sender(settings_for(sink), None).deliver(row(store, second)["raw"], OFFICE, [MYHOA])
        assert caught.value.connection and caught.value.code == 530 and "yêu cầu đăng nhập" in str(caught.value)
        assert len(sink.messages) == 1
    finally:
        sink.stop()


def test_starttls_required_but_not_offered_is_refused(smtp_sink):
    sender = Sender(settings_for(smtp_sink, scheme="smtp+starttls"), None)
    with pytest.raises(DeliveryError) as caught:
        sender.deliver(b"Subject: x\r\n\r\ny\r\n", OFFICE, [MYHOA])
    assert caught.value.connection and "STARTTLS" in str(caught.value)
    assert smtp_sink.messages == []


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return make_tls_files(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture(params=["smtps", "smtp+starttls"])
def tls_sink(request, tls_files):
    """aiosmtpd with implicit TLS (smtps) or STARTTLS required (smtp+starttls), test CA."""
    _ca, cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = _Handler()
    kwargs = {"ssl_context": context} if request.param == "smtps" else {"tls_context": context, "require_starttls": True}
    controller = Controller(handler, hostname=LOOPBACK, port=free_port(), **kwargs)
    controller.start()
    yield request.param, controller.port, handler
    controller.stop()


def test_tls_delivery_verifies_the_server(tls_sink, tls_files):
    scheme, port, handler = tls_sink
    ca = tls_files[0]
    raw = compose(sender=OFFICE, sender_name=OFFICE_NAME, recipients=[MYHOA], subject="Thử TLS",
                  text="Nội dung.\n", html=None, kind="test", message_id="<tonghop.tls@thapmuoi.example>", date=T0)

    def settings(**changes):
        return settings_for(None, scheme=scheme, port=port, **changes)

    Sender(settings(ca_file=ca), None).deliver(raw, OFFICE, [MYHOA])
    with pytest.raises(DeliveryError) as caught:  # the test CA is not in the system store
        Sender(settings(), None).deliver(raw, OFFICE, [MYHOA])
    assert caught.value.connection and "TLS" in str(caught.value)
    Sender(settings(tls_verify=False), None).deliver(raw, OFFICE, [MYHOA])
    assert [parse(m.raw)["Message-ID"] for m in handler.messages] == ["<tonghop.tls@thapmuoi.example>"] * 2


def test_a_server_that_never_answers_times_out_as_temporary():
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        sender = Sender(settings_for(None, port=port, timeout_seconds=0.3), None)
        with pytest.raises(DeliveryError) as caught:
            sender.deliver(b"Subject: x\r\n\r\ny\r\n", OFFICE, [MYHOA])
        assert caught.value.temporary and caught.value.connection
        assert "không trả lời sau 0.3 giây" in str(caught.value)
    finally:
        listener.close()


def test_refused_connection_is_temporary():
    sender = Sender(settings_for(None, port=free_port()), None)
    with pytest.raises(DeliveryError) as caught:
        sender.deliver(b"Subject: x\r\n\r\ny\r\n", OFFICE, [MYHOA])
    assert caught.value.temporary and caught.value.connection
    assert "Không kết nối được" in str(caught.value)


def test_dir_scheme_writes_each_mail_once(store, tmp_path):
    out = tmp_path / "outbox"
    sender = Sender(settings_for(None, scheme="dir", host=None, path=out), None)
    ids = [queue(store, "ack:1", [MYHOA], T0), queue(store, "ack:2", [MYAN], T0)]
    assert send_due(store, sender, T0, tz=TZ).sent == ids
    files = sorted(out.iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" for f in files)
    for row_id in ids:
        r = row(store, row_id)
        target = out / eml_name(r["raw"])
        assert target.read_bytes() == r["raw"]
        assert r["message_id"].strip("<>") + ".eml" == target.name
        sender.deliver(r["raw"], OFFICE, [MYHOA])  # delivering again changes nothing
    assert sorted(out.iterdir()) == files  # no second copy, no temporary file left behind
    # Ids with characters unsafe in a file name still get distinct, safe names.
    a, b = eml_name(b"Message-ID: <a/b@x>\r\n\r\n"), eml_name(b"Message-ID: <a_b@x>\r\n\r\n")
    assert a != b and "/" not in a


def test_dir_scheme_unwritable_folder_is_a_temporary_failure(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    sender = Sender(settings_for(None, scheme="dir", host=None, path=blocker / "outbox"), None)
    with pytest.raises(DeliveryError) as caught:
        sender.deliver(b"Message-ID: <m@x>\r\n\r\ny\r\n", OFFICE, [MYHOA])
    assert caught.value.temporary and "Không ghi được" in str(caught.value)


def test_long_vietnamese_subject_keeps_every_space():
    from parsers.message import parse_message

    subject = "Đã nhận: UBND xã Mỹ Hòa gửi báo cáo kết quả công tác dân vận năm 2024 và kế hoạch thực hiện năm 2025"
    raw = compose(sender="a@thapmuoi.example", sender_name="Phòng Nội vụ", recipients=["x@thapmuoi.example"],
                  subject=subject, text="t", html=None, kind="ack", message_id="<1@thapmuoi.example>",
                  date=datetime(2024, 10, 15, tzinfo=timezone.utc))
    assert parse_message(raw).subject == subject
    assert email.message_from_bytes(raw, policy=policy.default)["Subject"] == subject
