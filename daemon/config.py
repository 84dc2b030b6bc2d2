"""Configuration as frozen, typed objects: the office, mailbox, SMTP, storage, units, campaigns.

daemon/config_toml.py reads config/settings.toml, units.toml and campaigns/*.toml into these
(load_config) and says every problem; everything else in the service only reads them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from parsers.model import Limits

UNIT_KINDS = {
    "department": "cơ quan chuyên môn",
    "service_unit": "đơn vị sự nghiệp",
    "commune": "xã",
    "town": "thị trấn",
}


class ConfigError(Exception):
    """Raised with every problem found; str() is the Vietnamese list for the admin."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class OfficeCalendar:
    """The office's working days, for every campaign: the country's public holidays (the
    `holidays` package) plus the office's own days off, minus its make-up working Saturdays."""

    country: str = "VN"  # `holidays.country_holidays` code; "" for no public holidays
    days_off: frozenset[date] = frozenset()  # extra days off (bridges the package lacks, local ones)
    working_saturdays: frozenset[date] = frozenset()  # "ngày làm bù": a Saturday worked as a weekday


@dataclass(frozen=True)
class Office:
    name: str  # "Phòng Nội vụ huyện Tháp Mười"
    parent_body: str  # "ỦY BAN NHÂN DÂN HUYỆN THÁP MƯỜI"
    issuer: str  # "PHÒNG NỘI VỤ"
    place: str  # "Tháp Mười"
    address: str  # the office's own mailbox address: never answered, never mailed
    other_addresses: tuple[str, ...]  # more addresses of ours (aliases)
    staff: tuple[str, ...]  # who receives notices, digests and drafts
    timezone: ZoneInfo
    calendar: OfficeCalendar = OfficeCalendar()
    # Who units call about this mail: the signature of every mail ([office] contact_*).
    contact_name: str = ""  # "Nguyễn Thị Lan"
    contact_title: str = ""  # "chuyên viên Phòng Nội vụ"
    contact_phone: str = ""  # "0277 3826 123"
    contact_email: str = ""  # "" means the office's address

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset((self.address, *self.other_addresses))


@dataclass(frozen=True)
class OAuth2Settings:
    """Where an OAuth2 access token comes from ([mailbox]/[smtp] auth = "oauth2"): one of the two."""

    token_command: str | None = None
    token_file: Path | None = None


@dataclass(frozen=True)
class MailboxSettings:
    url: str
    scheme: str  # "imap" | "imaps" | "imap+starttls" | "maildir"
    host: str | None
    port: int | None
    user: str | None
    folder: str
    path: Path | None
    processed_folder: str
    review_folder: str
    timeout_seconds: float
    poll_seconds: float
    idle_renew_seconds: float
    batch_size: int
    tls_verify: bool
    ca_file: Path | None
    oauth2: OAuth2Settings | None = None  # None: log in with the password


@dataclass(frozen=True)
class SmtpSettings:
    url: str
    scheme: str  # "smtp" | "smtps" | "smtp+starttls" | "dir"
    host: str | None
    port: int | None
    user: str | None
    path: Path | None
    sender: str  # From: of every mail we send
    sender_name: str
    timeout_seconds: float
    tls_verify: bool
    ca_file: Path | None
    oauth2: OAuth2Settings | None = None  # None: log in with the password


@dataclass(frozen=True)
class Storage:
    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / "tonghop.db"

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive"


@dataclass(frozen=True)
class IntakeSettings:
    # When True, a message from an unknown address whose document clearly names a unit as its
    # issuer is recorded for that unit; when False (default) it goes to review.
    trust_document_issuer: bool = False
    # "off", "dmarc" or "any": which verdict of the office's mail server (Authentication-Results)
    # a message needs before it counts for a unit; see docs/spoofing.md.
    require_authentication: str = "off"
    authserv_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class WebSettings:
    """[web] in settings.toml: where `tonghop web` listens and where its accounts and session key are."""

    host: str = "127.0.0.1"
    port: int = 8088
    accounts_file: Path = Path("accounts.toml")  # made absolute (config folder) by load_config
    secret_file: Path = Path("web-secret")  # the session key, created 0600 under storage if missing
    secure_cookies: bool = False  # true when the desk is served over https (behind a TLS proxy)


