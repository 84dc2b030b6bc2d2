"""The story `tonghop demo` tells: one reporting cycle of the Tháp Mười case (the seed letter: each
unit sends its plan and its report on mass-mobilisation work before 20 October), from the opening
notice on 30 September to after the deadline, as the office's mailbox sees it.

This module is data and small builders only: the moments the demo stops at (`MOMENTS`), and each
mail with the time the mail server received it (`arrivals`). Mail is built lazily, when the demo
delivers it, because a reply quotes the reminder it answers and two documents need LibreOffice.
Documents come from tonghop_demo/samples.py in every form units really use; subjects and bodies are
written the way clerks write them. daemon/demo.py plays the story against the real service.
"""
from __future__ import annotations

import email
import io
import random
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

from daemon.config import Config
from daemon.texts import TYPE_NAMES
from tonghop_demo import samples

YEAR = 2024
TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # the example config's office time; the story is told in it
CTYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}

# Who does what: the story below follows these, and the test that checks the outcome reads them.
NEVER_SEND = ("phong-y-te", "xa-lang-bien", "phong-kinh-te-ha-tang")
LATE = "ban-qlda"
UNKNOWN_SENDER = "vanphongxatankieu@gmail.example"  # Tân Kiều's clerk, from a personal address
AUTO_REPLIER = "truongphong.yte@thapmuoi.example"  # Phòng Y tế's head, on leave: his auto-reply
TAN_KIEU_DATE = date(YEAR, 10, 11)  # its report, sent twice: first from Gmail, then officially


def at(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    return datetime(YEAR, month, day, hour, minute, tzinfo=TZ)


@dataclass(frozen=True)
class Moment:
    """A moment the demo stops at: the mail that arrived by then is delivered, then one pass runs."""

    at: datetime
    title: str


MOMENTS = (
    Moment(at(30, 8, 5, month=9), "20 ngày trước hạn: tonghop gửi thư triển khai tới từng đơn vị, dẫn Công văn "
                                  "số 1234/UBND-NV, kèm công văn và biểu mẫu số liệu."),
    Moment(at(1, 8), "Đầu tháng 10: Phòng Nội vụ mở hộp thư, vài đơn vị đã gửi ngay sau thư triển khai."),
    Moment(at(8, 17), "Tuần đầu: văn bản gửi về bằng nhiều cách: tệp nén, thư chuyển tiếp, biểu số liệu, phông cũ."),
    Moment(at(11, 8, 5), "Còn 7 ngày đến hạn: tonghop tự nhắc những đơn vị còn thiếu văn bản."),
    Moment(at(15, 10), "Sau thư nhắc, thư về dồn dập, có cả thư cần người xem và thư trả lời tự động."),
    Moment(at(17, 8, 5), "Còn 3 ngày đến hạn: nhắc lần hai, chỉ những đơn vị còn thiếu."),
    Moment(at(18, 8, 5), "Thứ Sáu 18/10, ngày làm việc cuối trước hạn: nhắc lần cuối."),
    Moment(at(20, 7), "Hết hạn nộp (0 giờ ngày 20/10): tonghop viết dự thảo báo cáo tổng hợp, gửi cán bộ."),
    Moment(at(21, 8, 5), "Sau hạn: đôn đốc đơn vị chưa nộp; một báo cáo trễ hạn làm ra dự thảo bản 2."),
    Moment(at(24, 8, 5), "Năm ngày sau hạn: đôn đốc lần hai, lời lẽ kiên quyết hơn, những đơn vị vẫn chưa nộp; "
                         "thư gửi xã Láng Biển đồng gửi Chủ tịch UBND xã."),
)


@dataclass(frozen=True)
class Arrival:
    """One mail, as the office's mail server receives it at `at`."""

    at: datetime
    sender: str
    build: Callable[[], bytes | None]  # None: cannot be made here (no LibreOffice)
    expect: str = "recorded"  # what the service should decide: recorded | review | ignored
    unit: str | None = None  # the unit it is from, when it is from a configured address
    note: str = ""  # a line of the story when it arrives
    needs_office: bool = False  # made with LibreOffice (a PDF or a legacy .doc)
    skipped: str = ""  # the line of the story when it cannot be made


def plain(text: str) -> str:
    """Vietnamese without diacritics, as many clerks type subjects and file names."""
    text = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c))


