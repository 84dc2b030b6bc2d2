"""Intake rules (pure): what a message is, which unit, which requirement."""
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from daemon.config_toml import load_config
from daemon.intake.decide import Reading, decide, not_a_submission, unit_for_issuer
from daemon.texts import t
from parsers.model import FACT_NAMES, Attachment, Document, DocumentFacts, Fact, ParsedMessage

CONFIG = load_config(Path(__file__).resolve().parent.parent / "config")
TZ = CONFIG.office.timezone
ON_TIME = datetime(2024, 10, 15, 9, 0, tzinfo=TZ)


def message(sender="ubnd.myhoa@thapmuoi.example", subject="Báo cáo dân vận", headers=(), files=("bc.docx",),
            content_type="multipart/mixed", report_type=None, return_path=None):
    return ParsedMessage(
        message_id="<1@x>", subject=subject, from_addr=sender, from_name="", to=(CONFIG.office.address,),
        date=None, headers=tuple(headers), return_path=return_path, content_type=content_type,
        report_type=report_type, body_text="",
        attachments=tuple(Attachment(f, "application/octet-stream", b"PK..") for f in files),
    )


def facts(**values):
    return DocumentFacts(**{n: Fact(values.get(n), 0.9 if values.get(n) else 0.0) for n in FACT_NAMES})


def doc(filename="bc.docx", text="BÁO CÁO ...", **fact_values):
    return Document(filename=filename, kind="docx", text=text, facts=facts(**fact_values) if fact_values else None)


REPORT = dict(issuer="ỦY BAN NHÂN DÂN XÃ MỸ HÒA", type="BC", number="45/BC-UBND", date="2024-10-15",
              title="Kết quả thực hiện công tác dân vận năm 2024")
PLAN = dict(REPORT, type="KH", number="12/KH-UBND", title="Thực hiện công tác dân vận năm 2024")


@pytest.mark.parametrize("headers,extra,fragment", [
    ([("Auto-Submitted", "auto-replied")], {}, "Auto-Submitted: auto-replied"),
    ([("Precedence", "bulk")], {}, "Precedence: bulk"),
    ([("List-Id", "<tin.thapmuoi.example>")], {}, "danh sách thư"),
    ([("X-Autoreply", "yes")], {}, "trả lời tự động"),
    ([], {"return_path": ""}, "địa chỉ trả về rỗng"),
    ([], {"sender": "MAILER-DAEMON@mx.thapmuoi.example"}, "báo lỗi chuyển phát"),
    ([], {"content_type": "multipart/report", "report_type": "delivery-status"}, "delivery-status"),
    ([], {"sender": "phongnoivu@thapmuoi.example"}, "chính văn phòng"),
    ([("X-Tonghop-Kind", "ack")], {"sender": "ubnd.myhoa@thapmuoi.example"}, "vòng lặp"),
    ([], {"subject": "Automatic reply: Báo cáo"}, "trả lời tự động"),
    ([], {"subject": "Trả lời tự động: Báo cáo dân vận"}, "trả lời tự động"),
])
def test_what_is_not_a_submission(headers, extra, fragment):
    reason = not_a_submission(message(headers=headers, **extra), CONFIG)
    assert reason and fragment.lower() in reason.lower()


def test_a_real_submission_is_not_ignored():
    assert not_a_submission(message(headers=[("Auto-Submitted", "no")]), CONFIG) is None


def test_report_and_plan_from_a_known_unit_are_recorded():
    msg = message(files=("bc.docx", "kh.docx"))
    out = decide(Reading(msg, (doc(**REPORT), doc("kh.docx", **PLAN))), CONFIG, ON_TIME)
    assert out.status == "recorded" and out.unit_id == "xa-my-hoa"
    assert {(s.requirement, s.cycle, s.doc_number) for s in out.submissions} == {
        ("bao-cao", "2024", "45/BC-UBND"), ("ke-hoach", "2024", "12/KH-UBND")}
    assert len(out.attachments) == 2 and out.attachments[0].facts["number"] == "45/BC-UBND"


def test_second_address_of_a_unit_counts_for_it():
    out = decide(Reading(message(sender="VanThu.MyHoa@thapmuoi.example"), (doc(**REPORT),)), CONFIG, ON_TIME)
    assert out.status == "recorded" and out.unit_id == "xa-my-hoa"


def test_unknown_sender_goes_to_review_with_the_suggested_unit():
    out = decide(Reading(message(sender="a@gmail.example"), (doc(**REPORT),)), CONFIG, ON_TIME)
    assert out.status == "review" and "a@gmail.example" in out.reason and "UBND xã Mỹ Hòa" in out.reason
    out = decide(Reading(message(sender="a@gmail.example"), (doc(text="xin chào"),)), CONFIG, ON_TIME)
    assert out.status == "review" and "chưa được khai báo" in out.reason


