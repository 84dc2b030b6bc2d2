#!/usr/bin/env python3
"""How the cost of `tonghop run --once` grows with the backlog and with the number of units.

Usage: python bench/scale.py [--messages 100,1000,10000] [--units 30,500,2000] [--imap] [--keep]
Not a test: it prints figures and never fails on speed. Target (issue 17): the cost per message
at 10,000 messages within 1.2x of that at 100; jobs per pass sub-linear in the units.

Set-up (not timed): the example configuration (28 units of the campaign, 30 in units.toml) on
the embedded default, a Maildir (with --imap also a private Dovecot, APPENDed over one
connection); a small pool of generated .docx reports and .xlsx figure forms (no PDF, so that no
LibreOffice runs), N messages made from them (bench/_servers.py mix_for), arriving 20 s apart
before --now, written straight into the Maildir's new/ (mtime = arrival).

Timed: `python -m daemon.cli --config DIR --now ... run --once` as a child process, through
bench/_probe.py: the whole command (wall), processing (Runner.fetch_pass), and in it the finish
step (read + decide + record) and the moves (Runner.move_all); the ratio column is the cost per
message against that of the smallest backlog.

Units: the example's units and as many generated ones (units.toml, same campaign) as asked for;
an empty mailbox; the first `run --once` queues what is due at --now (openings, reminders, the
digest) into the outbox (sending is to a folder, dir:), the second at the same --now finds
nothing new due: its run_jobs (every job of a pass) is the figure, with the third's as a check.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _servers as S  # noqa: E402
from service import make_config  # noqa: E402  (tests/ is on the path through _servers)

NOW = "2024-10-19T10:00:00"
START = dt.datetime(2024, 10, 1, 7, 0, tzinfo=S.ICT)


def say(text: str) -> None:
    print(text, flush=True)


def small_pool() -> dict:
    # 28 .docx (one per unit, ~20-40 KB) and the 8 filled forms: generated in a few seconds
    return S.document_pool(docx_count=28, pdf_count=0, doc_count=0)


def maildir_backlog(root: Path, n: int, pool: dict) -> None:
    new = root / "new"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    gap = dt.timedelta(seconds=20)
    for i in range(n):
        when = START + gap * i
        raw = S.unit_message(i, S.mix_for(i, pool), when - dt.timedelta(seconds=5))
        path = new / f"{int(when.timestamp())}.M{i}P1.bench"
        path.write_bytes(raw)
        os.utime(path, (when.timestamp(), when.timestamp()))


def child_env() -> dict:
    return dict(os.environ, PYTHONPATH=str(S.ROOT))


def run_once(config: Path, events: Path, env: dict) -> S.Child:
    import subprocess

    started = time.monotonic()
    log = open(config.parent / "daemon.log", "ab")
    try:
        proc = subprocess.Popen(S.daemon_argv(config, "run", "--once", now=NOW, events=events), cwd=S.ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()
    return S.reap(proc, started, timeout=3600)


def measure_messages(n: int, pool: dict, work: Path, imap_account=None) -> dict:
    folder = work / f"m{n}"
    folder.mkdir()
    if imap_account is None:
        maildir = folder / "maildir"
        maildir_backlog(maildir, n, pool)
        config = make_config(folder, f"maildir:{maildir}", None, max_per_address_per_day="1000000")
        env = child_env()
    else:
        mails = [(S.unit_message(i, S.mix_for(i, pool), START + dt.timedelta(seconds=20 * i - 5)),
                  START + dt.timedelta(seconds=20 * i)) for i in range(n)]
        S.append_all(imap_account, mails)
        config = S.service_config(folder, imap_account, None)
        env = S.daemon_env(imap_account)
    events_path = folder / "events.txt"
    child = run_once(config, events_path, env)
    if child.code != 0:
        say(child.log[-3000:])
        raise SystemExit(f"run --once exited {child.code}")
    events = S.read_events(events_path)
    out = dict(n=n, wall=child.seconds, processing=S.phase_seconds(events, "fetch_pass"),
               finish=S.phase_seconds(events, "finish"), move=S.phase_seconds(events, "move"),
               jobs=S.phase_seconds(events, "run_jobs"))
    import sqlite3

    conn = sqlite3.connect(folder / "var" / "tonghop.db")
    out["recorded"] = conn.execute("select count(*) from messages where moved_to is not null").fetchone()[0]
    conn.close()
    if out["recorded"] != n:
        raise SystemExit(f"{n} messages but {out['recorded']} moved in the ledger")
    return out


def units_toml(extra: int) -> str:
    """The example's units.toml and `extra` generated communes (the campaign takes every unit)."""
    text = (S.EXAMPLE / "units.toml").read_text(encoding="utf-8")
    lines = [text]
    for k in range(extra):
        lines.append(f'\n[[unit]]\nid = "xa-sinh-{k:04d}"\nname = "UBND xã Sinh {k:04d}"\nkind = "commune"\n'
                     f'emails = ["ubnd.sinh{k:04d}@thapmuoi.example"]\n')
    return "".join(lines)


