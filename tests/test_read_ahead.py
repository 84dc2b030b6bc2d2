"""Reading one message ahead in a second process (daemon/intake/read_ahead.py, issue 17): the
reader gives exactly what reading here gives, a backlog read ahead is decided exactly as one read
here, a reader killed in the middle of a batch costs nothing but speed, and a reader whose service
was killed -9 exits with it."""
from __future__ import annotations

import collections
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone

import crash_harness as H
from daemon import runner as runner_module
from daemon.clock import Clock
from daemon.config_toml import load_config
from daemon.intake import decide as intake
from daemon.intake.read_ahead import ReadAhead
from daemon.records import sha256_of
from daemon.runner import Runner
from daemon.store import Store
from service import make_config

NOW = datetime(2024, 10, 19, 3, 0, tzinfo=timezone.utc)


def ready(reader: ReadAhead, timeout: float = 30.0) -> ReadAhead:
    """Wait until the reader's imports are done (the runner never waits: it reads here until then)."""
    deadline = time.monotonic() + timeout
    while not reader._is_ready():
        assert reader.proc is not None and time.monotonic() < deadline, "the reader never became ready"
        time.sleep(0.02)
    return reader


class Ready(ReadAhead):
    """The runner's reader, waited for at start so that every message of the test goes through it."""

    taken: list = []  # the readings it gave, across instances (a killed reader's successor too)

    def start(self) -> None:
        super().start()
        if self.proc is not None:
            ready(self)

    def take(self, key, sha256):
        reading = super().take(key, sha256)
        if reading is not None:
            Ready.taken.append(key)
        return reading


def test_the_reader_gives_exactly_what_reading_here_gives(tmp_path):
    backlog = H.build_backlog(30, random.Random(5))
    config = H.CONFIG
    reader = ReadAhead(config.limits)
    reader.start()
    try:
        ready(reader)
        paths = []
        for i, item in enumerate(backlog):
            path = tmp_path / f"{i}.eml"
            path.write_bytes(item.raw)
            paths.append(path)
        # one ahead, as the runner asks: submit the next, then take the one before
        keys = [reader.submit(paths[0])]
        for i, item in enumerate(backlog):
            if i + 1 < len(backlog):
                keys.append(reader.submit(paths[i + 1]))
            assert keys[i] is not None
            got = reader.take(keys[i], sha256_of(item.raw))
            assert got is not None, item.label
            assert got == intake.read(item.raw, config), item.label
        # what it cannot give, the runner reads itself: a file gone, bytes that are not the archived ones
        assert reader.take(reader.submit(tmp_path / "missing.eml"), "0" * 64) is None
        assert reader.take(reader.submit(paths[0]), sha256_of(backlog[1].raw)) is None
        assert reader.take(None, "0" * 64) is None and reader.take(10_000, "0" * 64) is None
        # a key left untaken (its message needed no reading) is dropped on the way to the next
        skipped, following = reader.submit(paths[1]), reader.submit(paths[2])
        assert skipped is not None and reader.take(following, sha256_of(backlog[2].raw)) == intake.read(backlog[2].raw, config)
        assert reader.pending == collections.deque()
        assert reader.proc is not None and reader.restarts == 0
    finally:
        reader.close()
    assert reader.proc is None


def _maildir_backlog(tmp_path, name: str, backlog) -> object:
    config = load_config(make_config(tmp_path / name, "maildir:../var/maildir"))
    inbox = config.mailbox.path / "new"
    inbox.mkdir(parents=True)
    for i, item in enumerate(backlog):
        (inbox / f"{1700000000 + i}.M{i}P1.host").write_bytes(item.raw)
        os.utime(inbox / f"{1700000000 + i}.M{i}P1.host", (item.arrived.timestamp(),) * 2)
    return config


def _ledger(config) -> list[list[tuple]]:
    """What the ledger says of each message, without the ids and times that differ between runs:
    the decision, each attachment's problems and facts (where a reading would differ), the
    submissions, the acknowledgements."""
    with sqlite3.connect(config.storage.db_path) as db:
        return [
            db.execute("select sha256, status, reason, unit_id, moved_to, attempts from messages order by sha256").fetchall(),
            db.execute("select m.sha256, a.seq, a.filename, a.kind, a.problems, a.facts from attachments a"
                       " join messages m on m.id = a.message order by m.sha256, a.seq").fetchall(),
            db.execute("select m.sha256, s.unit_id, s.campaign, s.cycle, s.requirement, s.doc_number, s.doc_date,"
                       " s.doc_title from submissions s join messages m on m.id = s.message"
                       " order by m.sha256, s.requirement").fetchall(),
            db.execute("select count(*) from outbox where kind = 'ack'").fetchall(),
        ]