def test_trusted_issuer_records_for_the_issuing_unit():
    from dataclasses import replace
    trusting = replace(CONFIG, intake=replace(CONFIG.intake, trust_document_issuer=True))
    out = decide(Reading(message(sender="a@gmail.example"), (doc(**REPORT),)), trusting, ON_TIME)
    assert out.status == "recorded" and out.unit_id == "xa-my-hoa" and "cơ quan ban hành" in out.reason


def test_issuer_of_another_unit_goes_to_review_naming_both():
    other = dict(REPORT, issuer="ỦY BAN NHÂN DÂN XÃ TÂN KIỀU")
    out = decide(Reading(message(), (doc(**other),)), CONFIG, ON_TIME)
    assert out.status == "review" and "UBND xã Mỹ Hòa" in out.reason and "TÂN KIỀU" in out.reason


def test_no_attachment_unreadable_and_unmatched_go_to_review():
    out = decide(Reading(message(files=()), ()), CONFIG, ON_TIME)
    assert out.status == "review" and "không có tệp" in out.reason
    unreadable = Document(filename="bc.docx", kind="encrypted-office", text="", problems=("Tệp được đặt mật khẩu",))
    out = decide(Reading(message(), (unreadable,)), CONFIG, ON_TIME)
    assert out.status == "review" and "mật khẩu" in out.reason
    invitation = dict(REPORT, type="GM", title="Mời họp")
    out = decide(Reading(message(), (doc(**invitation),)), CONFIG, ON_TIME)
    assert out.status == "review" and "không văn bản nào khớp" in out.reason


def test_a_report_on_something_else_is_not_counted():
    out = decide(Reading(message(), (doc(**dict(REPORT, title="Kết quả công tác phòng chống thiên tai")),)), CONFIG, ON_TIME)
    assert out.status == "review"


def test_issuer_names_fold_abbreviations_and_tone_placement():
    assert unit_for_issuer("ỦY BAN NHÂN DÂN XÃ MỸ HOÀ", CONFIG).id == "xa-my-hoa"
    assert unit_for_issuer("UBND xã Mỹ Quí", CONFIG).id == "xa-my-quy"
    assert unit_for_issuer("PHÒNG TƯ PHÁP", CONFIG).id == "phong-tu-phap"
    assert unit_for_issuer("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", CONFIG) is None


def test_figures_come_from_the_filled_form_with_problems_per_indicator():
    from tonghop_demo.samples import DAN_VAN_INDICATORS, form_xlsx, report_docx, sample_unit
    from parsers.document import read_document

    unit = CONFIG.unit("xa-my-hoa")
    report = read_document(Attachment("bc.docx", "application/octet-stream",
                                      report_docx(sample_unit(unit), 2024, kind="BC", figures={})))
    values = {i.code: 10 + n for n, i in enumerate(DAN_VAN_INDICATORS)}
    values["DV05"] = "khoảng 97"
    form = read_document(Attachment("bieu-mau.xlsx", "application/octet-stream",
                                    form_xlsx(DAN_VAN_INDICATORS, values, unit_name=unit.name)))
    out = decide(Reading(message(files=("bc.docx", "bieu-mau.xlsx")), (report, form)), CONFIG, ON_TIME)
    assert out.status == "recorded" and [s.requirement for s in out.submissions] == ["bao-cao"]
    got = {f.code: f.value for f in out.figures}
    assert got["DV01"] == 10 and got["DV09"] == 18 and "DV05" not in got
    assert {f.attachment_seq for f in out.figures} == {1}
    assert any("DV05" in p for p in out.attachments[1].problems)


def test_spoofed_unit_address_goes_to_review_when_authentication_is_required():
    from dataclasses import replace
    strict = replace(CONFIG, intake=replace(CONFIG.intake, require_authentication="dmarc",
                                            authserv_ids=("mx.thapmuoi.example",)))
    forged = message(headers=[("Authentication-Results", "mx.thapmuoi.example; dmarc=fail header.from=thapmuoi.example")])
    out = decide(Reading(forged, (doc(**REPORT),)), strict, ON_TIME)
    assert out.status == "review" and "chưa được xác thực" in out.reason and "DMARC" in out.reason
    genuine = message(headers=[("Authentication-Results",
                                "mx.thapmuoi.example; dkim=pass header.d=thapmuoi.example; "
                                "dmarc=pass header.from=thapmuoi.example")])
    assert decide(Reading(genuine, (doc(**REPORT),)), strict, ON_TIME).status == "recorded"
    assert decide(Reading(message(), (doc(**REPORT),)), strict, ON_TIME).status == "review"


