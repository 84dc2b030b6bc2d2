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
from datetime import timedelta
from pathlib import Path

from daemon.clock import Clock, local_text, parse_now
from daemon.config import UNIT_KINDS, Config, ConfigError
from daemon.config_toml import load_config
from daemon.durable import clean_leftovers
from daemon.intake.mailbox import MailboxError
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
    p.add_argument("--config", default=None, help="thư mục cấu hình (mặc định: $TONGHOP_CONFIG, nếu không có thì ./config)")
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

    ins = sub.add_parser("inspect", help="xem tonghop đọc được gì trong các tệp (không cần cấu hình)")
    ins.add_argument("files", nargs="+", metavar="FILE")
    ins.add_argument("--json", action="store_true", help="in dạng JSON")
    dem = sub.add_parser("demo", help="chạy thử trọn một đợt báo cáo (01/10 đến sau hạn 20/10/2024) trên hộp thư cục bộ; "
                                      "--now dừng câu chuyện ở thời điểm đó")
    dem.add_argument("--dir", default="demo-run", help="thư mục chạy thử (tạo mới mỗi lần; mặc định ./demo-run)")
    return p


def config_dir(args) -> Path:
    return Path(args.config or os.environ.get("TONGHOP_CONFIG") or "config")


def load(args) -> tuple[Config, Clock]:
    config = load_config(config_dir(args))
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
    from daemon.checks import connection_problems, schedule_problems, template_problems

    config, clock = load(args)
    now = clock.now()
    problems = template_problems(config, now) + schedule_problems(config, now)
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
            print(f"  - {r.name}: hạn {deadline.strftime('%H:%M ngày %d/%m/%Y')}")
    print_days_off(config, now)
    return 0


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
        echo(f"{c['title']} (kỳ {c['cycle']})")
        for r in c["requirements"]:
            echo(f"  {r['name']}: hạn {local(r['deadline'], config)}")
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
    docx_path, xlsx_path = writers.write_draft(config, model, out)
    previous = draft.previous_model(config, store, campaign, cycle, now, rows)
    for path in (docx_path, xlsx_path, notes.write_notes(model, docx_path, previous, tz=config.office.timezone)):
        print(path)
    return 0


def cmd_run(args) -> int:
    from daemon.runner import Runner

    config, clock = load(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
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

    tz = load_config(demo.EXAMPLE_CONFIG).office.timezone
    try:
        until = parse_now(args.now, tz) if args.now else None
    except ValueError:
        raise UsageError(t("cli.bad_now", value=args.now))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s", stream=sys.stderr)
    result = demo.run(Path(args.dir), until)
    if result.now is not None:
        print("\nTình hình nộp văn bản lúc " + result.now.strftime("%H:%M ngày %d/%m/%Y") + ":\n")
        doc = status_document(result.config, result.store.submissions(), result.now)
        print_status_table(doc, result.config, sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    demo.summary(result)
    return 0


COMMANDS = {
    "demo": cmd_demo,
    "run": cmd_run,
    "messages": cmd_messages,
    "check-config": cmd_check_config,
    "status": cmd_status,
    "draft": cmd_draft,
    "reprocess": cmd_reprocess,
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
