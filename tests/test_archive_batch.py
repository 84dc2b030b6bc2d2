"""The archive's files of a batch are fsync'd together before the batch's commit and its move
(daemon/store.py, issue 17). A power cut before that point may leave a decided message whose
file is missing or cut (its decision reached the disk by a WAL checkpoint): the message is still
in the mailbox, and the next pass archives it again before moving it, never moves it without."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import corpus
from daemon.clock import Clock
from daemon.config_toml import load_config
from daemon.runner import Runner
from daemon.store import Store
from service import make_config
from tonghop_demo import samples

NOW = datetime(2024, 10, 19, 3, 0, tzinfo=timezone.utc)
UNITS = ["xa-my-hoa", "xa-tan-kieu", "phong-tu-phap"]


def test_a_decided_message_whose_archive_was_lost_is_archived_again_before_it_moves(tmp_path):
    config = load_config(make_config(tmp_path, "maildir:../var/maildir"))
    inbox = config.mailbox.path / "new"
    inbox.mkdir(parents=True)
    for i, unit_id in enumerate(UNITS):
        unit = config.unit(unit_id)
        raw = corpus.submission(unit.emails[0], f"{unit.name} gửi báo cáo",
                                [(f"Bao cao {i}.docx", samples.report_docx(samples.sample_unit(unit), 2024))])
        (inbox / f"170000000{i}.M{i}P1.host").write_bytes(raw)

    # The first run decides the batch and stops before its fsyncs and its move (as if the power
    # went at the crash point before-batch-move): every file written, none fsync'd yet.
    store = Store.open(config)
    runner = Runner(config, store, Clock(NOW))
    runner.connect()
    uidvalidity = runner.source.uidvalidity()
    taken = [runner.take(fetched, uidvalidity) for fetched in runner.source.fetch(runner.source.pending())]
    assert [status for _, status in taken] == ["recorded"] * 3
    files = list(store.archive.pending)
    assert len(files) == 3 and all(store.archive.holds(p.stem) for p in files)
    runner.disconnect()
    store.close()
    # what the power cut took: one file gone, one the size it should be but zeros
    files[0].unlink()
    files[1].write_bytes(b"\0" * files[1].stat().st_size)
    assert not store.archive.holds(files[0].stem) and not store.archive.holds(files[1].stem)

    store = Store.open(config)
    runner = Runner(config, store, Clock(NOW))
    runner.once()
    assert all(store.archive.holds(p.stem) for p in files)  # archived again, whole, before the move
    assert store.archive.pending == []  # and fsync'd
    assert list(inbox.iterdir()) == [] and not list((config.mailbox.path / "cur").iterdir())
    with sqlite3.connect(config.storage.db_path) as db:
        assert db.execute("select status, count(*) from messages group by status").fetchall() == [("recorded", 3)]
        assert db.execute("select count(*) from submissions").fetchone()[0] == 3  # decided once, not again
        assert db.execute("select count(*) from outbox where kind = 'ack'").fetchone()[0] == 3  # answered once
        assert {r[0] for r in db.execute("select moved_to from messages")} == {config.mailbox.processed_folder}
    store.close()
