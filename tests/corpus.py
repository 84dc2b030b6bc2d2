"""Mail as it arrives at the office: unit submissions, and the noise that must never be answered
(out-of-office replies from several clients, delivery reports from several MTAs, list mail),
plus malformed messages. Written here, not captured, so every byte is known."""
from __future__ import annotations

from datetime import datetime

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from tonghop_demo.samples import unit_mail

OFFICE = "phongnoivu@thapmuoi.example"
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")


def submission(sender: str, subject: str, files: list[tuple[str, bytes]], sent: datetime | None = None,
               body: str = "Kính gửi Phòng Nội vụ, đơn vị gửi văn bản đính kèm. Trân trọng.") -> bytes:
    ctype = "/".join(DOCX)
    return unit_mail(sender, OFFICE, subject, body, sent or datetime(2024, 10, 15, 8, 0).astimezone(),
                     [(name, data, ctype) for name, data in files])


def outlook_out_of_office(sender: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: {OFFICE}\r\nSubject: =?utf-8?B?{_b64('Trả lời tự động: Báo cáo dân vận')}?=\r\n"
        f"Message-ID: <oof-{abs(hash(sender))}@thapmuoi.example>\r\nAuto-Submitted: auto-generated\r\n"
        "X-Auto-Response-Suppress: All\r\nX-MS-Exchange-Inbox-Rules-Loop: x@thapmuoi.example\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nTôi đang nghỉ phép đến hết ngày 20/10.\r\n"
    ).encode()


def gmail_vacation(sender: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: {OFFICE}\r\nSubject: Re: Nhac nop bao cao\r\nAuto-Submitted: auto-replied\r\n"
        "Precedence: bulk\r\nX-Autoreply: yes\r\nMessage-ID: <vac-1@gmail.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nCảm ơn, tôi sẽ trả lời sau.\r\n"
    ).encode()


def unmarked_autoreply(sender: str) -> bytes:
    # Some old servers mark nothing but the subject.
    return (
        f"From: {sender}\r\nTo: {OFFICE}\r\nSubject: Out of Office: Bao cao\r\nMessage-ID: <ooo-2@x.example>\r\n"
        "Content-Type: text/plain\r\n\r\nI am away.\r\n"
    ).encode()


def postfix_dsn(original_to: str) -> bytes:
    return (
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.thapmuoi.example (Mail Delivery System)\r\n"
        f"To: {OFFICE}\r\nSubject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n"
        "Message-ID: <dsn-1@mx.thapmuoi.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n\r\n'
        "--B1\r\nContent-Type: text/plain\r\n\r\nThe mail system could not deliver your message.\r\n"
        f"--B1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        f"Final-Recipient: rfc822; {original_to}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--B1\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: Nhac nop bao cao\r\n\r\n--B1--\r\n"
    ).encode()


def exim_bounce() -> bytes:
    # Exim's older style: no multipart/report, a null sender and mailer-daemon.
    return (
        "Return-Path: <>\r\nFrom: Mail Delivery System <Mailer-Daemon@mail.example>\r\n"
        f"To: {OFFICE}\r\nSubject: Mail delivery failed: returning message to sender\r\n"
        "X-Failed-Recipients: nobody@thapmuoi.example\r\nMessage-ID: <exim-1@mail.example>\r\n\r\n"
        "This message was created automatically by mail delivery software.\r\n"
    ).encode()


def list_mail() -> bytes:
    return (
        "From: tin-tuc@baodongthap.example\r\n"
        f"To: {OFFICE}\r\nSubject: =?utf-8?Q?B=E1=BA=A3n_tin?=\r\nList-Id: <tin.baodongthap.example>\r\n"
        "List-Unsubscribe: <mailto:leave@baodongthap.example>\r\nMessage-ID: <list-1@b.example>\r\n\r\nTin tức.\r\n"
    ).encode()


