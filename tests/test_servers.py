"""The test servers themselves: other tests rely on restart, AUTH and clear start errors."""
from __future__ import annotations

import smtplib
import socket
from datetime import datetime, timezone

import pytest

from servers import Dovecot, SmtpSink


def send(sink: SmtpSink, raw: bytes, login: tuple[str, str] | None = None) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
        if login:
            smtp.login(*login)
        smtp.sendmail("noivu@thapmuoi.gov.vn", ["xa-my-hoa@thapmuoi.gov.vn"], raw)


def test_smtp_sink_keeps_mail_and_survives_a_restart(smtp_sink):
    raw = "Subject: Nhắc nộp báo cáo\r\n\r\nKính gửi đơn vị.\r\n".encode()
    send(smtp_sink, raw)
    [got] = smtp_sink.messages
    assert got.login is None
    assert got.mail_from == "noivu@thapmuoi.gov.vn"
    assert got.rcpt_tos == ["xa-my-hoa@thapmuoi.gov.vn"]
    assert got.raw.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    port = smtp_sink.port
    smtp_sink.stop()
    with pytest.raises(OSError):
        send(smtp_sink, raw)
    smtp_sink.start()
    assert smtp_sink.port == port
    send(smtp_sink, raw)
    assert len(smtp_sink.messages) == 2


def test_smtp_sink_with_auth():
    sink = SmtpSink(user="tonghop", password="mat-khau-42")
    sink.start()
    try:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            send(sink, b"Subject: x\r\n\r\nx\r\n", ("tonghop", "sai"))
        with pytest.raises(smtplib.SMTPSenderRefused):
            send(sink, b"Subject: x\r\n\r\nx\r\n")  # AUTH is required
        send(sink, b"Subject: x\r\n\r\nx\r\n", ("tonghop", "mat-khau-42"))
        assert [m.login for m in sink.messages] == ["tonghop"]
    finally:
        sink.stop()


def test_dovecot_restart_keeps_ports_and_mail(dovecot_server, imap_account):
    uid = imap_account.append(b"Subject: x\r\n\r\nx\r\n", datetime(2024, 10, 1, tzinfo=timezone.utc))
    ports = (dovecot_server.port, dovecot_server.tls_port)
    dovecot_server.restart()
    assert (dovecot_server.port, dovecot_server.tls_port) == ports
    assert imap_account.list_uids() == [uid]
    assert imap_account.list_uids("Đã xử lý") == []  # absent folder: empty, for polling
    assert imap_account.messages("Đã xử lý") == {}
    dovecot_server.stop()
    with pytest.raises(OSError):
        socket.create_connection((dovecot_server.host, dovecot_server.port), timeout=2).close()
    dovecot_server.start()
    assert imap_account.list_uids() == [uid]


def test_dovecot_errors_are_clear(tmp_path):
    with pytest.raises(RuntimeError, match="apt-get install dovecot-imapd"):
        Dovecot(binary=str(tmp_path / "no-dovecot"))
    broken = Dovecot()
    try:
        broken.config_file.write_text(broken.config_file.read_text() + "no_such_setting = 1\n")
        with pytest.raises(RuntimeError, match="(?s)did not start.*no_such_setting"):
            broken.start()
        assert not broken.running
    finally:
        broken.close()
    assert not broken.root.exists()