def measure_units(count: int, work: Path) -> dict:
    folder = work / f"u{count}"
    folder.mkdir()
    maildir = folder / "maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    config = make_config(folder, f"maildir:{maildir}", None, max_per_address_per_day="1000000")
    have = len(S.CONFIG.units)
    (config / "units.toml").write_text(units_toml(max(0, count - have)), encoding="utf-8")
    rounds = []
    for k in range(3):
        events_path = folder / f"events{k}.txt"
        child = run_once(config, events_path, child_env())
        if child.code != 0:
            say(child.log[-3000:])
            raise SystemExit(f"run --once exited {child.code}")
        rounds.append(S.phase_seconds(S.read_events(events_path), "run_jobs"))
    import sqlite3

    conn = sqlite3.connect(folder / "var" / "tonghop.db")
    queued = conn.execute("select count(*) from outbox").fetchone()[0]
    conn.close()
    return dict(units=count, first=rounds[0], nothing_due=rounds[1], again=rounds[2], outbox=queued)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", default="100,1000,10000")
    parser.add_argument("--units", default="30,500,2000")
    parser.add_argument("--imap", action="store_true", help="also against Dovecot")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.messages.split(",") if x]
    unit_counts = [int(x) for x in args.units.split(",") if x]
    say(f"bench/scale.py\n{S.machine()}")
    work = Path(tempfile.mkdtemp(prefix="tonghop-scale-"))
    try:
        if sizes:
            started = time.monotonic()
            pool = small_pool()
            say(f"set-up: pool of {len(pool['docx'])} .docx and {len(pool['xlsx'])} .xlsx in {time.monotonic() - started:.1f} s")
            kinds = [("Maildir", None)]
            servers = None
            if args.imap:
                servers = S.mail_servers(smtp=False)
                account, _sink = servers.__enter__()
                kinds.append(("IMAP", account))
            try:
                for label, account in kinds:
                    rows = []
                    (work / label).mkdir()
                    for n in sizes:
                        rows.append(measure_messages(n, pool, work / label, account))
                        r = rows[-1]
                        say(f"  {label} {n}: run --once {r['wall']:.1f} s, processing {r['processing']:.1f} s (load {os.getloadavg()[0]:.2f})")
                    base = rows[0]["processing"] / rows[0]["n"]
                    say(f"\n{label}, run --once, messages (30 units in units.toml):")
                    say(f"{'messages':>9} {'run --once s':>13} {'processing s':>13} {'ms/msg':>8} {'ratio':>6} "
                        f"{'finish ms/msg':>14} {'move ms/msg':>12} {'jobs s':>7}")
                    for r in rows:
                        per = r["processing"] / r["n"]
                        say(f"{r['n']:>9} {r['wall']:>13.1f} {r['processing']:>13.1f} {per * 1000:>8.2f} "
                            f"{per / base:>6.2f} {r['finish'] / r['n'] * 1000:>14.2f} {r['move'] / r['n'] * 1000:>12.2f} "
                            f"{r['jobs']:>7.2f}")
                    say("")
            finally:
                if servers is not None:
                    servers.__exit__(None, None, None)
        if unit_counts:
            rows = [measure_units(c, work) for c in unit_counts]
            say("jobs per pass (run_jobs of run --once, empty mailbox, same --now):")
            say(f"{'units':>6} {'first pass s':>13} {'nothing due s':>14} {'again s':>8} {'ratio':>6} {'outbox rows':>12}")
            base = rows[0]["nothing_due"]
            for r in rows:
                say(f"{r['units']:>6} {r['first']:>13.2f} {r['nothing_due']:>14.2f} {r['again']:>8.2f} "
                    f"{r['nothing_due'] / base:>6.2f} {r['outbox']:>12}")
        say(f"load at the end: {os.getloadavg()[0]:.2f}")
    finally:
        if args.keep:
            say(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