def malformed() -> list[bytes]:
    """Broken MIME, no Content-Type, 8-bit garbage in headers, a 1 MB header."""
    return [
        (b"From: ubnd.myhoa@thapmuoi.example\r\nSubject: vo ranh gioi\r\nMessage-ID: <bad-1@x>\r\n"
         b'Content-Type: multipart/mixed; boundary="NEVER"\r\n\r\n--WRONG\r\nhello\r\n'),
        b"From: ubnd.myhoa@thapmuoi.example\r\nMessage-ID: <bad-2@x>\r\n\r\nkhong co content-type\r\n",
        (b"From: \xff\xfe\xc3\x28 <ubnd.myhoa@thapmuoi.example>\r\nSubject: \x80\x81\x82 b\xe1o c\xe1o\r\n"
         b"Message-ID: <bad-3@x>\r\n\r\nrac\r\n"),
        (b"From: ubnd.myhoa@thapmuoi.example\r\nMessage-ID: <bad-4@x>\r\nX-Huge: " + b"a" * 1_048_576
         + b"\r\nSubject: dau thu to\r\n\r\nbody\r\n"),
    ]


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


# --- More noise: delivery reports from other MTAs, replies to our own mail, our own mail ------
# Each report can name the mail it is about (its Message-ID), as the real ones do, so a test can
# make a report about one of our reminders or about someone else's mail.


def exchange_ndr(original_to: str, original_id: str, original_subject: str = "Nhắc gửi báo cáo") -> bytes:
    """Exchange Online / Exchange 2016+ non-delivery report: multipart/report with a
    delivery-status part and the original headers, threaded to the original (In-Reply-To)."""
    subject = _b64("Không gửi được: " + original_subject)
    return (
        "From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@thapmuoi.example>\r\n"
        f"To: {OFFICE}\r\nSubject: =?utf-8?B?{subject}?=\r\n"
        "Date: Mon, 14 Oct 2024 08:10:02 +0700\r\nMessage-ID: <a1b2c3d4-ndr@SG2PR06MB1234.apcprd06.prod.outlook.example>\r\n"
        f"In-Reply-To: {original_id}\r\nReferences: {original_id}\r\n"
        "X-MS-Exchange-Message-Is-Ndr:\r\nContent-Language: vi-VN\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="ndr-b"\r\n\r\n'
        "--ndr-b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"Không gửi được thư tới {original_to}.\r\n"
        "Không tìm thấy địa chỉ người nhận. Hãy kiểm tra lại địa chỉ thư.\r\n\r\n"
        "--ndr-b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns;SG2PR06MB1234.apcprd06.prod.outlook.example\r\n"
        "Received-From-MTA: dns;mail.thapmuoi.example\r\nArrival-Date: Mon, 14 Oct 2024 01:10:01 +0000\r\n\r\n"
        f"Final-Recipient: rfc822;{original_to}\r\nAction: failed\r\nStatus: 5.1.10\r\n"
        "Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\r\n\r\n"
        "--ndr-b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {OFFICE}\r\nTo: {original_to}\r\nSubject: {original_subject}\r\nMessage-ID: {original_id}\r\n"
        "Auto-Submitted: auto-generated\r\n\r\n--ndr-b--\r\n"
    ).encode()


def gmail_dsn(original_to: str, original_id: str, original_subject: str = "Nhắc gửi báo cáo") -> bytes:
    """Gmail's "Delivery Status Notification (Failure)": mailer-daemon@googlemail.com,
    X-Failed-Recipients, and the whole original message attached as message/rfc822."""
    return (
        "Return-Path: <>\r\nFrom: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\n"
        f"To: {OFFICE}\r\nX-Failed-Recipients: {original_to}\r\nAuto-Submitted: auto-replied\r\n"
        "Subject: Delivery Status Notification (Failure)\r\nMessage-ID: <5f7e9c2a.0a1b@mx.google.example>\r\n"
        "Date: Mon, 14 Oct 2024 01:12:00 -0700\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; boundary="gm-b"; report-type=delivery-status\r\n\r\n'
        "--gm-b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
        "** Address not found **\r\n\r\nYour message wasn't delivered to "
        f"{original_to} because the address couldn't be found, or is unable to receive mail.\r\n\r\n"
        "--gm-b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; googlemail.com\r\n"
        "Arrival-Date: Mon, 14 Oct 2024 01:11:58 -0700 (PDT)\r\n\r\n"
        f"Final-Recipient: rfc822; {original_to}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Remote-MTA: dns; mx.thapmuoi.example. (203.0.113.5, the server for the domain thapmuoi.example.)\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <" + original_to + ">: Recipient address rejected: User unknown\r\n"
        "Last-Attempt-Date: Mon, 14 Oct 2024 01:12:00 -0700 (PDT)\r\n\r\n"
        "--gm-b\r\nContent-Type: message/rfc822\r\n\r\n"
        f"From: {OFFICE}\r\nTo: {original_to}\r\nSubject: {original_subject}\r\nMessage-ID: {original_id}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nKính gửi quý đơn vị.\r\n\r\n--gm-b--\r\n"
    ).encode()


