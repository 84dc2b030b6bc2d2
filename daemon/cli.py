"""`tonghop` command line: the contract in DESIGN.md. Exit codes: 0 ok, 1 operational failure,
2 bad configuration or usage (argparse itself exits 2 on bad usage) or a damaged ledger (a person
must restore it; deploy/tonghop.service does not restart on 2), 3 another tonghop already runs on
the same storage folder."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from daemon import logs
from daemon.clock import Clock, deadline_words, local_text, parse_now
from daemon.config import UNIT_KINDS, Config, ConfigError
from daemon.config_toml import load_config
from daemon.durable import clean_leftovers
from daemon.store import (AlreadyRunning, LedgerCorrupt, LedgerReplaced, StorageError, Store, corrupt_text,
                          file_damaged, is_corruption, take_instance_lock)
from daemon.texts import t

STATUS_NAMES = {
    "claimed": "đang xử lý",
    "recorded": "đã ghi nhận",
    "review": "cần xem xét",
    "ignored": "bỏ qua",
    "failed": "lỗi",
}


class UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tonghop", description="Thu nhận và tổng hợp báo cáo của các đơn vị qua thư điện tử.")
    p.add_argument("--version", action="version", version=f"tonghop {version()}")
    p.add_argument("--config", default=None,
                   help="thư mục cấu hình (mặc định: $TONGHOP_CONFIG, nếu không có thì /etc/tonghop, rồi ./config)")
    p.add_argument("--now", default=None, help="coi như đồng hồ đang chỉ thời điểm này (ISO 8601; không ghi múi giờ thì theo giờ văn phòng)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="chạy dịch vụ")
    run.add_argument("--once", action="store_true", help="chạy một lượt đầy đủ rồi thoát")

    msgs = sub.add_parser("messages", help="liệt kê mọi thư đã nhận")
    msgs.add_argument("--status", choices=sorted(STATUS_NAMES), help="chỉ thư có trạng thái này")
    msgs.add_argument("--json", action="store_true", help="in dạng JSON")

    st = sub.add_parser("status", help="tình hình nộp văn bản của từng đơn vị")
    st.add_argument("campaign", nargs="?", metavar="CAMPAIGN", help="mã chiến dịch (mặc định: tất cả)")
    st.add_argument("--cycle", help="kỳ (mặc định: kỳ hiện tại)")
    st.add_argument("--json", action="store_true", help="in dạng JSON")

    dr = sub.add_parser("draft", help="viết dự thảo báo cáo tổng hợp ngay bây giờ")
    dr.add_argument("campaign", metavar="CAMPAIGN", help="mã chiến dịch")
    dr.add_argument("--cycle", help="kỳ (mặc định: kỳ hiện tại)")
    dr.add_argument("--out", help="thư mục ghi tệp (mặc định: STORAGE/drafts/CHIẾN_DỊCH/KỲ/xem-truoc)")

    cc = sub.add_parser("check-config", help="kiểm tra cấu hình và in tóm tắt")
    cc.add_argument("--connect", action="store_true", help="thử đăng nhập hộp thư và máy chủ gửi thư")

    rep = sub.add_parser("reprocess", help="đọc lại thư đã lưu bằng bộ đọc hiện tại")
    rep.add_argument("ids", nargs="*", type=int, metavar="ID")
    rep.add_argument("--all", action="store_true", help="đọc lại tất cả thư")

    res = sub.add_parser("resolve", help="xử lý một thư cần xem xét, như trên bàn làm việc web (ghi lại ai làm, lúc nào)")
    res.add_argument("id", type=int, metavar="ID", help="mã thư (cột ID của «tonghop messages»)")
    res.add_argument("--unit", metavar="UNIT", help="người gửi (hoặc tệp) là của đơn vị mã này")
    res.add_argument("--remember", action="store_true", help="ghi nhớ địa chỉ người gửi là của đơn vị (--unit)")
    res.add_argument("--file", metavar="SEQ", help="số thứ tự tệp đính kèm (1, 2, ... như trong thư báo cần xem xét) hoặc tên tệp")
    res.add_argument("--requirement", metavar="R", help="tệp (--file) là văn bản theo yêu cầu mã này")
    res.add_argument("--campaign", metavar="C", help="chiến dịch của yêu cầu (mặc định: chiến dịch duy nhất có yêu cầu đó)")
    res.add_argument("--ignore", action="store_true", help="thư không phải văn bản báo cáo")
    res.add_argument("--resend", action="store_true", help="gửi thư đề nghị người gửi gửi lại văn bản")
    res.add_argument("--note", default="", help="ghi chú của cán bộ (lý do, nội dung đề nghị)")
    res.add_argument("--who", metavar="NAME", help="tên cán bộ thực hiện (mặc định: tên tài khoản đang dùng)")

    ins = sub.add_parser("inspect", help="xem tonghop đọc được gì trong các tệp (không cần cấu hình)")
    ins.add_argument("files", nargs="+", metavar="FILE")
    ins.add_argument("--json", action="store_true", help="in dạng JSON")
    web = sub.add_parser("web", help="bàn làm việc trên web cho cán bộ (theo [web] trong settings.toml)")
    web.add_argument("--host", help="địa chỉ lắng nghe (mặc định: [web] host)")
    web.add_argument("--port", type=int, help="cổng (mặc định: [web] port)")
    web.add_argument("--set-password", metavar="USER", help="đặt mật khẩu cho tài khoản USER (nhập từ bàn phím hoặc stdin) rồi thoát")
    web.add_argument("--role", choices=["clerk", "readonly"], help="vai trò của tài khoản khi đặt mật khẩu: clerk (xử lý) hoặc readonly (chỉ xem)")
    dem = sub.add_parser("demo", help="chạy thử trọn một đợt báo cáo (30/09 đến sau hạn 20/10/2024) trên hộp thư cục bộ; "
                                      "--now dừng câu chuyện ở thời điểm đó")
    dem.add_argument("--dir", default="demo-run", help="thư mục chạy thử (tạo mới mỗi lần; mặc định ./demo-run)")
    ini = sub.add_parser("init", help="tạo cấu hình và mẫu thư cho một văn phòng mới (bản sao để sửa)")
    ini.add_argument("dir", metavar="DIR", help="thư mục mới; tonghop ghi DIR/config và DIR/templates")
    return p


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version as installed

    try:
        return installed("tonghop")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(chưa cài đặt)"


SYSTEM_CONFIG = Path("/etc/tonghop")


def config_dir(args, system: Path = SYSTEM_CONFIG) -> Path:
    """Where admins expect it: --config, then $TONGHOP_CONFIG, then /etc/tonghop (an installed
    service), then ./config (a checkout). check-config and `run` say which folder they use."""
    chosen = args.config or os.environ.get("TONGHOP_CONFIG")
    folder = Path(chosen) if chosen else system if within(system) else Path("config")
    return within(folder) or folder


def within(folder: Path) -> Path | None:
    """The config folder in `folder`: itself, or the config/ that `tonghop init` wrote in it."""
    for candidate in (folder, folder / "config"):
        if (candidate / "settings.toml").is_file():
            return candidate
    return None


def load(args) -> tuple[Config, Clock]:
    folder = config_dir(args)
    if not (folder / "settings.toml").is_file():
        raise UsageError(t("cli.no_config", dir=folder.resolve(), system=SYSTEM_CONFIG))
    config = load_config(folder)
    clock = Clock()
    if args.now:
        try:
            clock = Clock(parse_now(args.now, config.office.timezone))
        except ValueError:
            raise UsageError(t("cli.bad_now", value=args.now))
    return config, clock


def local(ts: str | None, config: Config) -> str:
    return local_text(ts, config.office.timezone)


def cmd_check_config(args) -> int:
    from daemon.checks import (account_problems, account_summary, connection_problems, draft_template_problems,
                               schedule_problems, template_problems)

    config, clock = load(args)
    now = clock.now()
    problems = template_problems(config, now) + draft_template_problems(config, now) + schedule_problems(config, now) + account_problems(config)
    if args.connect:
        problems += connection_problems(config)
    if problems:
        raise ConfigError(problems)
    print(t("cli.config_ok", dir=config.dir))
    kinds = Counter(u.kind for u in config.units)
    print(f"Đơn vị: {len(config.units)} (" + ", ".join(f"{UNIT_KINDS[k]}: {n}" for k, n in kinds.items()) + ")")
    print(f"Hộp thư: {config.mailbox.url}  |  Gửi thư: {config.smtp.url}  |  Dữ liệu: {config.storage.root}")
    for c in config.campaigns:
        cycle = c.cycle_of(now, config.office.timezone)
        print(f"Chiến dịch «{c.id}»: {c.title} (kỳ {cycle}, {len(c.unit_ids)} đơn vị)")
        for r in c.requirements:
            deadline = c.deadline(r, cycle, config.office.timezone)
            print(f"  - {r.name}: hạn nộp {deadline_words(deadline)}")
        from daemon.checks import plan_lines
        for line in plan_lines(config, c, cycle):
            print(line)
    print_days_off(config, now)
    print(account_summary(config))
    print_pending_addresses(config)
    from parsers.convert import network_isolation
    print(f"Chương trình chuyển đổi tệp (LibreOffice, pdftotext, Tesseract): {network_isolation()}")
    return 0


def print_pending_addresses(config) -> None:
    """Addresses approved at the desk that units.toml does not have yet (never creates the ledger)."""
    from daemon.checks import pending_addresses

    if not config.storage.db_path.exists():
        return
    store = Store.open(config)
    try:
        for line in pending_addresses(config, store.approved_address_rows()):
            print(line)
    finally:
        store.close()


WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def print_days_off(config, now) -> None:
    """The next 12 months' days off, so the office sees which days mail will skip before it does."""
    from daemon.outgoing.workdays import days_off

    start = now.astimezone(config.office.timezone).date()
    end = start.replace(year=start.year + 1) if (start.month, start.day) != (2, 29) else start + timedelta(days=365)
    print(f"Ngày nghỉ và ngày làm bù trong 12 tháng tới (từ {start:%d/%m/%Y}), theo [office] trong settings.toml:")
    listed = days_off(start, end, config.office.calendar)
    for day, name in listed:
        print(f"  - {WEEKDAYS[day.weekday()]} {day:%d/%m/%Y}: {name}")
    if not listed:
        print("  (không có)")