class Mailroom:
    """Builds the units' mail: documents in the forms units send, subjects and bodies as clerks
    write them. `outbox` is where the service writes its mail, so a reply can quote a reminder."""

    def __init__(self, config: Config, outbox: Path):
        self.config, self.outbox = config, outbox
        self.office = config.office.address
        self._converter = None

    # -- documents --------------------------------------------------------------------------

    def convert(self, data: bytes, target: str) -> bytes | None:
        """A generated .docx as .pdf or .doc through LibreOffice; None when it cannot be done."""
        from parsers.convert import ConversionError, Converter

        if self._converter is None:
            self._converter = Converter(timeout=self.config.limits.convert_timeout_seconds)
        if not self._converter.has_office:
            return None
        try:
            return self._converter.convert(data, ".docx", target)
        except ConversionError:
            return None

    def document(self, unit_id: str, kind: str, fmt: str = "docx", *, sent: datetime | None = None,
                 report_date: date | None = None, **options) -> tuple[str, bytes, str] | None:
        """One of the unit's documents as an attachment (name, bytes, type). A report is dated
        `report_date`, or a few days before it is `sent`; a plan keeps the date early in the year
        that samples gives it."""
        unit = self.config.unit(unit_id)
        rng = random.Random(f"file:{unit_id}:{kind}")
        if kind == "BC" and (report_date or sent):
            options["date"] = report_date or (sent - timedelta(days=rng.randint(0, 3))).date()
        data = samples.report_docx(unit, YEAR, kind=kind, **options)
        if fmt != "docx":
            data = self.convert(data, fmt)
            if data is None:
                return None
        short = plain(unit.name).removeprefix("UBND ").title().replace(" ", "")
        name = rng.choice((
            f"{kind} dan van {YEAR}.{fmt}",
            f"{TYPE_NAMES[kind]} công tác dân vận năm {YEAR}.{fmt}",
            f"{kind}_DanVan_{YEAR}_{short}.{fmt}",
        ))
        if options.get("nfd"):
            name = unicodedata.normalize("NFD", name)  # a Mac's mail client sends names decomposed
        return name, data, CTYPES[fmt]

    # -- mail -------------------------------------------------------------------------------

    def mail(self, unit_id: str, sent: datetime, files: list, kinds=("KH", "BC"), *, sender: str | None = None,
             subject: str | None = None, body: str | None = None, headers: dict | None = None) -> bytes:
        unit = self.config.unit(unit_id)
        what = {("KH",): "Kế hoạch thực hiện", ("BC",): "Báo cáo kết quả thực hiện"}.get(
            tuple(kinds), "Kế hoạch và Báo cáo kết quả thực hiện") + f" công tác dân vận năm {YEAR}"
        rng = random.Random(f"mail:{unit_id}:{sent.isoformat()}")
        subject = subject or rng.choice((
            f"V/v gửi {what}",
            f"{unit.name} gửi {what}",
            f"{what} - {unit.name}",
            plain(f"Gửi {' và '.join(kinds)} dân vận năm {YEAR} - {unit.name}"),
        ))
        clerk = samples.sample_unit(unit).deputy if rng.random() < 0.3 else _clerk(rng)
        body = body or rng.choice((
            (f"Kính gửi: Phòng Nội vụ huyện Tháp Mười.\n\nThực hiện Công văn số {samples.SEED_LETTER[0]} ngày "
             f"{samples.SEED_LETTER[1]} của Ủy ban nhân dân huyện, {unit.name} gửi {what} (tệp đính kèm).\n\n"
             f"Trân trọng./.\n\n--\n{clerk}\nVăn thư - {unit.name}\n"),
            (f"Dạ kính gửi anh/chị Phòng Nội vụ,\n\nEm gửi {what} của {unit.name}. Anh/chị nhận giúp em ạ.\n\n"
             f"Em cảm ơn!\n{clerk}\n"),
            (f"Kính gửi Phòng Nội vụ,\n\n{unit.name} xin gửi {what}. Bản giấy có chữ ký, đóng dấu sẽ gửi qua "
             f"đường văn thư.\n\nTrân trọng.\n"),
        ))
        # Date: is when the clerk pressed Send; the server's arrival time (what counts) comes later.
        return samples.unit_mail(sender or unit.emails[0], self.office, subject, body, sent - timedelta(seconds=40),
                                 files, headers)

    def our_mail(self, kind: str, to: str) -> email.message.EmailMessage | None:
        """The newest mail of this kind the service sent to `to` (read back from the outbox)."""
        found = []
        for path in self.outbox.glob("*.eml"):
            msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if str(msg["X-Tonghop-Kind"]) == kind and to in str(msg["To"]).lower():
                found.append((msg["Date"].datetime, msg))
        return max(found, key=lambda f: f[0])[1] if found else None