def _run(config, *, read_ahead: bool) -> None:
    store = Store.open(config)
    try:
        Runner(config, store, Clock(NOW), read_ahead=read_ahead).once()
    finally:
        store.close()


def test_a_backlog_read_ahead_is_decided_as_one_read_here_even_when_the_reader_is_killed(tmp_path, monkeypatch):
    backlog = H.build_backlog(45, random.Random(11))  # three batches of the example's 20
    here = _maildir_backlog(tmp_path, "here", backlog)
    _run(here, read_ahead=False)
    messages, attachments, submissions, _acks = _ledger(here)
    assert len(messages) == len(backlog) and len(submissions) >= 25
    assert sum(1 for row in attachments if row[5] and '"number"' in row[5]) >= 25  # facts to compare

    ahead = _maildir_backlog(tmp_path, "ahead", backlog)
    monkeypatch.setattr(runner_module, "ReadAhead", Ready)
    Ready.taken = []
    _run(ahead, read_ahead=True)
    assert len(Ready.taken) == len(backlog)  # every message read there
    assert _ledger(ahead) == _ledger(here)

    # killed -9 at its 7th answer: the rest of that batch is read here, the next batch by a new one
    class Killed(Ready):
        answers = 0

        def take(self, key, sha256):
            Killed.answers += 1
            if Killed.answers == 7 and self.proc is not None:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            return super().take(key, sha256)

    killed = _maildir_backlog(tmp_path, "killed", backlog)
    monkeypatch.setattr(runner_module, "ReadAhead", Killed)
    Ready.taken = []
    _run(killed, read_ahead=True)
    assert 20 < len(Ready.taken) < len(backlog)  # some read here after the kill, later ones there again
    assert _ledger(killed) == _ledger(here)
    with sqlite3.connect(killed.storage.db_path) as db:
        assert db.execute("select count(*), count(distinct sha256) from messages").fetchone() == (len(backlog),) * 2
    assert list((killed.mailbox.path / "new").iterdir()) == []


def test_messages_over_the_size_bound_are_read_here_and_the_rest_ahead(tmp_path, monkeypatch):
    backlog = H.build_backlog(30, random.Random(4))
    here = _maildir_backlog(tmp_path, "here", backlog)
    _run(here, read_ahead=False)
    sizes = sorted(len(item.raw) for item in backlog)
    bound = sizes[len(sizes) // 2]  # half of them count as big here (the real bound is 2 MB)
    monkeypatch.setattr(runner_module, "READ_AHEAD_MAX_BYTES", bound)
    monkeypatch.setattr(runner_module, "ReadAhead", Ready)
    Ready.taken = []
    ahead = _maildir_backlog(tmp_path, "ahead", backlog)
    _run(ahead, read_ahead=True)
    assert len(Ready.taken) == sum(1 for size in sizes if size <= bound) < len(backlog)
    assert _ledger(ahead) == _ledger(here)


def test_a_short_pass_reads_here_and_starts_no_reader(tmp_path, monkeypatch):
    backlog = H.build_backlog(runner_module.READ_AHEAD_FROM - 1, random.Random(2))
    config = _maildir_backlog(tmp_path, "short", backlog)
    started = []
    monkeypatch.setattr(ReadAhead, "start", lambda self: started.append(self))
    _run(config, read_ahead=True)
    assert started == []
    with sqlite3.connect(config.storage.db_path) as db:
        assert db.execute("select count(*) from messages where status != 'claimed'").fetchone()[0] == len(backlog)


def test_the_reader_of_a_service_killed_9_exits_with_it_even_in_the_middle_of_a_reading(tmp_path):
    # A service process that starts a reader, gives it a file that never ends (a FIFO nobody
    # writes: the reading blocks, as a hostile file could keep it busy), then is killed with no
    # chance to close it. EOF on its stdin is not enough here: the reader must go with it.
    fifo = tmp_path / "never.eml"
    os.mkfifo(fifo)
    code = ("import sys, time; from daemon.intake.read_ahead import ReadAhead; from parsers.model import Limits; "
            "r = ReadAhead(Limits()); r.start()\n"
            "while not r._is_ready(): time.sleep(0.02)\n"
            f"r.submit({str(fifo)!r}); print(r.proc.pid, flush=True); time.sleep(120)")
    service = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(service.stdout.readline())
        time.sleep(0.3)  # it is blocked opening the FIFO
        assert _alive(pid)
        service.kill()
        service.wait()
        deadline = time.monotonic() + 20
        while _alive(pid):
            assert time.monotonic() < deadline, "the reader outlived its service"
            time.sleep(0.05)
    finally:
        if service.poll() is None:
            service.kill()


def _alive(pid: int) -> bool:
    """The orphan is reparented to init (or a subreaper), which reaps it: a zombie counts as gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
