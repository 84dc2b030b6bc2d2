"""The consolidated draft as data: ledger rows of one campaign cycle -> ReportModel. Pure.

Every sentence a person reads in the draft is written here (the Word template in
templates/report/ only lays it out), so the text is tested without Word, and `model_to_json`
gives a stable form for comparisons. Status counts come from daemon.status.cells, the same
function behind `status --json`, so the draft and the status page can never disagree.

What feeds what (the campaign's [draft] table, config.DraftSpec):
- section facts "submissions": counts per requirement (on time / late / missing, named) and the
  units' own document numbers and dates; "leaders": who each unit assigned, flagging a commune
  or town whose assignee is not its head (leader_head_title, e.g. Chủ tịch);
- the outline (the campaign's [[draft.section]]s, each with its framing lead, facts, areas and
  role): each unit's newest document for the body requirement has its sections routed by heading
  (then sentences by keyword inside a section that has areas, daemon.report.routing) and
  consolidated in the Ủy ban's voice (daemon.report.consolidate: merged, summed, self-reference
  in the third person, proposals as the district's tasks or Kiến nghị của cơ sở), every sentence
  with its sources (Para.traces) for the clerk's notes (daemon.report.notes);
- figures: the indicators of the campaign's form (Campaign.form) or, without a form, those found
  in the units' tables; a unit's values come from the figures table (what intake read from its
  filled form, or the table it read the form's indicators from) first, then its report's own
  tables, then a number its text states; reconciled once (daemon.report.figures: rates recomputed
  from their parts, every disagreement a check line for the clerk, never a second total).

Facts come back from the ledger typed (parsers.model.facts_from_json), never as dicts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from collections.abc import Mapping

from parsers.model import DocumentFacts, facts_from_json

from daemon.clock import deadline_words, moment_words
from daemon.config import UNIT_KINDS, Campaign, Config, DraftSpec, Requirement
from daemon.report.consolidate import Consolidation, Para, Source, Trace  # noqa: F401 (Para, Trace: the model's)
from daemon.report.figures import FigureLine, IndicatorTotal, OneTotal, UnitFigures, reconcile
from daemon.report.routing import Router
from daemon.report.text import Keys, name_list, number_text
from daemon.status import STATUS_WORDS, Cell, cells, counts as status_counts
from daemon.texts import TYPE_NAMES

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
BLANK_NUMBER = "      "  # the clerk writes the number by hand or in the register
_HEADER_BREAKS = (" HUYỆN ", " XÃ ", " THỊ TRẤN ", " TỈNH ", " THÀNH PHỐ ", " QUẬN ", " THỊ XÃ ", " VÀ ", " - ")


@dataclass(frozen=True)
class Area:
    number: str
    title: str
    paragraphs: tuple[Para, ...] = ()


@dataclass(frozen=True)
class Section:
    number: str
    title: str
    paragraphs: tuple[Para, ...] = ()
    areas: tuple[Area, ...] = ()


@dataclass(frozen=True)
class DocRef:
    """The newest document a unit sent for one requirement (what the draft counts)."""

    unit_id: str
    unit: str
    requirement: str
    status: str
    doc_number: str | None
    doc_date: str | None  # ISO
    received_at: str  # ISO with offset
    message: int
    versions: int


@dataclass(frozen=True)
class SubmissionLine:
    """One row of Phụ lục I: a unit's document for one requirement."""

    stt: str  # "" on a unit's second and later rows
    unit: str
    document: str  # "Kế hoạch", "Báo cáo"
    number_date: str  # "Số 45/BC-UBND ngày 15/10/2024"
    received: str  # "15/10/2024 09:12"
    status: str  # on_time | late | missing
    status_word: str  # đúng hạn | trễ hạn | chưa nộp
    doc_number: str | None = None  # the parts of number_date and received, typed for the .xlsx
    doc_date: str | None = None  # ISO date
    received_at: str | None = None  # ISO, office time