def _clerk(rng: random.Random) -> str:
    return " ".join(rng.choice(names) for names in (("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ"),
                                                    ("Thị", "Ngọc", "Văn", "Thanh"),
                                                    ("Hạnh", "Thảo", "Tâm", "Phúc", "Mai", "Lộc")))


def arrivals(config: Config, outbox: Path) -> list[Arrival]:
    """Every mail of the story, in the order the mail server receives them."""
    room = Mailroom(config, outbox)
    out: list[Arrival] = []

    def send(when: datetime, unit_id: str, kinds=("KH", "BC"), *, note="", fmt=None, header=None, **options):
        """A unit's mail with its plan and/or report, each a .docx unless fmt says otherwise."""
        fmt = fmt or {}
        style = header or ("table", "table", "paragraphs", "stacked")[len(out) % 4]

        def build():
            files = [room.document(unit_id, k, fmt.get(k, "docx"), sent=when, header=style, **options) for k in kinds]
            return None if None in files else room.mail(unit_id, when, files, kinds)

        office = any(f in ("pdf", "doc") for f in fmt.values())
        skipped = (f"Không tạo được tệp {', '.join('.' + f for f in fmt.values())} (cần LibreOffice): "
                   f"bỏ qua thư của {config.unit(unit_id).name}.") if office else ""
        out.append(Arrival(when, config.unit(unit_id).emails[0], build, unit=unit_id, note=note,
                           needs_office=office, skipped=skipped))

    def custom(when: datetime, sender: str, build, **kwargs):
        out.append(Arrival(when, sender, build, **kwargs))

    # -- before 1 October: the early ones --------------------------------------------------------
    send(at(30, 15, 20, month=9), "van-phong", header="table")
    send(at(30, 16, 45, month=9), "phong-tu-phap", ("BC",), note="Phòng Tư pháp gửi báo cáo nhưng quên kế hoạch.")
    clerk_of_my_hoa = config.unit("xa-my-hoa").emails[-1]  # its second configured address
    custom(at(1, 7, 10), clerk_of_my_hoa, lambda: room.mail(
        "xa-my-hoa", at(1, 7, 10), [room.document("xa-my-hoa", k, sent=at(1, 7, 10), header="paragraphs")
                                    for k in ("KH", "BC")], sender=clerk_of_my_hoa), unit="xa-my-hoa",
        note="Xã Mỹ Hòa gửi từ địa chỉ của văn thư (địa chỉ thứ hai đã khai báo); phần đầu văn bản "
             "gõ bằng phím Tab thay vì kẻ bảng.")

    # -- first week: every way a document travels -------------------------------------------------
    send(at(2, 9, 30), "xa-thanh-loi", header="stacked")

    def zipped():
        files = [room.document("xa-my-quy", k, sent=at(3, 14, 5)) for k in ("KH", "BC")]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data, _ in files:
                z.writestr(name, data)
        return room.mail("xa-my-quy", at(3, 14, 5), [(f"HoSo_DanVan_{YEAR}_MyQuy.zip", buf.getvalue(), CTYPES["zip"])],
                         subject=f"Xã Mỹ Quý gửi hồ sơ công tác dân vận năm {YEAR} (file nén)")
    custom(at(3, 14, 5), config.unit("xa-my-quy").emails[0], zipped, unit="xa-my-quy",
           note="Xã Mỹ Quý gửi kế hoạch và báo cáo trong một tệp .zip.")

    def forwarded():
        pgd = config.unit("phong-giao-duc")
        files = [room.document("phong-giao-duc", k, sent=at(4, 10, 12)) for k in ("KH", "BC")]
        inner = room.mail("phong-giao-duc", at(4, 10, 12), files, sender="chuyenvien.pgddt@thapmuoi.example",
                          subject=f"Báo cáo dân vận năm {YEAR} của Phòng GD&ĐT (bản trình ký)",
                          body="Chị văn thư gửi giúp em kế hoạch, báo cáo dân vận về Phòng Nội vụ nhé. Cảm ơn chị!\n")
        outer = email.message_from_bytes(room.mail(
            "phong-giao-duc", at(4, 14, 30), [],
            subject=f"Fwd: Báo cáo dân vận năm {YEAR} của Phòng GD&ĐT (bản trình ký)",
            body=f"Kính gửi Phòng Nội vụ,\n\n{pgd.name} chuyển tiếp kế hoạch và báo cáo công tác dân vận năm {YEAR} "
                 f"(thư gốc đính kèm).\n\nTrân trọng.\n"), policy=policy.default)
        outer.add_attachment(email.message_from_bytes(inner, policy=policy.default))
        return outer.as_bytes()
    custom(at(4, 14, 30), config.unit("phong-giao-duc").emails[0], forwarded, unit="phong-giao-duc",
           note="Phòng Giáo dục và Đào tạo chuyển tiếp thư của chuyên viên (thư gốc đính kèm trong thư).")

    def with_form():
        unit = config.unit("phong-lao-dong")
        # The report without its appendix table: the figures come in the campaign's form instead.
        files = [room.document("phong-lao-dong", "KH"),
                 room.document("phong-lao-dong", "BC", sent=at(7, 9, 40), figures={})]
        values = {"DV01": 7, "DV02": 146, "DV03": 2, "DV04": 612, "DV05": 98.7, "DV06": 24, "DV07": 11,
                  "DV08": 10, "DV09": 4}
        files.append((f"Bieu so lieu dan van {YEAR} - LDTBXH.xlsx",
                      samples.form_xlsx(values=values, unit_name=unit.name), CTYPES["xlsx"]))
        return room.mail("phong-lao-dong", at(7, 9, 40), files)
    custom(at(7, 9, 40), config.unit("phong-lao-dong").emails[0], with_form, unit="phong-lao-dong",
           note="Phòng Lao động - Thương binh và Xã hội gửi kèm biểu số liệu .xlsx đã điền.")
    send(at(7, 15, 55), "tt-van-hoa-the-thao", legacy="vni",
         note="Trung tâm Văn hóa - Thể thao và Truyền thanh gửi tệp gõ phông VNI-Times.")
    send(at(8, 10, 20), "phong-van-hoa")

    # -- up to the first reminder -----------------------------------------------------------------
    send(at(9, 16, 10), "phong-tai-chinh-ke-hoach", fmt={"BC": "pdf"},
         note="Phòng Tài chính - Kế hoạch gửi báo cáo dạng PDF.")
    send(at(10, 8, 30), "xa-hung-thanh")
    send(at(10, 14, 0), "tt-my-an", legacy="tcvn3", note="Thị trấn Mỹ An gửi tệp .docx gõ phông TCVN3 (.VnTime).")
    send(at(11, 7, 45), "phong-nong-nghiep")

    # -- after the first reminder ------------------------------------------------------------------
    def auto_reply():
        reminder = room.our_mail("reminder", config.unit("phong-y-te").emails[0])
        subject = str(reminder["Subject"]) if reminder else "Nhắc gửi kế hoạch, báo cáo"
        head = samples.sample_unit(config.unit("phong-y-te")).head
        headers = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
        if reminder is not None:
            headers["In-Reply-To"] = str(reminder["Message-ID"])
        return samples.unit_mail(
            f"{head} <{AUTO_REPLIER}>", config.office.address, f"Trả lời tự động: {subject}",
            "Tôi đang đi công tác tại Sở Y tế đến hết ngày 18/10/2024. Việc gấp xin liên hệ Phó Trưởng phòng.\n",
            at(11, 8, 6), headers=headers)
    custom(at(11, 8, 6), AUTO_REPLIER, auto_reply, expect="ignored",
           note="Thư nhắc gửi Phòng Y tế được chuyển tới Trưởng phòng đang đi công tác; hộp thư của ông tự động "
                "trả lời (tonghop bỏ qua, không trả lời lại).")
    send(at(11, 10, 30), "xa-truong-xuan", fmt={"BC": "doc"}, legacy="tcvn3",
         note="Xã Trường Xuân gửi báo cáo dạng .doc (Word 97-2003) gõ phông TCVN3.")

    def reply_to_reminder():
        reminder = room.our_mail("reminder", config.unit("phong-tu-phap").emails[0])
        subject = f"Re: {reminder['Subject']}" if reminder else f"Gửi bổ sung kế hoạch dân vận năm {YEAR}"
        headers = {"In-Reply-To": str(reminder["Message-ID"])} if reminder else None
        return room.mail("phong-tu-phap", at(11, 14, 20), [room.document("phong-tu-phap", "KH")], ("KH",),
                         subject=subject, headers=headers,
                         body="Kính gửi Phòng Nội vụ,\n\nPhòng Tư pháp gửi bổ sung Kế hoạch thực hiện công tác "
                              f"dân vận năm {YEAR}.\n\nTrân trọng.\n")
    custom(at(11, 14, 20), config.unit("phong-tu-phap").emails[0], reply_to_reminder, unit="phong-tu-phap",
           note="Phòng Tư pháp trả lời thư nhắc, gửi bổ sung kế hoạch.")
    custom(at(14, 9, 15), UNKNOWN_SENDER, lambda: samples.unit_mail(
        UNKNOWN_SENDER, config.office.address, "Gui bao cao dan van xa Tan Kieu",
        "Dạ mail cơ quan bị lỗi nên em gửi tạm bằng mail cá nhân ạ.\n", at(14, 9, 15),
        [room.document("xa-tan-kieu", "BC", report_date=TAN_KIEU_DATE)]), expect="review",
        note="Văn thư xã Tân Kiều gửi từ địa chỉ Gmail cá nhân: chuyển cán bộ xem xét, không tự ghi nhận.")
    send(at(14, 10, 5), "xa-my-dong")
    send(at(14, 15, 40), "xa-doc-binh-kieu")
    send(at(15, 7, 50), "thanh-tra")
    send(at(15, 8, 35), "phong-tai-nguyen-moi-truong")
    send(at(15, 9, 20), "tt-gdnn-gdtx", typos=True,
         note="Trung tâm GDNN-GDTX gửi văn bản có lỗi gõ («tháng10», «kết qủa»).")

    # -- the last days ---------------------------------------------------------------------------
    send(at(16, 10, 10), "xa-my-an")
    send(at(16, 16, 30), "tt-dich-vu-nong-nghiep", nfd=True,
         note="Trung tâm Dịch vụ nông nghiệp gửi từ máy Mac (tên tệp và nội dung ở dạng Unicode tổ hợp NFD).")
    send(at(17, 14, 20), "xa-tan-kieu", report_date=TAN_KIEU_DATE,
         note="Xã Tân Kiều gửi lại từ địa chỉ chính thức sau thư nhắc.")
    send(at(17, 16, 45), "xa-phu-dien")
    send(at(19, 21, 30), "xa-thanh-my", note="Xã Thanh Mỹ gửi tối thứ Bảy 19/10, vẫn đúng hạn.")

    # -- after the deadline ---------------------------------------------------------------------
    send(at(21, 7, 40), LATE, note="Ban Quản lý dự án đầu tư xây dựng gửi trễ hạn (sáng 21/10).")
    return sorted(out, key=lambda a: a.at)
