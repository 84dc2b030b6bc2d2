"""Hostile and broken mail (tests/hostile/): each read within bounded time and memory with the
reason it must get, then all of them through a real Dovecot and `tonghop run --once`: every one
recorded with its reason, none stopping the loop, every notice about them delivered.

The readers behind these have their own tests (test_document.py, test_containers.py,
test_message.py, test_formats.py, test_sniff.py); this is the end-to-end view over one curated set,
through the same path the service takes (parse_message, read_document, intake.decide).
"""
from __future__ import annotations

import json
import os
import resource
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest

import crash_harness as H
from daemon.clock import Clock
from daemon.runner import Runner
from daemon.store import Store
from hostile import CASES, Case
from service import Daemon, make_config

MAX_SECONDS = 10.0
MAX_RSS_GROWTH_MB = 300


def _measure(case_raw: bytes, tmp_path) -> dict:
    """Runner.decide on the message in a forked child: the child's peak RSS is then this message's
    alone. The child is capped at 3 GB of address space so that a bomb cannot take the machine."""
    store = Store(tmp_path / "m.db", tmp_path / "archive")
    runner = Runner(H.CONFIG, store, Clock(H.NOW))
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report as JSON, exit without cleanup
        try:
            os.close(read_fd)
            start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            vm = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
            resource.setrlimit(resource.RLIMIT_AS, (vm + (3 << 30), hard))
            started = time.monotonic()
            outcome, reading = runner.decide(1, case_raw, H.ARRIVED)
            seconds = time.monotonic() - started
            texts = [d.text for d in reading.documents] if reading else []
            result = {
                "seconds": seconds,
                "rss_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_rss) / 1024,
                "status": outcome.status, "reason": outcome.reason,
                "problems": [p for a in outcome.attachments for p in a.problems],
                "names": [a.filename for a in outcome.attachments] + [a.path for a in outcome.attachments],
                "texts": texts,
            }
            os.write(write_fd, json.dumps(result, ensure_ascii=False).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    chunks, deadline = [], time.monotonic() + 120
    while True:
        ready, _, _ = select.select([read_fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("no answer within 120 s")
        chunk = os.read(read_fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    store.close()
    assert chunks, "the child died without an answer (a crash, or the 3 GB cap)"
    return json.loads(b"".join(chunks))


def _check(case: Case, status: str, said: str, names: list[str], texts: list[str]) -> None:
    assert status in case.statuses, (case.name, status, said)
    for word in case.words:
        assert word in said, (case.name, word, said)
    filenames, paths = names[: len(names) // 2], names[len(names) // 2:]
    for bad in case.forbidden:
        assert not [n for n in filenames if bad in n], (case.name, bad, filenames)
    for secret in case.leaks:
        assert not [t for t in texts if secret in t], (case.name, secret)
    # where a file was found ("bao-cao.zip/etc"): a label, never climbing out, never absolute
    assert not [p for p in paths if ".." in p.split("/") or p.startswith(("/", "\\"))], (case.name, paths)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_message_gets_its_reason_within_bounded_time_and_memory(case, tmp_path):
    raw = case.build()
    got = _measure(raw, tmp_path)
    print(f"\n{case.name}: {len(raw) / 1024:.0f} KB, {got['seconds']:.2f} s, +{got['rss_mb']:.0f} MB RSS, "
          f"{got['status']}: {got['reason'][:160]}")
    _check(case, got["status"], got["reason"] + " " + " ".join(got["problems"]), got["names"], got["texts"])
    assert got["seconds"] < MAX_SECONDS, got["seconds"]
    assert got["rss_mb"] < MAX_RSS_GROWTH_MB, got["rss_mb"]


# The service in a child process that reports its own peak RSS when it exits.
_WRAPPER = ("import resource, sys\nfrom daemon.cli import main\ncode = main(sys.argv[1:])\n"
            "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
            "sys.exit(code)\n")


def test_all_hostile_mail_through_the_service_is_recorded_and_answered(tmp_path, imap_account, smtp_sink):
    cfg = make_config(tmp_path, imap_account.url(), f"smtp://127.0.0.1:{smtp_sink.port}", timeout_seconds="10",
                      max_per_address_per_day="1000")
    daemon = Daemon(cfg, imap_account.password, now=H.NOW.isoformat())
    built = {}
    for i, case in enumerate(CASES):
        built[case.name] = raw = case.build()
        imap_account.append(raw, H.ARRIVED + timedelta(minutes=i))
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", _WRAPPER, *daemon.command("run", "--once")[3:]],
                            env=daemon.env(), capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - started
    (tmp_path / "run.log").write_text(result.stderr, encoding="utf-8")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    peak_mb = int(result.stderr.split("MAXRSS_KB")[1].split()[0]) / 1024
    print(f"\n{len(CASES)} hostile messages through `run --once`: {seconds:.1f} s, peak RSS {peak_mb:.0f} MB")

    db_path = cfg.parent / "var" / "tonghop.db"
    rows = {r["sha256"]: r for r in H.query(db_path, "select * from messages")}
    assert len(rows) == len(CASES)
    assert imap_account.list_uids() == []
    folders = len(imap_account.list_uids(H.PROCESSED)) + len(imap_account.list_uids(H.REVIEW))
    assert folders == len(CASES)
    stored = {H.message_id(m.raw): H._sha(m.raw) for f in (H.PROCESSED, H.REVIEW)
              for m in imap_account.messages(f).values()}
    for case in CASES:
        row = rows[stored[H.message_id(built[case.name])]]
        atts = H.query(db_path, "select filename, path, problems from attachments where message = ?", [row["id"]])
        problems = [p for a in atts for p in json.loads(a["problems"] or "[]")]
        _check(case, row["status"], row["reason"] + " " + " ".join(problems),
               [a["filename"] for a in atts] + [a["path"] for a in atts], [])
        assert row["moved_to"] == (H.PROCESSED if row["status"] in ("recorded", "ignored") else H.REVIEW)
    # every mail the service queued about them went out: review notices to the office (the
    # original attached, even the one with a 1 MB header line), acknowledgements to the unit
    outbox = H.query(db_path, "select kind, status, last_error from outbox")
    assert [o for o in outbox if o["status"] != "sent"] == []
    kinds = Counter(o["kind"] for o in outbox)
    assert kinds["review"] == sum(1 for r in rows.values() if r["status"] in ("review", "failed"))
    assert len(smtp_sink.messages) == len(outbox)
    assert seconds < 180 and peak_mb < 500