def message_entries(store: Store, status: str | None) -> list[dict]:
    out = []
    for row in store.messages(status):
        out.append(
            {
                "id": row["id"],
                "message_id": row["message_id"],
                "received_at": row["received_at"],
                "from": row["from_addr"],
                "subject": row["subject"],
                "status": row["status"],
                "reason": row["reason"],
                "unit": row["unit_id"],
                "submissions": [
                    {"campaign": s["campaign"], "cycle": s["cycle"], "requirement": s["requirement"], "file": s["filename"]}
                    for s in store.submissions_of(row["id"])
                ],
            }
        )
    return out


def cmd_messages(args) -> int:
    config, _ = load(args)
    store = Store.open(config)
    entries = message_entries(store, args.status)
    if args.json:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return 0
    if not entries:
        print("Chưa có thư nào.")
        return 0
    print(f"{'ID':>4}  {'Nhận lúc':16}  {'Trạng thái':12}  {'Đơn vị':28}  Người gửi / lý do")
    for e in entries:
        unit = config.unit(e["unit"]).name if e["unit"] and config.unit(e["unit"]) else ""
        print(f"{e['id']:>4}  {local(e['received_at'], config):16}  {STATUS_NAMES.get(e['status'], e['status']):12}  "
              f"{unit[:28]:28}  {e['from'] or '?'}")
        print(f"{'':>4}  {e['reason']}")
    return 0