@dataclass(frozen=True)
class Account:
    """One clerk of accounts.toml: role "clerk" (may act) or "readonly"; password: an scrypt hash."""

    name: str
    role: str
    password: str | None


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    kind: str
    emails: tuple[str, ...]  # lower case
    aliases: tuple[str, ...] = ()  # other names the unit signs with (issuer matching)
    active_from: date | None = None
    active_until: date | None = None
    # "Kính gửi: ..." of every mail to the unit, as units.toml resolved it ("" -> default_addressee)
    addressee: str = ""
    # the unit's head (Chủ tịch, Thủ trưởng): copied on the firmer overdue notices (lower case)
    cc: tuple[str, ...] = ()

    def active_on(self, day: date) -> bool:
        return (self.active_from is None or self.active_from <= day) and (
            self.active_until is None or day <= self.active_until
        )


# Whom a mail to a unit is addressed to, by kind ({name}: the unit's name, "UBND" written out):
# the seed letter makes the Chairman of each commune and the head of each agency answerable.
ADDRESSEE_DEFAULTS = {
    "commune": "Chủ tịch {name}",
    "town": "Chủ tịch {name}",
    "department": "Thủ trưởng {name}",
    "service_unit": "Thủ trưởng {name}",
}


def full_unit_name(name: str) -> str:
    """ "UBND xã Trường Xuân" -> "Ủy ban nhân dân xã Trường Xuân" (the form an address line uses)."""
    return "Ủy ban nhân dân " + name[5:] if name.startswith("UBND ") else name


def default_addressee(unit: "Unit", pattern: str | None = None) -> str:
    pattern = pattern or ADDRESSEE_DEFAULTS.get(unit.kind, "{name}")
    return pattern.replace("{name}", full_unit_name(unit.name))


def addressee_of(unit: "Unit") -> str:
    return unit.addressee or default_addressee(unit)


@dataclass(frozen=True)
class Requirement:
    id: str
    name: str
    doc_types: tuple[str, ...]  # ND30 type codes that satisfy it: ("BC",)
    keywords: tuple[str, ...]  # words expected in the title (any one matches)
    deadline: str  # "MM-DD" for a yearly campaign, "YYYY-MM-DD" for a one-off
    deadline_time: time
    # Which year a document names ("... năm 2024") for the cycle it belongs to: "same" (the
    # cycle's own year), "next" (a plan for the next year), "any" (ignore it, go by arrival).
    period: str = "same"


@dataclass(frozen=True)
class ChaseRules:
    before_days: tuple[int, ...] = (7, 3, 1)  # reminders, days before the deadline
    overdue_days: tuple[int, ...] = (1, 5)  # overdue notices, days after it
    at: time = time(8, 0)
    working_days_only: bool = True  # move steps off Saturdays, Sundays and holidays
    holidays: frozenset[date] = frozenset()
    opening_days_before: int = 0  # the opening notice, days before the first deadline (0: none)
    overdue_cc_from: int = 2  # from this overdue notice on (1 = the first), the heads are copied
    overdue_cc: tuple[str, ...] = ()  # the district's leadership, copied from overdue_cc_from on
    overdue_cc_unit_head: bool = True  # copy the unit's own head (units.toml `cc`) as well
    overdue_cc_name: str = "Lãnh đạo Ủy ban nhân dân huyện"  # who overdue_cc is, as the notice names them