def test_the_year_a_document_names_decides_its_cycle():
    january = datetime(2025, 1, 6, 9, 0, tzinfo=TZ)
    late_2024 = dict(REPORT, title="Kết quả thực hiện công tác dân vận năm 2024")
    out = decide(Reading(message(), (doc(**late_2024),)), CONFIG, january)
    assert [(s.requirement, s.cycle) for s in out.submissions] == [("bao-cao", "2024")]
    no_year = dict(REPORT, title="Kết quả thực hiện công tác dân vận")
    assert decide(Reading(message(), (doc(**no_year),)), CONFIG, january).submissions[0].cycle == "2025"
    typo = dict(REPORT, title="Kết quả thực hiện công tác dân vận năm 2014")
    assert decide(Reading(message(), (doc(**typo),)), CONFIG, january).submissions[0].cycle == "2025"


# --- courtesy replies (issue 14, item 5) --------------------------------------------------------

OUR_ID = "<tonghop." + "ab" * 16 + "@thapmuoi.example>"  # outgoing.compose.make_message_id's form
QUOTED = ("\n\n-----Original Message-----\nFrom: phongnoivu@thapmuoi.example\nSubject: Đã nhận: Báo cáo dân vận\n\n"
          "> Kính gửi UBND xã Mỹ Hòa,\n> Phòng Nội vụ đã nhận báo cáo. Đơn vị còn thiếu gì xin gửi bổ sung?\n")


def reply(text, *, files=(), subject="RE: Đã nhận: Báo cáo dân vận", threaded=True, content_type="application/octet-stream"):
    headers = (("In-Reply-To", OUR_ID), ("References", OUR_ID)) if threaded else ()
    msg = replace(message(subject=subject, headers=headers, files=()), body_text=text, content_type="text/plain",
                  attachments=tuple(Attachment(f, content_type, b"PK..") for f in files))
    return msg


@pytest.mark.parametrize("text", [
    "Đã nhận.", "đã nhận được, cảm ơn anh chị ạ!", "Da nhan", "cam on", "Xin cảm ơn.", "Trân trọng cảm ơn Phòng Nội vụ.",
    "OK", "noted", "tks", "Đã nhận được.\n\nTrân trọng.\nNguyễn Văn An\nVăn thư UBND xã Mỹ Hòa" + QUOTED,
    "Đã nhận, cảm ơn." + QUOTED, "", "  \n" + QUOTED,
])
def test_a_courtesy_reply_to_our_mail_is_ignored_with_its_reason(text):
    out = decide(Reading(reply(text), ()), CONFIG, ON_TIME)
    assert (out.status, out.reason) == ("ignored", t("ignored.courtesy"))


def test_a_courtesy_reply_is_known_by_our_subject_when_the_thread_headers_are_gone():
    out = decide(Reading(reply("Đã nhận, cảm ơn.", threaded=False), ()), CONFIG, ON_TIME)
    assert out.status == "ignored"
    out = decide(Reading(reply("Da nhan", threaded=False, subject="TL: Nhắc gửi báo cáo (hạn 20/10/2024)"), ()), CONFIG, ON_TIME)
    assert out.status == "ignored"


@pytest.mark.parametrize("text", [
    "Đã nhận. Cho hỏi hạn nộp là ngày nào?",  # a question: a person answers it
    "Chưa nhận được thư xác nhận.",
    "Đơn vị sẽ gửi báo cáo trước ngày 18/10.",
    "Đã nhận, cảm ơn.\nNguyễn Văn An",  # a name without a closing line: a person decides, as before
])
def test_a_reply_with_more_than_courtesy_still_goes_to_review(text):
    out = decide(Reading(reply(text + QUOTED), ()), CONFIG, ON_TIME)
    assert out.status == "review" and "không có tệp" in out.reason


def test_thanks_that_are_not_in_our_thread_still_go_to_review():
    out = decide(Reading(reply("Cảm ơn.", threaded=False, subject="Cảm ơn"), ()), CONFIG, ON_TIME)
    assert out.status == "review"


def test_a_thank_you_with_a_document_attached_is_still_read_and_recorded():
    msg = reply("Đã nhận, cảm ơn. Gửi lại báo cáo.", files=("bc.docx",))
    out = decide(Reading(msg, (doc(**REPORT),)), CONFIG, ON_TIME)
    assert out.status == "recorded"
    msg = reply("Đã nhận.", files=("bc.docx",))  # only thanks in the text, but a document: it is read
    assert decide(Reading(msg, (doc(**REPORT),)), CONFIG, ON_TIME).status == "recorded"
    # a logo in the signature is not a document; a scan (an image with text read) is
    logo = reply("Đã nhận.", files=("logo.png",), content_type="image/png")
    blank = Document(filename="logo.png", kind="image", text="")
    assert decide(Reading(logo, (blank,)), CONFIG, ON_TIME).status == "ignored"
    scan = Document(filename="scan.png", kind="image", text="BÁO CÁO ...")
    assert decide(Reading(logo, (scan,)), CONFIG, ON_TIME).status != "ignored"