def qmail_bounce(original_to: str, original_id: str) -> bytes:
    """qmail's plain-text "failure notice": no report part, the address in angle brackets
    followed by a colon, the original mail copied below a marker line."""
    return (
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mail.thapmuoi.example\r\n"
        f"To: {OFFICE}\r\nSubject: failure notice\r\nMessage-ID: <20241014011500.qmail@mail.thapmuoi.example>\r\n"
        "Date: 14 Oct 2024 01:15:00 -0000\r\n\r\n"
        "Hi. This is the qmail-send program at mail.thapmuoi.example.\r\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
        f"<{original_to}>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
        "--- Below this line is a copy of the message.\r\n\r\n"
        f"Return-Path: <{OFFICE}>\r\nFrom: {OFFICE}\r\nTo: {original_to}\r\nMessage-ID: {original_id}\r\n"
        "Subject: Nhac gui bao cao\r\n\r\nKinh gui quy don vi.\r\n"
    ).encode()


def reply_to_ours(sender: str, original_id: str, original_subject: str, original_body: str,
                  files: list[tuple[str, bytes]] = (), text: str = "Đơn vị đã nhận được thư nhắc.") -> bytes:
    """A unit's reply to one of our mails, Outlook style: "RE:" subject, threaded, our mail quoted
    below the answer (with its header lines as text). With files, the unit answered the reminder
    by attaching its report, which is a real submission."""
    quoted = "\n".join("> " + line for line in original_body.splitlines())
    body = (f"{text}\n\nTrân trọng.\n\n-----Original Message-----\nFrom: {OFFICE}\n"
            f"Subject: {original_subject}\nX-Tonghop-Kind: reminder\nAuto-Submitted: auto-generated\n\n{quoted}\n")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = OFFICE
    msg["Subject"] = "RE: " + original_subject
    msg["Date"] = format_datetime(datetime(2024, 10, 14, 8, 30).astimezone())
    msg["Message-ID"] = make_msgid(domain="thapmuoi.example")
    msg["In-Reply-To"] = original_id
    msg["References"] = original_id
    msg["Thread-Topic"] = original_subject
    msg.set_content(body)
    for name, data in files:
        msg.add_attachment(data, maintype=DOCX[0], subtype=DOCX[1], filename=name)
    return msg.as_bytes()


def from_ourselves(address: str = OFFICE) -> bytes:
    """Mail from the office's own address (a clerk testing, or our own mail redirected back)."""
    return (
        f"From: {address}\r\nTo: {OFFICE}\r\nSubject: =?utf-8?B?{_b64('Thử hộp thư')}?=\r\n"
        "Message-ID: <self-1@thapmuoi.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThử.\r\n"
    ).encode()


def marked_as_ours(sender: str) -> bytes:
    """One of our reminders redirected back by a unit's server: the From rewritten to the unit,
    Auto-Submitted stripped, but our X-Tonghop-Kind header kept."""
    return (
        f"From: {sender}\r\nTo: {OFFICE}\r\nSubject: =?utf-8?B?{_b64('Nhắc gửi báo cáo')}?=\r\n"
        "Message-ID: <tonghop.0123456789abcdef0123456789abcdef@thapmuoi.example>\r\n"
        "X-Tonghop-Kind: reminder\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nKính gửi quý đơn vị.\r\n"
    ).encode()