@dataclass(frozen=True)
class LeaderLine:
    unit_id: str
    unit: str
    leaders: tuple[str, ...]
    ok: bool | None  # None: nothing stated; False: flagged
    head_rule: bool = False  # its head must take charge (a commune or town)


@dataclass(frozen=True)
class ReportModel:
    campaign: str
    cycle: str
    slug: str  # file name stem: "du-thao-bao-cao-dan-van-2024"
    generated_at: str
    preview: bool
    preview_note: str
    parent_lines: tuple[str, ...]
    issuer_lines: tuple[str, ...]
    number_line: str
    place_date: str
    type_name: str
    summary: str
    addressee: tuple[str, ...]
    addressee_lines: tuple[str, ...]  # "Kính gửi: X." or "Kính gửi:", "- A;", "- B."
    intro: str
    sections: tuple[Section, ...]
    closing: str
    authority: tuple[str, ...]
    signer_title: str
    signer: str
    recipients: tuple[str, ...]  # printed lines: "- Như trên;" ... "- Lưu: VT, NV."
    appendix_ref: str  # "(Kèm theo Báo cáo số      /BC-UBND ngày    tháng    năm 2024)"
    appendix1_title: str
    appendix2_title: str
    units_total: int
    requirements: tuple[dict, ...]  # {"id", "name", "deadline"}
    counts: dict = field(default_factory=dict)  # requirement id -> {"on_time", "late", "missing"}
    documents: tuple[DocRef, ...] = ()
    submission_lines: tuple[SubmissionLine, ...] = ()
    leaders: tuple[LeaderLine, ...] = ()
    indicators: tuple[IndicatorTotal, ...] = ()
    figure_lines: tuple[FigureLine, ...] = ()
    figure_checks: tuple[str, ...] = ()  # what the clerk should check in the figures (Vietnamese lines)
    unplaced: int = 0  # sentences of units' reports that fed no section (not printed)
    checks: tuple[str, ...] = ()  # for the clerk's notes: units whose documents need a look


# -- small formatting helpers -------------------------------------------------------------------

def _local(iso: str | None, tz) -> datetime | None:
    return datetime.fromisoformat(iso).astimezone(tz) if iso else None