COLOURS = {"on_time": "\033[32m", "late": "\033[33m", "missing": "\033[31m"}


def cmd_status(args) -> int:
    from daemon.status import status_document

    config, clock = load(args)
    if args.campaign and config.campaign(args.campaign) is None:
        raise UsageError(f"Không có chiến dịch «{args.campaign}»; các chiến dịch: "
                         + ", ".join(c.id for c in config.campaigns))
    store = Store.open(config)
    doc = status_document(config, store.submissions(), clock.now(), args.campaign, args.cycle)
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    print_status_table(doc, config, sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    return 0


def print_status_table(doc: dict, config: Config, colour: bool, echo=print) -> None:
    """The `status` table of a status document (status_document); the demo prints it too."""
    from daemon.status import STATUS_WORDS

    for c in doc["campaigns"]:
        echo(f"{c['title']}, năm {c['cycle']}")
        for r in c["requirements"]:
            deadline = datetime.fromisoformat(r["deadline"]).astimezone(config.office.timezone)
            echo(f"  {r['name']}: hạn nộp {deadline_words(deadline)}")
        width = max(len(u["name"]) for u in c["units"]) + 2
        texts = {(u["id"], r["id"]): cell_text(u["submissions"][r["id"]], config) for u in c["units"] for r in c["requirements"]}
        column = max([24, *(len(x) + 2 for x in texts.values())])
        head = "".join(f"{r['name'][:column - 2]:{column}}" for r in c["requirements"])
        echo(f"{'STT':>4}  {'Đơn vị':{width}}{head}")
        for n, u in enumerate(c["units"], 1):
            line = f"{n:>4}  {u['name']:{width}}"
            for r in c["requirements"]:
                cell = f"{texts[(u['id'], r['id'])]:{column}}"
                line += f"{COLOURS[u['submissions'][r['id']]['status']]}{cell}\033[0m" if colour else cell
            echo(line.rstrip())
        totals = {k: sum(1 for u in c["units"] for s in u["submissions"].values() if s["status"] == k) for k in STATUS_WORDS}
        echo("  Tổng: " + ", ".join(f"{STATUS_WORDS[k]} {v}" for k, v in totals.items()))
        echo()


def cell_text(sub: dict, config: Config) -> str:
    """A unit's cell of the status table. The date shown is the receipt that decided the status: a
    unit that sent on time and again after the deadline is "đúng hạn 19/10, gửi lại 21/10", never
    "đúng hạn 21/10"."""
    from daemon.status import STATUS_WORDS

    text = STATUS_WORDS[sub["status"]]
    first = sub.get("first_received_at") or sub["received_at"]
    if first:
        text += " " + local(first, config)[:5]
    if sub["received_at"] and first and local(sub["received_at"], config)[:5] != local(first, config)[:5]:
        text += ", gửi lại " + local(sub["received_at"], config)[:5]
    return text


def cmd_draft(args) -> int:
    from daemon.report import model as draft
    from daemon.report import notes, writers
    from daemon.report.versions import preview_folder

    config, clock = load(args)
    campaign = config.campaign(args.campaign)
    if campaign is None:
        raise UsageError(f"Không có chiến dịch «{args.campaign}»; các chiến dịch: "
                         + ", ".join(c.id for c in config.campaigns))
    now = clock.now()
    cycle = args.cycle or campaign.cycle_of(now, config.office.timezone)
    store = Store.open(config)
    out = Path(args.out) if args.out else preview_folder(config.storage.root, campaign.id, cycle)
    rows = draft.draft_rows(store, campaign, cycle)
    model = draft.model_from_ledger(config, store, campaign, cycle, now, rows)
    try:
        docx_path, xlsx_path = writers.write_draft(config, model, out)
        previous = draft.previous_model(config, store, campaign, cycle, now, rows)
        notes_path = notes.write_notes(model, docx_path, previous, tz=config.office.timezone)
    except writers.DraftError as exc:  # the Word template: a configuration problem
        raise UsageError(t("draft.failed", campaign=campaign.id, cycle=cycle, error=exc))
    except OSError as exc:  # the disk: an operational failure, said like the service says it
        from daemon.store import storage_problem
        print(t("storage.draft", path=exc.filename or out, error=storage_problem(exc)), file=sys.stderr)
        return 1
    for path in (docx_path, xlsx_path, notes_path):
        print(path)
    return 0


def cmd_run(args) -> int:
    from daemon.intake.mailbox import MailboxError  # imapclient: only the commands that reach a mailbox
    from daemon.runner import Runner

    from daemon.checks import draft_template_problems, template_problems

    config, clock = load(args)
    # Templates check-config rejects would break at run time (answers, drafts): refused at start.
    problems = template_problems(config, clock.now()) + draft_template_problems(config, clock.now(), quick=True)
    if problems:
        raise ConfigError(problems)
    logs.setup(logging.INFO)
    logging.getLogger("tonghop").info(t("cli.started", version=version(), dir=config.dir, storage=config.storage.root))
    # imapclient warns in English, with raw bytes, when a server's words are not ASCII (Dovecot
    # names a folder in UTF-8); the reason it matters is logged by tonghop itself, in Vietnamese.
    logging.getLogger("imapclient").setLevel(logging.ERROR)
    lock = take_instance_lock(config.storage.root)  # one service per storage folder; held until exit
    store = Store.open(config)
    store.check_writable()  # never run while unable to record: say why and exit 1 instead
    store.check_integrity()  # never record into a damaged ledger: say how to restore it, exit 2
    for leftover in clean_leftovers(config.storage.root):  # half-written files of a killed process
        logging.getLogger("tonghop").info(t("storage.leftover", path=leftover))
    runner = Runner(config, store, clock)
    from parsers.convert import resident_converters

    with resident_converters():  # legacy files through a resident LibreOffice from the first one; stopped here
        if args.once:
            try:
                runner.once()
            except MailboxError as exc:
                print(t("cli.mailbox_down", error=exc), file=sys.stderr)
                return 1
            return 0
        runner.forever()
        return 0


def cmd_reprocess(args) -> int:
    from daemon.runner import ArchiveMissing, Runner

    if not args.all and not args.ids:
        raise UsageError("Cần ghi mã thư (ID) hoặc --all.")
    config, clock = load(args)
    logs.setup(logging.INFO)
    store = Store.open(config)
    runner = Runner(config, store, clock)
    ids = [r["id"] for r in store.messages()] if args.all else args.ids
    code, unreadable = 0, []
    for msg_id in ids:
        if store.find_message(msg_id) is None:
            print(f"Không có thư mã {msg_id}.", file=sys.stderr)
            code = 1
            continue
        try:
            status = runner.reprocess(msg_id)
        except ArchiveMissing as exc:
            print(exc, file=sys.stderr)
            unreadable.append(msg_id)
            code = 1
            continue
        print(f"Thư {msg_id}: {STATUS_NAMES.get(status, status)} - {store.message(msg_id)['reason']}")
    if unreadable:
        print(t("reprocess.unreadable", count=len(unreadable), ids=", ".join(map(str, unreadable)),
                archive=store.archive.root), file=sys.stderr)
    return code


def cmd_resolve(args) -> int:
    import getpass

    from daemon.desk import Desk

    modes = [bool(args.unit and not args.file), bool(args.file), args.ignore, args.resend]
    if sum(modes) != 1:
        raise UsageError("Chọn đúng một cách xử lý: --unit UNIT [--remember], --file SEQ --unit UNIT --requirement R, "
                         "--ignore hoặc --resend.")
    if args.file and not (args.unit and args.requirement):
        raise UsageError("--file cần cả --unit và --requirement.")
    if args.remember and not modes[0]:
        raise UsageError("--remember chỉ dùng cùng --unit (không kèm --file).")
    config, clock = load(args)
    store = Store.open(config)
    desk = Desk(config, store, clock)
    who = args.who or os.environ.get("USER") or getpass.getuser()
    if store.find_message(args.id) is None:
        print(t("desk.no_message", id=args.id), file=sys.stderr)
        return 1
    if args.ignore:
        result = desk.not_a_submission(args.id, who=who, note=args.note)
    elif args.resend:
        result = desk.ask_resend(args.id, who=who, note=args.note)
    elif args.file:
        files = store.attachments_of(args.id)
        seq = int(args.file) - 1 if args.file.isdigit() else next(
            (a["seq"] for a in files if a["filename"] == args.file), -1)
        campaign = args.campaign
        if campaign is None:
            having = [c.id for c in config.campaigns if c.requirement(args.requirement) is not None]
            if len(having) > 1:
                raise UsageError(t("desk.which_campaign", requirement=args.requirement, known=", ".join(having)))
            campaign = having[0] if having else (config.campaigns[0].id if config.campaigns else "")
        result = desk.file_is(args.id, seq, args.unit, campaign, args.requirement, who=who)
    else:
        result = desk.sender_is(args.id, args.unit, who=who, remember=args.remember)
    if not result.ok:
        print(result.reason, file=sys.stderr)
        return 2
    print(f"Thư {args.id}: {STATUS_NAMES.get(result.status, result.status)} - {result.reason}")
    if args.remember:
        address = store.message(args.id)["from_addr"]
        print(t("desk.remembered", address=address, unit=config.unit(args.unit).name))
    print("Thư trả lời (nếu có) đã được xếp vào hộp thư đi; dịch vụ tonghop sẽ gửi ở lượt tới.")
    return 0


def cmd_inspect(args) -> int:
    from parsers.document import document_to_json, read_file

    entries, code = [], 0
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            print(f"Không tìm thấy tệp {name}.", file=sys.stderr)
            code = 1
            continue
        entries.extend(document_to_json(doc) for doc in read_file(path))
    if args.json:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return code
    for e in entries:
        print(f"== {e['file']} ({e['kind']})")
        for key, value in (e.get("facts") or {}).items():
            if value is not None and not isinstance(value, (list, dict)):
                print(f"   {key}: {value}")
        for problem in e["problems"]:
            print(f"   ! {problem}")
    return code


def cmd_demo(args) -> int:
    from tonghop_demo import run as demo
    from daemon.status import status_document

    from daemon import skeleton

    tz = load_config(skeleton.root() / "config").office.timezone
    try:
        until = parse_now(args.now, tz) if args.now else None
    except ValueError:
        raise UsageError(t("cli.bad_now", value=args.now))
    logs.setup(logging.WARNING)
    result = demo.run(Path(args.dir), until)
    if result.now is not None:
        print("\nTình hình nộp văn bản lúc " + result.now.strftime("%H:%M ngày %d/%m/%Y") + ":\n")
        doc = status_document(result.config, result.store.submissions(), result.now)
        print_status_table(doc, result.config, sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    demo.summary(result)
    return 0


def cmd_init(args) -> int:
    from daemon import skeleton

    target = Path(args.dir)
    for sub in ("config", "templates"):
        if (target / sub).exists():
            raise UsageError(t("cli.init_exists", path=(target / sub).resolve()))
    config, templates = skeleton.copy_to(target)
    print(t("cli.init_done", config=config.resolve(), templates=templates.resolve()))
    return 0


def cmd_web(args) -> int:
    import re

    from daemon.config_toml import read_accounts

    config, clock = load(args)
    if args.set_password:
        return set_web_password(config, args.set_password, args.role)
    if args.role:
        raise UsageError("--role chỉ dùng cùng --set-password USER.")
    accounts, problems = read_accounts(config.web.accounts_file)
    if problems:
        raise ConfigError(problems)
    if not any(a.password for a in accounts):
        raise UsageError(f"Chưa có tài khoản nào đặt mật khẩu trong {config.web.accounts_file}; "
                         "đặt bằng: tonghop web --set-password TÊN")
    from waitress import serve

    from daemon.web.app import create_app

    host, port = args.host or config.web.host, args.port or config.web.port
    if not re.fullmatch(r"[0-9A-Za-z.:\-\[\]]+", host) or not 0 < port < 65536:
        raise UsageError(f"Địa chỉ lắng nghe «{host}:{port}» không hợp lệ.")
    logs.setup(logging.INFO)
    store = Store.open(config)
    store.close()  # the ledger opens (and is migrated) before the first clerk arrives
    app = create_app(config, clock)
    print(f"Bàn làm việc tonghop: http://{host}:{port}/ (Ctrl+C để dừng)", file=sys.stderr)
    try:
        serve(app, host=host, port=port, threads=4, ident="tonghop")
    except OSError as exc:
        print(f"Không mở được cổng {host}:{port}: {exc}", file=sys.stderr)
        return 1
    return 0


def set_web_password(config, name: str, role: str | None) -> int:
    import getpass

    from daemon.config_toml import ID_RE, read_accounts
    from daemon.web.accounts import hash_password, set_password

    if not ID_RE.match(name):
        raise UsageError(f"Tên tài khoản «{name}» không hợp lệ; chỉ dùng chữ thường không dấu, số và dấu gạch ngang.")
    if sys.stdin.isatty():
        password = getpass.getpass(f"Mật khẩu mới cho «{name}»: ")
        if getpass.getpass("Nhập lại mật khẩu: ") != password:
            raise UsageError("Hai lần nhập mật khẩu không khớp; chưa đổi gì.")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        raise UsageError("Mật khẩu cần ít nhất 8 ký tự; chưa đổi gì.")
    path = config.web.accounts_file
    _, problems = read_accounts(path)
    if problems:
        raise ConfigError(problems)
    new = set_password(path, name, hash_password(password), role)
    print(("Đã tạo tài khoản" if new else "Đã đặt mật khẩu cho tài khoản") + f" «{name}» trong {path}.")
    return 0


COMMANDS = {
    "init": cmd_init,
    "web": cmd_web,
    "demo": cmd_demo,
    "run": cmd_run,
    "messages": cmd_messages,
    "check-config": cmd_check_config,
    "status": cmd_status,
    "draft": cmd_draft,
    "reprocess": cmd_reprocess,
    "resolve": cmd_resolve,
    "inspect": cmd_inspect,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print(t("cli.config_bad", count=len(exc.problems), dir=config_dir(args).resolve()), file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except StorageError as exc:  # the ledger or the archive cannot be written: an operational failure
        print(exc, file=sys.stderr)
        return 1
    except AlreadyRunning as exc:
        print(exc, file=sys.stderr)
        return 3
    except LedgerCorrupt as exc:
        print(exc, file=sys.stderr)
        return 2
    except LedgerReplaced as exc:
        print(exc, file=sys.stderr)
        return 1
    except sqlite3.DatabaseError as exc:
        if not is_corruption(exc) and not ledger_damaged(args):
            raise
        print(corrupt_text(ledger_path(args), exc), file=sys.stderr)
        return 2


def ledger_path(args) -> Path:
    try:
        return load_config(config_dir(args)).storage.db_path
    except ConfigError:
        return Path("tonghop.db")


def ledger_damaged(args) -> bool:
    """After an unexpected SQLite error (an IntegrityError from a damaged index): is the file whole?"""
    return file_damaged(ledger_path(args))


if __name__ == "__main__":
    sys.exit(main())
