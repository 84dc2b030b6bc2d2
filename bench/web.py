#!/usr/bin/env python3
"""How long each page of the web desk takes over a large ledger: 2,000 units, 10,000 messages.

Usage: python bench/web.py [--units 2000] [--messages 10000] [--rounds 7]
Not a test: it prints figures and never fails on speed. Target: every page under 200 ms (median).

Set-up (not timed): the example's settings and campaign with N synthetic units (bench/draft.py's
make_config), and a ledger written through the Store's own methods (claim, record, queue) in one
transaction: of the messages, 70 % recorded (one file per requirement, one unit in ten sending a
second version), 10 % in review, 15 % ignored, 5 % failed; every recorded message queues its
acknowledgement and every unit a reminder, half of them sent; two draft versions.
Timed: each page through Flask's test client (the whole WSGI request: session check, ledger
queries, status rules, template), `--rounds` requests, the median and the slowest printed.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

from draft import TZ, make_config  # noqa: E402

TARGET_MS = 200


def fill(config, store, n_messages: int, seed: int = 7) -> dict:
    from daemon.records import AttachmentRecord, OutgoingMail, Outcome, SubmissionRecord

    rng = random.Random(seed)
    campaign = config.campaigns[0]
    units = list(campaign.unit_ids)
    start = datetime(2024, 10, 1, 7, 0, tzinfo=TZ)
    picks = {"review": None, "recorded": None}
    with store.atomic():
        for k in range(n_messages):
            roll = rng.random()
            unit = units[k % len(units)]
            at = start + timedelta(minutes=3 * k % (60 * 24 * 25))
            msg_id, _ = store.claim(("bench", "INBOX", 1, str(k)), sha256=f"{k:064x}", size=60000,
                                    message_id=f"<m{k}@bench.example>", received_at=at.isoformat())
            if roll < 0.70:
                atts = tuple(AttachmentRecord(f"{r.id}-{unit}.docx", "", "application/octet-stream", "docx", 40000,
                                              f"{k:060x}{i:04x}", (), {"number": f"{k}/{r.id[:2].upper()}-UBND",
                                                                       "title": "Kết quả công tác dân vận",
                                                                       "date": at.date().isoformat()})
                             for i, r in enumerate(campaign.requirements))
                subs = tuple(SubmissionRecord(i, campaign.id, "2024", r.id, f"{k}/BC-UBND", at.date().isoformat(),
                                              "Kết quả công tác dân vận") for i, r in enumerate(campaign.requirements))
                ack = OutgoingMail(f"ack:{k}", "ack", (f"{unit}@bench.example",), "Đã nhận: báo cáo",
                                   f"<ack{k}@bench.example>", b"Subject: x\r\n\r\nx", unit)
                outcome = Outcome("recorded", f"Đã ghi nhận cho {unit}.", unit, atts, subs, (ack,),
                                  from_addr=f"{unit}@bench.example", subject="Báo cáo công tác dân vận")
            elif roll < 0.80:
                outcome = Outcome("review", "Địa chỉ lạ chưa được khai báo cho đơn vị nào; cần cán bộ xem xét.", None,
                                  from_addr=f"la{k}@gmail.example", subject="Gửi báo cáo")
            elif roll < 0.95:
                outcome = Outcome("ignored", "Thư trả lời tự động; không phải văn bản báo cáo.", unit,
                                  from_addr=f"{unit}@bench.example", subject="Tự động trả lời")
            else:
                outcome = Outcome("failed", "Lỗi khi xử lý thư: thử nghiệm.", None, from_addr="x@bench.example", subject="?")
            store.record(msg_id, outcome, now=at)
            picks.setdefault(outcome.status, msg_id)
            if picks.get(outcome.status) is None:
                picks[outcome.status] = msg_id
        for n, unit in enumerate(units):
            store.queue(OutgoingMail(f"reminder:{unit}", "reminder", (f"{unit}@bench.example",), "Nhắc nộp báo cáo",
                                     f"<r{n}@bench.example>", b"Subject: x\r\n\r\nx", unit), now=start)
    sent = store.outbox_page(limit=10 ** 6)[0][::2]
    with store.atomic():
        for row in sent:
            store.update_mail(row["id"], {"status": "sent", "sent_at": start.isoformat()}, guard=None)
    return picks


def main() -> int:
    ap = argparse.ArgumentParser(description="Time each page of the web desk over a large ledger.")
    ap.add_argument("--units", type=int, default=2000)
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()

    from daemon.clock import Clock
    from daemon.config_toml import load_config
    from daemon.store import Store
    from daemon.web.accounts import hash_password, set_password
    from daemon.web.app import create_app
    from web_fixtures import PASSWORDS, log_in

    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(make_config(Path(tmp), args.units))
        store = Store.open(config)
        began = time.monotonic()
        picks = fill(config, store, args.messages)
        print(f"Sổ theo dõi: {args.units} đơn vị, {args.messages} thư, "
              f"{store.outbox_page(limit=1)[1]} thư gửi đi (tạo trong {time.monotonic() - began:.1f} s)")
        set_password(config.web.accounts_file, "hoa", hash_password(PASSWORDS["hoa"], n=2 ** 10))
        app = create_app(config, Clock(datetime(2024, 10, 25, 9, 0, tzinfo=TZ)))
        client = app.test_client()
        assert log_in(client, "hoa").status_code == 302
        unit = config.campaigns[0].unit_ids[5]
        pages = [("đăng nhập", "/dang-nhap"), ("bảng theo dõi", "/"), ("bảng, trang 20", "/?page=20"),
                 ("bảng, trễ hạn", "/?filter=late"), ("bảng, chưa nộp", "/?filter=missing"),
                 ("bảng, tìm đơn vị", "/?q=Số 1999"), ("đơn vị", f"/don-vi/{unit}"), ("thư đến", "/thu"),
                 ("thư đến, trang 100", "/thu?page=100"), ("thư đến, tìm", "/thu?q=gmail"),
                 ("thư đến, cần xem xét", "/thu?status=review"), ("chi tiết thư", f"/thu/{picks['recorded']}"),
                 ("cần xem xét", "/xem-xet"), ("dự thảo", "/du-thao"), ("thư gửi đi", "/thu-gui"),
                 ("thư gửi đi, đã gửi", "/thu-gui?status=sent")]
        print(f"\n{'Trang':24} {'trung vị':>10} {'chậm nhất':>10}  {'kích thước':>10}")
        worst = 0.0
        for label, path in pages:
            times, size = [], 0
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (path, response.status_code)
                size = len(response.data)
            median = statistics.median(times)
            worst = max(worst, median)
            flag = "" if median < TARGET_MS else "  > mục tiêu"
            print(f"{label:24} {median:8.1f} ms {max(times):8.1f} ms  {size / 1024:8.0f} KB{flag}")
        print(f"\nTrang chậm nhất (trung vị): {worst:.0f} ms; mục tiêu < {TARGET_MS} ms mỗi trang.")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
