"""Delivery reports: which recipient failed, and which of our mails it was about."""
import corpus
from parsers.dsn import delivery_failures


def test_rfc3464_report_names_the_failed_recipient():
    failures = delivery_failures(corpus.postfix_dsn("ubnd.myhoa@thapmuoi.example"))
    assert [(f.recipient, f.status) for f in failures] == [("ubnd.myhoa@thapmuoi.example", "5.1.1")]


def test_quoted_message_id_of_the_bounced_mail_is_found():
    raw = corpus.postfix_dsn("ubnd.myhoa@thapmuoi.example").replace(
        b"Subject: Nhac nop bao cao\r\n", b"Subject: Nhac nop bao cao\r\nMessage-ID: <tonghop.abc@thapmuoi.example>\r\n")
    assert delivery_failures(raw)[0].original_message_ids == ("<tonghop.abc@thapmuoi.example>",)


def test_exim_style_bounce_uses_x_failed_recipients():
    assert [f.recipient for f in delivery_failures(corpus.exim_bounce())] == ["nobody@thapmuoi.example"]


def test_delayed_or_delivered_actions_and_garbage_are_not_failures():
    delayed = corpus.postfix_dsn("a@b.example").replace(b"Action: failed", b"Action: delayed").replace(b"5.1.1", b"4.4.1")
    assert delivery_failures(delayed) == ()
    assert delivery_failures(b"\x00\xff garbage") == ()
    assert delivery_failures(corpus.list_mail()) == ()


def test_qmail_failure_notice_and_the_quoted_original_id():
    failures = delivery_failures(corpus.qmail_bounce("ubnd.myhoa@thapmuoi.example", "<tonghop.x@thapmuoi.example>"))
    assert [f.recipient for f in failures] == ["ubnd.myhoa@thapmuoi.example"]
    assert failures[0].original_message_ids == ("<tonghop.x@thapmuoi.example>",)
    assert "no mailbox" in failures[0].diagnostic


def test_a_report_without_the_original_id_does_not_offer_its_own():
    assert delivery_failures(corpus.postfix_dsn("ubnd.myhoa@thapmuoi.example"))[0].original_message_ids == ()
