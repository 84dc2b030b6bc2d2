#!/usr/bin/env python3
"""An attachment over the size limit (issue 15, item 17): what the office is told, and the
daemon's peak memory for it. `run --once` against a private Dovecot (bench/_servers.py), one
message per case, a fresh user and ledger each.

Usage: python bench/oversize.py [--mb 52,110]
Not a test: it prints figures and never fails. Target: peak RSS under 250 MB for a 70 MB mail.

Cases: a unit's mail carrying one PDF of N MB (random bytes after a PDF header, so it does not
compress), base64 in MIME as a mail program sends it: 52 MB makes a message of about 70 MB, 110 MB
one of about 150 MB (over the 60 MB message limit, where the size used to be told wrong: the
attachment was decoded from the first 60 MB and reported as "Tệp quá lớn (43,8 MB)").

Peak RSS: VmHWM of the daemon process as it exits (bench/_probe.py; resource.getrusage's
RUSAGE_CHILDREN ru_maxrss is printed beside it, for comparison, though it also counts the
benchmark's own high-water mark, inherited at fork).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _servers as S  # noqa: E402

NOW = "2024-10-19T10:00:00"
START = dt.datetime(2024, 10, 2, 7, 0, tzinfo=S.ICT)
TARGET_MB = 250


def case(server, work: Path, megabytes: float, k: int) -> dict:
    unit = S.units()[0]
    data = b"%PDF-1.4\n" + os.urandom(int(megabytes * 1024 * 1024))
    when = START + dt.timedelta(hours=k)
    raw = S.unit_message(k, [S.Doc(unit.id, f"Báo cáo kèm phụ lục ảnh {megabytes:g} MB.pdf", data, S.PDF)],
                         when - dt.timedelta(seconds=40))
    del data
    user, password = server.new_user()
    account = S.ImapAccount(server, user, password)
    S.append_all(account, [(raw, when)])
    size = len(raw)
    del raw
    target = work / f"case{k}"
    target.mkdir()
    config = S.service_config(target, account, None)
    events = target / "events.txt"
    child = S.run_once(config, account, now=NOW, events=events)
    with sqlite3.connect(target / "var" / "tonghop.db") as db:
        rows = db.execute("select m.status, a.problems from messages m left join attachments a on a.message = m.id").fetchall()
    shutil.rmtree(target / "var" / "archive", ignore_errors=True)
    return {"attachment_mb": megabytes, "message_mb": size / 2**20, "peak_mb": S.peak_rss_mb(S.read_events(events)),
            "children_maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "seconds": child.seconds, "code": child.code,
            "told": [(status, json.loads(p) if p else []) for status, p in rows]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", default="52,110", help="attachment sizes in MB, comma-separated")
    args = parser.parse_args(argv)
    sizes = [float(x) for x in args.mb.split(",") if x.strip()]
    print(f"bench/oversize.py: `run --once` on one mail with a large attachment; {S.machine()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="tonghop-bench-oversize-"))
    try:
        with S.mail_servers(smtp=False) as (account, _):
            for k, mb in enumerate(sizes):
                r = case(account.server, work, mb, k)
                verdict = "ok" if r["peak_mb"] < TARGET_MB else "OVER"
                print(f"  attachment {r['attachment_mb']:6.1f} MB, message {r['message_mb']:6.1f} MB: peak RSS "
                      f"{r['peak_mb']:6.1f} MB ({verdict}; getrusage children {r['children_maxrss_mb']:.0f} MB) "
                      f"{r['seconds']:5.1f} s exit {r['code']}", flush=True)
                for status, problems in r["told"]:
                    print(f"    {status}: {' | '.join(problems)}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
