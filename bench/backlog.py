#!/usr/bin/env python3
"""A backlog of unit mail waiting in the mailbox: how long `tonghop run --once` takes to process
all of it, against the floor measured in the same run.

Usage: python bench/backlog.py [--n 1000] [--floor-rounds 3] [--doc] [--keep] [--profile FILE]
Not a test: it prints figures and never fails on speed. Target (issue 17): processing within
1.3x of (fetch floor + reading alone), both measured in the same run.

Set-up (not timed): a private Dovecot and an aiosmtpd sink on loopback (tests/servers.py); a pool
of generated documents (36 .docx reports and plans of the campaign's units, 8 filled .xlsx figure
forms, 6 PDFs exported by LibreOffice; with --doc also 6 Word 97 .doc files); N messages made from
them (bench/_servers.py mix_for: mostly one .docx, some with the .xlsx form, some PDF, some a plan
and a report together, one in 20 a zip; each message unique by its headers) APPENDed to INBOX.

Timed:
- floor: imapclient logs in, selects INBOX, UID SEARCH ALL, and fetches BODY.PEEK[] of every
  message in batches of the configured batch_size (20), keeping nothing: the least any program
  must do to have the bytes. imaplib's debug level is 0, as in the daemon (imapclient sets 5,
  which makes imaplib format a repr() of every response: that floor is printed too, for
  reference). Run --floor-rounds times before the daemon, in turns; the medians are used.
- the daemon: `python -m daemon.cli --config DIR --now 2024-10-19T10:00 run --once` as a child
  process (through bench/_probe.py, which timestamps the runner's steps):
    processing = Runner.fetch_pass: every message fetched, archived (fsync), claimed, read,
                 decided, recorded with its acknowledgement queued (one transaction); then
                 the batch's folders noted and its messages moved, one UID MOVE per folder;
    sending    = Runner.send_outbox: the acknowledgements (and the reminders due at --now)
                 delivered to the sink over SMTP, each marked sent;
    command    = the whole child process, from exec to exit (start-up, imports, jobs, sending).
  Inside processing, per message: reading (decide.read, the very function timed alone below),
  the answers composed (Runner.render_answers), the decision written (Store.record), the archive
  write (Archive.put, fsync'd) and the claim (Store.claim). The ratio to the floor is printed
  for processing and for the whole command, for reference.
- reference (after the run, in this process): reading every message with parsers/ alone
  (daemon.intake.decide.read: MIME, every attachment, the ND30 facts), which no program that acts on
  the documents can skip; printed as a ratio to the floor, and processing against floor + reading
  (the target, TARGET).
Checked afterwards: every message recorded once, INBOX empty, one acknowledgement per message
received by the sink.
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _servers as S  # noqa: E402

NOW = "2024-10-19T10:00:00"
START = dt.datetime(2024, 10, 1, 7, 0, tzinfo=S.ICT)
TARGET = 1.3  # processing / (floor + reading alone), issue 17


def floor(account, batch_size: int, quiet: bool = True) -> tuple[float, int, int]:
    """Seconds to fetch every message's bytes in batches, and (messages, bytes) fetched.

    quiet: imaplib's debug level set to 0, as the daemon does (daemon/intake/mailbox.py); imapclient's
    default (5) makes imaplib format the repr() of every response, ~0.7 ms per 60 KB message."""
    from imapclient import IMAPClient

    started = time.perf_counter()
    client = IMAPClient(account.server.host, account.server.port, use_uid=True, ssl=False, timeout=60)
    if quiet:
        client._imap.debug = 0
    client.login(account.user, account.password)
    client.select_folder("INBOX", readonly=True)
    uids = sorted(client.search(["ALL"]))
    count = size = 0
    for k in range(0, len(uids), batch_size):
        data = client.fetch(uids[k:k + batch_size], [b"BODY.PEEK[]", b"INTERNALDATE"])
        for item in data.values():
            count += 1
            size += len(item[b"BODY[]"])
    client.logout()
    return time.perf_counter() - started, count, size


def read_only(config_dir: Path, mails: list[tuple[bytes, dt.datetime]]) -> tuple[float, float]:
    """Seconds (wall, CPU) to read every message with parsers/ alone, in this process: MIME,
    every attachment, the ND30 facts (daemon.intake.decide.read, what intake decides from). A reference
    for what reading costs by itself, not a floor the daemon could reach without reading."""
    from daemon.intake.decide import read

    config = S.load_config(config_dir)
    read(mails[0][0], config)  # imports and caches, as the daemon's first message pays them
    wall, cpu = time.perf_counter(), time.process_time()
    for raw, _ in mails:
        read(raw, config)
    return time.perf_counter() - wall, time.process_time() - cpu


def check(target: Path, account, sink, n: int) -> dict:
    with sqlite3.connect(target / "var" / "tonghop.db") as db:
        statuses = dict(db.execute("select status, count(*) from messages group by status").fetchall())
        acks = db.execute("select count(*) from outbox where kind = 'ack'").fetchone()[0]
        sent = dict(db.execute("select status, count(*) from outbox group by status").fetchall())
    received = [m for m in sink.messages] if sink else []
    left = account.list_uids("INBOX")
    return {"statuses": statuses, "acks_queued": acks, "outbox": sent, "sink_received": len(received),
            "inbox_left": len(left), "ok": statuses.get("recorded", 0) == n and not left and acks == n}


def run(n: int, floor_rounds: int = 3, with_doc: bool = False, keep: bool = False, out=sys.stdout,
        profile: Path | None = None) -> dict:
    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    say(f"bench/backlog.py, {n} messages")
    say(S.machine() + f"; dovecot {S.dovecot_version()}")
    t0 = time.perf_counter()
    pool = S.document_pool(doc_count=6 if with_doc else 0)
    mails = S.backlog(n, pool, START)
    total_bytes = sum(len(raw) for raw, _ in mails)
    say(f"set-up: {sum(len(v) for v in pool.values())} documents generated and {n} messages "
        f"({total_bytes / 1e6:.1f} MB, {total_bytes / n / 1024:.0f} KB each on average) built in "
        f"{time.perf_counter() - t0:.1f} s")
    work = Path(tempfile.mkdtemp(prefix="tonghop-bench-backlog-"))
    result: dict = {"n": n}
    try:
        with S.mail_servers() as (account, sink):
            t0 = time.perf_counter()
            S.append_all(account, mails)
            say(f"set-up: APPENDed to Dovecot in {time.perf_counter() - t0:.1f} s")
            config = S.service_config(work, account, sink)
            batch = S.load_config(config).mailbox.batch_size
            floors, loud = [], []
            for _ in range(floor_rounds):  # in turns, so that load from elsewhere falls on both
                seconds, count, size = floor(account, batch)
                assert count == n, (count, n)
                floors.append(seconds)
                loud.append(floor(account, batch, quiet=False)[0])
            floor_s, loud_s = statistics.median(floors), statistics.median(loud)
            say(f"floor (imapclient, BODY.PEEK[] in batches of {batch}, imaplib's debug off as in the daemon): "
                f"median {floor_s:.2f} s over {floor_rounds} rounds {[round(f, 2) for f in floors]}; "
                f"{n / floor_s:.0f} msg/s, {size / 1e6 / floor_s:.0f} MB/s")
            say(f"  for reference, imapclient as it comes (imaplib's debug 5): median {loud_s:.2f} s "
                f"{[round(f, 2) for f in loud]}")
            events_path = work / "events.txt"
            child = S.run_once(config, account, now=NOW, events=events_path, profile=profile)
            if child.code != 0:
                say(child.log[-3000:])
                raise SystemExit(f"run --once exited {child.code}")
            events = S.read_events(events_path)
            processing = S.phase_seconds(events, "fetch_pass")
            processing_cpu = S.phase_seconds(events, "fetch_pass", cpu=True)
            sending = S.phase_seconds(events, "send_outbox")
            finish = S.phase_seconds(events, "finish")
            finish_cpu = S.phase_seconds(events, "finish", cpu=True)
            handle = S.phase_seconds(events, "handle")
            move = S.phase_seconds(events, "move")
            split = {name: S.phase_seconds(events, name) for name in ("read", "ahead", "answers", "record", "archive", "claim")}
            read_in_cpu = S.phase_seconds(events, "read", cpu=True)
            read_here = sum(1 for e in events if e.name == "read-end")
            # the reader's CPU: children reaped during fetch_pass (recover runs just before it)
            kids = {e.name: float(e.detail or 0) for e in events if e.name in ("recover-end", "fetch_pass-end")}
            reader_cpu = kids.get("fetch_pass-end", 0.0) - kids.get("recover-end", 0.0)
            at = {e.name: e.at for e in reversed(events)}  # the first of each name
            start_up = at["fetch_pass-begin"] - at["process-start"]
            verdict = check(work, account, sink, n)
            result.update(floor=floor_s, floor_default=loud_s, processing=processing, processing_cpu=processing_cpu, sending=sending,
                          command=child.seconds, command_cpu=child.cpu_seconds,
                          peak_rss_mb=S.peak_rss_mb(events), check=verdict)
            say(f"run --once: processing {processing:.2f} s ({n / processing:.1f} msg/s, "
                f"{processing / n * 1000:.1f} ms/msg; daemon CPU {processing_cpu:.2f} s), sending "
                f"{verdict['outbox'].get('sent', 0)} mails {sending:.2f} s, whole command {child.seconds:.2f} s "
                f"(CPU {child.cpu_seconds:.2f} s, start-up {start_up:.2f} s), peak RSS {S.peak_rss_mb(events):.0f} MB")
            say(f"  per message: read+decide+record {finish / n * 1000:.1f} ms (CPU {finish_cpu / n * 1000:.1f} ms), "
                f"archive+claim {(handle - finish) / n * 1000:.1f} ms, move (ledger note + IMAP claim and MOVE, "
                f"one per batch and folder) {move / n * 1000:.1f} ms, IMAP fetch and the rest "
                f"{(processing - handle - move) / n * 1000:.1f} ms")
            ms = {name: seconds / n * 1000 for name, seconds in split.items()}
            say(f"  inside read+decide+record: reading here {ms['read']:.1f} ms (CPU {read_in_cpu / n * 1000:.1f} ms, "
                f"{read_here} messages), waiting for the read-ahead reader {ms['ahead']:.1f} ms "
                f"({n - read_here} messages read there, its CPU {reader_cpu:.2f} s), answers composed {ms['answers']:.1f} ms, "
                f"decision written {ms['record']:.1f} ms, the rest (decide, attempts, log) "
                f"{(finish / n * 1000) - ms['read'] - ms['ahead'] - ms['answers'] - ms['record']:.1f} ms; inside archive+claim: "
                f"archive {ms['archive']:.1f} ms, claim {ms['claim']:.1f} ms")
            result.update(split=split, finish=finish, handle=handle, move=move, read_here=read_here,
                          reader_cpu=reader_cpu)
            say(f"  check: {verdict}")
            say(f"ratio to the floor: processing {processing / floor_s:.1f}x, whole command "
                f"{child.seconds / floor_s:.1f}x; against imapclient "
                f"as it comes: {processing / loud_s:.1f}x and {child.seconds / loud_s:.1f}x")
            read_s, read_cpu = read_only(config, mails)
            result.update(read=read_s, read_cpu=read_cpu)
            say(f"reference, reading alone (parsers/, in this process, after the run): {read_s:.2f} s "
                f"({read_s / n * 1000:.1f} ms/msg, CPU {read_cpu:.2f} s) = {read_s / floor_s:.1f}x the floor; "
                f"processing is {processing / (floor_s + read_s):.2f}x (floor + reading; target within {TARGET:g}x)")
            # CPU seconds, which load from other processes on a shared machine changes far less
            # than wall time: the daemon's CPU in processing against this process's in reading
            say(f"  in CPU time: processing {processing_cpu:.2f} s (+ {reader_cpu:.2f} s in the read-ahead "
                f"reader = {processing_cpu + reader_cpu:.2f} s), reading alone {read_cpu:.2f} s: "
                f"{(processing_cpu + reader_cpu) / read_cpu:.2f}x (both processes; the reader's CPU counts its own "
                f"children, pdftotext and LibreOffice, which reading alone in this process does not)")
    finally:
        if keep:
            say(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="messages in the backlog (default 1000)")
    parser.add_argument("--floor-rounds", type=int, default=3)
    parser.add_argument("--doc", action="store_true", help="also send Word 97 .doc files (one message in 25)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (database, archive)")
    parser.add_argument("--profile", type=Path, help="run the daemon under cProfile, writing the stats here "
                        "(the figures are then slower than without)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.floor_rounds < 1:
        parser.error("--n and --floor-rounds must be at least 1")
    run(args.n, args.floor_rounds, args.doc, args.keep, profile=args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