def _date_vn(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        y, m, d = (int(x) for x in iso[:10].split("-"))
    except ValueError:
        return iso
    return f"{d:02d}/{m:02d}/{y}"


def _fill(text: str, cycle: str, as_of: str = "", as_of_date: str = "", letter: str = "") -> str:
    nxt = str(int(cycle) + 1) if cycle.isdigit() else cycle
    return text.format_map({"cycle": cycle, "next_cycle": nxt, "as_of": as_of, "as_of_date": as_of_date,
                            "letter": letter})


def header_lines(text: str) -> tuple[str, ...]:
    """An upper-case body name on the header's lines: "ỦY BAN NHÂN DÂN HUYỆN THÁP MƯỜI" ->
    ("ỦY BAN NHÂN DÂN", "HUYỆN THÁP MƯỜI"); a "\\n" in the configured text forces the break."""
    text = (text or "").strip()
    if not text:
        return ()
    if "\n" in text:
        return tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(text) <= 30:
        return (text,)
    cuts = [i for brk in _HEADER_BREAKS for i in [m.start() for m in re.finditer(re.escape(brk), text)]]
    if not cuts:
        return (text,)
    cut = min(cuts, key=lambda i: abs(i - len(text) / 2))
    first, rest = text[:cut].strip(), text[cut:].strip()
    return (first, rest) if first and rest else (text,)


def _initials(text: str) -> str:
    return "".join(w[0] for w in text.split() if w[0].isalpha()).upper()


def _short_name(req: Requirement) -> str:
    return TYPE_NAMES.get(req.doc_types[0], req.name) if req.doc_types else req.name


def _recipient_lines(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"- {t}{'.' if k == len(items) - 1 else ';'}" for k, t in enumerate(items))


def _addressee_lines(items: tuple[str, ...]) -> tuple[str, ...]:
    if not items:
        return ()
    if len(items) == 1:
        return (f"Kính gửi: {items[0]}.",)
    return ("Kính gửi:",) + _recipient_lines(items)


def _body_requirement(campaign: Campaign) -> Requirement:
    spec = campaign.draft
    return campaign.requirement(spec.requirement) if spec.requirement else campaign.requirements[-1]


def deadline_of(config: Config, campaign: Campaign, cycle: str) -> datetime:
    """The latest deadline of the campaign's requirements in this cycle."""
    tz = config.office.timezone
    return max(campaign.deadline(r, cycle, tz) for r in campaign.requirements)


def draft_due(config: Config, campaign: Campaign, cycle: str, now: datetime) -> bool:
    """True once the latest deadline of the cycle plus the configured delay has passed."""
    return now >= deadline_of(config, campaign, cycle) + timedelta(hours=campaign.draft.delay_hours)


# -- the model ----------------------------------------------------------------------------------

def _newest_rows(rows: list[dict], table: dict[tuple[str, str], Cell]) -> dict[tuple[str, str], list[dict]]:
    """(unit, requirement) -> the ledger rows of the newest version (its message's attachments)."""
    wanted = {(u, r): c.message for (u, r), c in table.items() if c.message is not None}
    out: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        key = (row["unit_id"], row["requirement"])
        if wanted.get(key) == row["message"]:
            out.setdefault(key, []).append(row)
    return out


def _best_facts(rows: list[dict]) -> list[DocumentFacts]:
    """The facts of a version's attachments, the richest first (a .docx before its .pdf copy)."""
    facts = [f for f in (facts_from_json(r.get("facts")) for r in rows) if f is not None]
    return sorted(facts, key=lambda f: -(len(f.sections) + len(f.figures)))


def build_model(config: Config, campaign: Campaign, cycle: str, rows: list[dict], now: datetime,
                figures: Mapping[str, Mapping[str, float]] | None = None,
                earlier_figures: Mapping[str, Mapping[str, float]] | None = None) -> ReportModel:
    """The draft for one campaign cycle from the ledger's submission rows (with facts) and the
    figures intake recorded (Store.figures: unit id -> indicator code -> value; a filled form or
    the table intake chose). Pure, apart from reading the campaign's figures form (cached)."""
    tz = config.office.timezone
    spec = campaign.draft
    keys = Keys()
    now_local = now.astimezone(tz)
    # The body says "tính đến ngày {as_of_date}": a report a Chairman signs counts by the day; the
    # clock time ({as_of}, "08:05 ngày ...") belongs to the preview note and the staff's mail.
    as_of = moment_words(now_local)
    table = cells(config, campaign, cycle, rows)
    newest = _newest_rows(rows, table)
    units = [config.unit(u) for u in campaign.unit_ids]
    units = [u for u in units if u is not None]
    deadlines = {r.id: campaign.deadline(r, cycle, tz) for r in campaign.requirements}
    body_req = _body_requirement(campaign)

    # Status, documents and Phụ lục I.
    counts = status_counts(campaign, table)  # the same counts as status --json
    documents, lines = [], []
    for n, unit in enumerate(units, 1):
        for k, req in enumerate(campaign.requirements):
            cell = table[(unit.id, req.id)]
            number_date = ""
            if cell.status != "missing":
                documents.append(DocRef(unit.id, unit.name, req.id, cell.status, cell.doc_number, cell.doc_date,
                                        cell.received_at, cell.message, cell.versions))
                parts = [f"Số {cell.doc_number}" if cell.doc_number else "Chưa rõ số"]
                if cell.doc_date:
                    parts.append(f"ngày {_date_vn(cell.doc_date)}")
                number_date = " ".join(parts)
            received = _local(cell.received_at, tz)
            lines.append(SubmissionLine(
                stt=str(n) if k == 0 else "", unit=unit.name if k == 0 else "", document=_short_name(req),
                number_date=number_date, received=received.strftime("%d/%m/%Y %H:%M") if received else "",
                status=cell.status, status_word=STATUS_WORDS[cell.status],
                doc_number=cell.doc_number if cell.status != "missing" else None,
                doc_date=cell.doc_date if cell.status != "missing" else None,
                received_at=received.isoformat(timespec="seconds") if received else None,
            ))

    # Leaders, passages and figures from each unit's newest documents.
    leader_lines = _leader_lines(campaign, units, newest, keys)
    leaders_block = any("leaders" in sec.facts or any("leaders" in a.facts for a in sec.areas) for sec in spec.sections)
    router = Router(spec, keys)
    body = Consolidation(spec, keys, units)
    unplaced = 0
    unit_figures: list[UnitFigures] = []
    checks: list[str] = []
    for pos, unit in enumerate(units):
        sent = newest.get((unit.id, body_req.id), [])
        facts_list = _best_facts(sent)
        unit_figures.append(UnitFigures(
            unit.id, unit.name, (figures or {}).get(unit.id) or {}, [fig for f in facts_list for fig in f.figures],
            [s.text for s in facts_list[0].sections] if facts_list else (),
            (earlier_figures or {}).get(unit.id)))
        checks.extend(_checks(unit.name, body_req, sent, facts_list))
        if not facts_list:
            continue
        facts = facts_list[0]
        document = _document_words(_short_name(body_req), facts)
        for target, sentence, heading in router.route(facts.sections):
            if target is None:
                unplaced += 1
                continue
            if leaders_block and facts.leaders and _names_leader(sentence, facts.leaders):
                continue  # the leaders block says who is in charge, for every unit alike
            body.add(target, sentence, pos, document, heading)

    reconciled = reconcile(campaign, unit_figures, keys)
    indicators, figure_lines = reconciled.totals, reconciled.lines
    totals = {i.code: i for i in indicators}
    as_of_date = now_local.strftime("%d/%m/%Y")
    # One total per indicator: a summed sentence that states another drops out (and says so).
    one_total = OneTotal(campaign, units, reconciled)

    def fill(text: str) -> str:
        return _fill(text, cycle, as_of, as_of_date, spec.letter)

    def facts_paras(facts: tuple[str, ...]) -> list[Para]:
        paras: list[Para] = []
        if "submissions" in facts:
            paras.extend(_submission_paras(campaign, units, table, deadlines))
        if "leaders" in facts:
            paras.extend(_leader_paras(spec, leader_lines))
        return paras

    sections = []
    for s, sec in enumerate(spec.sections):
        paras: list[Para] = [Para(text=fill(sec.lead))] if sec.lead else []
        paras.extend(facts_paras(sec.facts))
        paras.extend(body.paragraphs((s, None), one_total.keep))
        areas = []
        for a, area in enumerate(sec.areas):
            area_paras = [Para(text=fill(area.lead))] if area.lead else []
            area_paras.extend(facts_paras(area.facts))
            area_paras.extend(_figure_paras(area.figures, totals, len(figure_lines)))
            area_paras.extend(body.paragraphs((s, a), one_total.keep))
            if not area_paras:
                area_paras = [Para(text=spec.empty_text)]
            areas.append(Area(str(a + 1), fill(area.title), tuple(area_paras)))
        # A part with only its framing sentence still says that no unit wrote to it.
        if not areas and len(paras) == (1 if sec.lead else 0):
            paras.append(Para(text=spec.empty_text))
        sections.append(Section(ROMAN[s] if s < len(ROMAN) else str(s + 1), fill(sec.title).upper(),
                                tuple(paras), tuple(areas)))

    preview = any(now < d for d in deadlines.values())
    latest = max(deadlines.values())
    preview_note = (f"BẢN XEM TRƯỚC: chưa hết hạn nộp ({deadline_words(latest)}); số liệu tính đến {as_of} "
                    f"và sẽ thay đổi khi các đơn vị tiếp tục gửi." if preview else "")
    issuer = spec.issuer if spec.issuer is not None else config.office.issuer
    parent = spec.parent_body if spec.parent_body is not None else config.office.parent_body
    code = spec.issuer_code if spec.issuer_code is not None else _initials(issuer)
    number_code = f"{spec.type_code}-{code}" if code else spec.type_code
    year = now_local.year
    summary = fill(spec.summary)
    short_names = [_short_name(r).upper() for r in campaign.requirements]
    return ReportModel(
        campaign=campaign.id,
        cycle=cycle,
        slug=f"du-thao-bao-cao-{campaign.id}-{cycle}",
        generated_at=now.isoformat(timespec="seconds"),
        preview=preview,
        preview_note=preview_note,
        parent_lines=header_lines(parent),
        issuer_lines=header_lines(issuer),
        number_line=f"Số:{BLANK_NUMBER}/{number_code}",
        place_date=f"{config.office.place}, ngày    tháng    năm {year}",
        type_name=spec.type_name,
        summary=summary,
        addressee=spec.addressee,
        addressee_lines=_addressee_lines(spec.addressee),
        intro=fill(spec.intro),
        sections=tuple(sections),
        closing=fill(spec.closing),
        authority=spec.authority,
        signer_title=spec.signer_title,
        signer=spec.signer,
        recipients=_recipient_lines(spec.recipients),
        appendix_ref=f"(Kèm theo {spec.type_name.capitalize()} số{BLANK_NUMBER}/{number_code} "
                     f"ngày    tháng    năm {year})",
        appendix1_title="TÌNH HÌNH GỬI " + ", ".join(short_names) + " CỦA CÁC ĐƠN VỊ",
        appendix2_title="SỐ LIỆU TỔNG HỢP TỪ BÁO CÁO CỦA CÁC ĐƠN VỊ",
        units_total=len(units),
        requirements=tuple({"id": r.id, "name": r.name, "deadline": deadlines[r.id].isoformat()}
                           for r in campaign.requirements),
        counts=counts,
        documents=tuple(documents),
        submission_lines=tuple(lines),
        leaders=tuple(leader_lines),
        indicators=indicators,
        figure_lines=figure_lines,
        figure_checks=reconciled.checks + tuple(one_total.checks),
        unplaced=unplaced,
        checks=tuple(checks),
    )


def draft_rows(store, campaign: Campaign, cycle: str) -> list[dict]:
    """The ledger rows a draft consolidates: the cycle's submissions with their documents' facts."""
    return store.submissions(campaign.id, cycle, facts=True)


def model_from_ledger(config: Config, store, campaign: Campaign, cycle: str, now: datetime,
                      rows: list[dict] | None = None) -> ReportModel:
    """The draft of one campaign cycle from the ledger (a Store): its submission rows (draft_rows,
    unless the caller already has them) and the figures intake recorded. The one place the
    runner's job and `tonghop draft` gather what the draft reads."""
    rows = draft_rows(store, campaign, cycle) if rows is None else rows
    return build_model(config, campaign, cycle, rows, now, store.figures(campaign.id, cycle),
                       store.figures(campaign.id, cycle, back=1))


def _document_words(name: str, facts: DocumentFacts) -> str:
    """ "Báo cáo số 45/BC-UBND ngày 15/10/2024": the unit's document, as the clerk's notes cite it."""
    parts = [name]
    if facts.number.value:
        parts.append(f"số {facts.number.value}")
    if facts.date.value:
        parts.append(f"ngày {_date_vn(facts.date.value)}")
    return " ".join(parts)


_FACT_WORDS = {"number": "số, ký hiệu", "date": "ngày tháng", "signer": "người ký", "issuer": "cơ quan ban hành"}


def _checks(unit: str, req: Requirement, rows: list[dict], facts_list: list[DocumentFacts]) -> list[str]:
    """What the clerk should look at in a unit's document for the body requirement."""
    if not rows:
        return []
    name = _short_name(req)
    if not facts_list:
        return [f"{unit}: không đọc được nội dung {name.lower()} ({rows[0].get('filename') or 'tệp đính kèm'}); "
                f"nội dung của đơn vị chưa có trong dự thảo."]
    facts, out = facts_list[0], []
    if not facts.sections and any(f.figures for f in facts_list):
        out.append(f"{unit}: chỉ gửi biểu số liệu, không có phần lời văn; số liệu đã được tổng hợp.")
    elif not facts.sections:
        out.append(f"{unit}: {name.lower()} không có đề mục nào đọc được; nội dung của đơn vị chưa có trong dự thảo.")
    lacking = [_FACT_WORDS[m] for m in facts.missing if m in _FACT_WORDS]
    if lacking:
        out.append(f"{unit}: không đọc được {', '.join(lacking)} của {name.lower()}; đối chiếu với bản gốc.")
    return out


def _names_leader(sentence: str, leaders: tuple[str, ...]) -> bool:
    """The sentence names one of the unit's assigned leaders (its "phân công ... phụ trách")."""
    return any(name and name in sentence for name in (x.split(",")[0].strip() for x in leaders))


def _submission_paras(campaign: Campaign, units, table, deadlines) -> list[Para]:
    kinds = [(k, sum(1 for u in units if u.kind == k)) for k in UNIT_KINDS]
    breakdown = ", ".join(f"{n} {UNIT_KINDS[k]}" for k, n in kinds if n)
    paras = [Para(text=f"Tổng số cơ quan, đơn vị, địa phương phải gửi văn bản: {len(units)}"
                       + (f" ({breakdown})." if breakdown else "."))]
    for req in campaign.requirements:
        by = {s: [u.name for u in units if table[(u.id, req.id)].status == s] for s in STATUS_WORDS}
        parts = [f"{len(by['on_time'])} đơn vị gửi đúng hạn"]
        for status, word in (("late", "gửi trễ hạn"), ("missing", "chưa gửi")):
            if by[status]:
                parts.append(f"{len(by[status])} đơn vị {word} ({name_list(by[status])})")
            else:
                parts.append(f"không có đơn vị {word}")
        paras.append(Para(f"{req.name} (hạn nộp {deadline_words(deadlines[req.id])}):", "; ".join(parts) + "."))
    # The number and date of each unit's document are in Phụ lục I, not here: a list of two
    # dozen numbers in the body reads as a register, not a report.
    paras.append(Para(text="Số, ngày văn bản của từng cơ quan, đơn vị, địa phương: chi tiết tại Phụ lục I."))
    return paras


def _leader_lines(campaign: Campaign, units, newest, keys: Keys) -> list[LeaderLine]:
    spec = campaign.draft
    body = _body_requirement(campaign)
    order = [body] + [r for r in campaign.requirements if r.id != body.id]
    head = keys.fold(spec.leader_head_title)
    out = []
    for unit in units:
        sent = [newest.get((unit.id, r.id)) for r in order]
        if not any(sent):
            continue
        leaders: tuple[str, ...] = ()
        for rows in sent:
            for facts in _best_facts(rows or []):
                if facts.leaders:
                    leaders = facts.leaders
                    break
            if leaders:
                break
        ok: bool | None = None
        if leaders:
            ok = True
            if unit.kind in spec.leader_head_kinds:
                folds = [keys.fold(x) for x in leaders]
                ok = any(head in f and ("phó " + head) not in f for f in folds)
        out.append(LeaderLine(unit.id, unit.name, leaders, ok, unit.kind in spec.leader_head_kinds))
    return out


def _leader_paras(spec: DraftSpec, lines: list[LeaderLine]) -> list[Para]:
    if not lines:
        return [Para(text="Chưa có đơn vị nào gửi văn bản nêu việc phân công lãnh đạo phụ trách.")]
    stated = [x for x in lines if x.ok is not None]
    paras = [Para(text=f"Có {len(stated)}/{len(lines)} đơn vị đã gửi văn bản nêu rõ lãnh đạo được phân công "
                       f"phụ trách.")]
    heads = [x for x in lines if x.ok and x.head_rule]
    others = [x for x in lines if x.ok and not x.head_rule]
    flagged = [x for x in lines if x.ok is False]
    silent = [x for x in lines if x.ok is None]
    if heads:
        paras.append(Para(f"{spec.leader_head_title} trực tiếp phụ trách ({len(heads)} đơn vị):",
                          "; ".join(f"{x.unit} ({', '.join(x.leaders)})" for x in heads) + "."))
    if others:
        paras.append(Para("Lãnh đạo được phân công phụ trách:",
                          "; ".join(f"{x.unit}: {', '.join(x.leaders)}" for x in others) + "."))
    if flagged:
        paras.append(Para(f"Chưa đúng yêu cầu {spec.leader_head_title} trực tiếp phụ trách ({len(flagged)} đơn vị):",
                          "; ".join(f"{x.unit}: phân công {', '.join(x.leaders)}" for x in flagged) + ".", flag=True))
    if silent:
        paras.append(Para(f"Chưa nêu việc phân công ({len(silent)} đơn vị):",
                          name_list([x.unit for x in silent]) + ".", flag=True))
    return paras


def _figure_paras(codes: tuple[str, ...], totals: dict[str, IndicatorTotal], reporting: int) -> list[Para]:
    parts = []
    for code in codes:
        t = totals.get(code)
        if t is None or t.total is None:
            continue
        value = number_text(t.total)
        unit = f" {t.unit}" if t.unit and t.unit != "%" else ("%" if t.unit == "%" else "")
        how = "bình quân " if t.method == "mean" else ""
        parts.append(f"{t.name}: {how}{value}{unit} ({t.reported} đơn vị)")
    if not parts:
        return []
    return [Para(f"Số liệu tổng hợp từ biểu số liệu của {reporting} đơn vị:", "; ".join(parts) + ".")]


# -- comparing versions -------------------------------------------------------------------------

def changes_note(old: ReportModel | dict | None, new: ReportModel) -> str:
    """What a new version adds, in one or two Vietnamese sentences for the staff's mail.

    `old` is the previous version's model, or its model_to_json() kept beside the files."""
    sent_units = {d.unit_id for d in new.documents}
    if old is None:
        as_of = moment_words(datetime.fromisoformat(new.generated_at))
        return (f"Bản dự thảo đầu tiên, tổng hợp từ văn bản của {len(sent_units)}/{new.units_total} đơn vị "
                f"(tính đến {as_of}).")
    documents = old["documents"] if isinstance(old, dict) else [_plain(d) for d in old.documents]
    before = {(d["unit_id"], d["requirement"]): d["message"] for d in documents}
    names = {r["id"]: r["name"] for r in new.requirements}
    changed = [d for d in new.documents if before.get((d.unit_id, d.requirement)) != d.message]
    if not changed:
        return "Không có văn bản mới so với phiên bản trước."
    items = []
    for d in changed:
        what = "bản mới" if (d.unit_id, d.requirement) not in before else "bản thay thế"
        items.append(f"{d.unit} ({names.get(d.requirement, d.requirement).lower()}, {what}, "
                     f"{STATUS_WORDS[d.status]})")
    units = len({d.unit_id for d in changed})
    return (f"So với phiên bản trước, có văn bản mới của {units} đơn vị: " + "; ".join(items)
            + f". Hiện có {len(sent_units)}/{new.units_total} đơn vị đã gửi.")


def previous_model(config: Config, store, campaign: Campaign, cycle: str, now: datetime,
                   rows: list[dict]) -> ReportModel | None:
    """The last written version's model, rebuilt from the submissions it consolidated (the drafts
    table keeps their ids): what the clerk's notes compare the new version with. None before v1."""
    import json

    last = store.last_draft(campaign.id, cycle)
    if last is None:
        return None
    ids = set(json.loads(last["submissions"]))
    return build_model(config, campaign, cycle, [r for r in rows if r["id"] in ids], now,
                       store.figures(campaign.id, cycle))


def model_to_json(model: ReportModel) -> dict:
    """The model as plain JSON data (lists, not tuples): tests, comparisons between versions."""
    return _plain(model)


def _plain(value):
    # dataclasses.asdict deep-copies through copy.deepcopy; this walk is several times faster.
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