@dataclass(frozen=True)
class Basis:
    """The document that set the duty ([basis] of a campaign): cited by every mail to units and
    attached (with the form) to the opening notice."""

    kind: str = "Công văn"  # its type, as it is cited: "Công văn", "Kế hoạch", "Quyết định"
    number: str = ""  # "1234/UBND-NV"
    date: date | None = None
    issuer: str = ""  # "UBND huyện"
    summary: str = ""  # "về việc báo cáo công tác dân vận" (a leading "V/v" is written out)
    file: Path | None = None  # the document itself, attached to the opening notice

    @property
    def citation(self) -> str:
        """ "Công văn số 1234/UBND-NV ngày 15/09/2024 của UBND huyện về việc ..." """
        parts = [self.kind or "Văn bản"]
        if self.number:
            parts.append(f"số {self.number}")
        if self.date:
            parts.append(f"ngày {self.date:%d/%m/%Y}")
        if self.issuer:
            parts.append(f"của {self.issuer}")
        summary = self.summary.strip()
        if summary[:4].lower() == "v/v ":
            summary = "về việc " + summary[4:]
        if summary:
            parts.append(summary)
        return " ".join(parts)

    @property
    def short(self) -> str:
        """ "Công văn số 1234/UBND-NV ngày 15/09/2024 của UBND huyện" (its number and date only)."""
        return Basis(self.kind, self.number, self.date, self.issuer).citation


@dataclass(frozen=True)
class Notices:
    acknowledge: bool = True
    review_notice: bool = True
    digest: bool = True
    digest_at: time = time(7, 30)
    max_per_address_per_day: int = 10
    give_up_hours: float = 24.0
    templates: Path = Path("templates")


@dataclass(frozen=True)
class DraftArea:
    """One numbered area of a body section (e.g. II.2 "Dân vận khéo") and what feeds it."""

    title: str
    headings: tuple[str, ...] = ()  # words in a unit's section heading that send the section here
    keywords: tuple[str, ...] = ()  # words in a sentence that send it here (inside its body section)
    figures: tuple[str, ...] = ()  # indicator codes whose totals are quoted at the top of the area
    facts: tuple[str, ...] = ()  # blocks computed from the ledger, as DraftSection.facts
    lead: str = ""  # the office's own framing sentence printed first (admins edit it; {cycle}...)


@dataclass(frozen=True)
class DraftSection:
    """One roman-numbered body section of the consolidated draft."""

    title: str  # upper case, may use {cycle} and {next_cycle}
    facts: tuple[str, ...] = ()  # blocks computed from the ledger: "submissions", "leaders"
    headings: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    areas: tuple[DraftArea, ...] = ()
    lead: str = ""  # the office's own framing sentence printed first
    role: str = ""  # "" (units' results, in the third person), "direction" or "proposals" (DRAFT_ROLES)


DRAFT_FACTS = ("submissions", "leaders")
# direction: the Ủy ban's own tasks (units' sentences without their names, proposals addressed
# to the district); proposals: units' proposals to the level above (Kiến nghị của cơ sở).
DRAFT_ROLES = ("", "direction", "proposals")


@dataclass(frozen=True)
class DraftSpec:
    """The consolidated draft of a campaign ([draft] in its file): texts, signing block, body plan.

    Texts may use {cycle} and {next_cycle}. parent_body/issuer None means the office's own.
    """

    summary: str = "Tổng hợp báo cáo kỳ {cycle}"
    type_code: str = "BC"
    type_name: str = "BÁO CÁO"
    parent_body: str | None = None
    issuer: str | None = None
    issuer_code: str | None = None  # after the type code in the number: "Số:      /BC-UBND"
    addressee: tuple[str, ...] = ()
    intro: str = "Trên cơ sở văn bản của các đơn vị gửi về tính đến {as_of}, kết quả được tổng hợp như sau:"
    closing: str = "Trên đây là báo cáo tổng hợp kỳ {cycle}./."
    authority: tuple[str, ...] = ()
    signer_title: str = ""
    signer: str = ""
    recipients: tuple[str, ...] = ("Như trên", "Lưu: VT")
    delay_hours: float = 0.0
    requirement: str | None = None  # whose documents feed the body; None: the last requirement
    max_named_units: int = 3  # a sentence of up to this many units names them; more: "Các cơ quan, đơn vị..."
    similarity: float = 0.9  # near-duplicate sentences (same numbers, this word similarity) merge
    skip_sentences: tuple[str, ...] = ("Trên đây là",)
    leader_head_kinds: tuple[str, ...] = ("commune", "town")
    leader_head_title: str = "Chủ tịch"
    letter: str = ""  # the letter that set the duty, for {letter} in the texts
    empty_text: str = "Chưa có đơn vị báo cáo nội dung này."  # a section or area nobody wrote to
    # Who "the district" is in units' proposals ("Đề nghị UBND huyện ..."): the Ủy ban that signs
    # the draft, so those proposals become its own tasks instead of being sent back to it.
    district_names: tuple[str, ...] = ("Ủy ban nhân dân huyện", "UBND huyện", "Lãnh đạo huyện")
    sections: tuple[DraftSection, ...] = (DraftSection(title="TÌNH HÌNH THỰC HIỆN", facts=("submissions",)),)


@dataclass(frozen=True)
class RateRule:
    """A rate indicator of the form recomputed from its parts, never averaged (campaign [figures])."""

    code: str  # the rate ("DV05", in %)
    denominator: str  # what it is a rate of ("DV04": hồ sơ tiếp nhận)
    numerator: str = ""  # when the form also asks for the count itself: rate = Σ numerator / Σ denominator


@dataclass(frozen=True)
class FigureRules:
    """How the form's indicators are consolidated and checked (campaign [figures])."""

    rates: tuple[RateRule, ...] = ()
    at_most: tuple[tuple[str, str], ...] = ()  # (a, b): a unit's a may not exceed its b


@dataclass(frozen=True)
class Campaign:
    id: str
    title: str
    recurrence: str  # "yearly" | "once"
    opens: str  # "MM-DD" (yearly) or "YYYY-MM-DD": when a cycle starts accepting documents
    unit_ids: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    source: Path
    reminders: ChaseRules = ChaseRules()
    form: Path | None = None  # the campaign's blank figures form (.xlsx), attached to reminders
    indicators: tuple = ()  # parsers.figures.Indicator rows read from the form
    draft: DraftSpec = DraftSpec()  # the consolidated draft ([draft])
    figure_rules: FigureRules = FigureRules()  # [figures]: rates recomputed, pairs checked
    basis: Basis | None = None  # [basis]: the document that set the duty

    def requirement(self, req_id: str) -> Requirement | None:
        return next((r for r in self.requirements if r.id == req_id), None)

    def cycle_of(self, moment: datetime, tz: ZoneInfo) -> str:
        """The cycle a moment belongs to: a yearly cycle Y runs from opens(Y) to opens(Y+1)."""
        if self.recurrence == "once":
            return self.opens[:4]
        local = moment.astimezone(tz)
        month, day = (int(x) for x in self.opens.split("-"))
        start = datetime(local.year, month, day, tzinfo=tz)
        return str(local.year if local >= start else local.year - 1)

    def deadline(self, req: Requirement, cycle: str, tz: ZoneInfo) -> datetime:
        if self.recurrence == "once":
            day = date.fromisoformat(req.deadline)
        else:
            month, dom = (int(x) for x in req.deadline.split("-"))
            day = date(int(cycle), month, dom)
        return datetime.combine(day, req.deadline_time, tzinfo=tz)


@dataclass(frozen=True)
class Config:
    dir: Path
    office: Office
    mailbox: MailboxSettings
    mailbox_password: str | None
    smtp: SmtpSettings
    smtp_password: str | None
    storage: Storage
    intake: IntakeSettings
    notices: Notices
    limits: Limits
    units: tuple[Unit, ...]
    campaigns: tuple[Campaign, ...]
    web: WebSettings = WebSettings()

    def unit(self, unit_id: str) -> Unit | None:
        return self._units_by_id.get(unit_id)

    @cached_property
    def _units_by_id(self) -> dict[str, Unit]:
        """id -> unit, built once: a scan per lookup made a page of 2,000 units quadratic (bench/web.py)."""
        return {u.id: u for u in reversed(self.units)}  # the first of a duplicated id wins, as the scan did

    def campaign(self, campaign_id: str) -> Campaign | None:
        return next((c for c in self.campaigns if c.id == campaign_id), None)

    def unit_for_address(self, address: str | None) -> Unit | None:
        if not address:
            return None
        address = address.strip().lower()
        return next((u for u in self.units if address in u.emails), None)

    def unit_for_cc_address(self, address: str | None) -> Unit | None:
        """The unit whose head's address (units.toml `cc`) this is: copies only, never a sender."""
        if not address:
            return None
        address = address.strip().lower()
        return next((u for u in self.units if address in u.cc), None)
