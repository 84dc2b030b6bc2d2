"""The daemon's loop: fetch -> archive -> claim -> read -> decide -> record -> move.

Made of small steps in the spirit of Mailman's runners: a message that fails is recorded as failed
and moved aside for a person, never blocking the rest; a connection error closes the mailbox,
waits with backoff and reconnects; SIGTERM finishes the message in hand; SIGHUP reloads config.
"""
from __future__ import annotations

import collections
import errno
import logging
import os
import signal
import socket
import sqlite3
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Callable

from daemon import status
from daemon.clock import Clock, sleep_until
from daemon.config import Config, ConfigError
from daemon.config_toml import load_config
from daemon.faults import crash_point
from daemon.intake import bounces
from daemon.intake import decide as intake
from daemon.intake.mailbox import Fetched, MailboxError, Source, open_source
from daemon.intake.read_ahead import ReadAhead
from daemon.outgoing import chase, notices, outbox, smtp
from daemon.records import Hint, Outcome, message_id_of, sha256_of
from daemon.report import tracking
from daemon.store import LedgerCorrupt, StorageError, Store, corrupt_text, is_corruption, storage_problem
from daemon.systemd import Notifier
from daemon.texts import TEXTS, t

log = logging.getLogger("tonghop")

MAX_ATTEMPTS = 3  # a message that kills the process this often is set aside, not retried forever
# A pass with at least this many messages to fetch reads them one ahead in a second process
# (daemon/intake/read_ahead.py); starting it costs ~0.4 s of imports on the other core, which a
# few messages would not repay.
READ_AHEAD_FROM = 20
# A larger message is read here, with nothing held ahead of it: the reader would parse it while
# this process holds it and the next one (21 messages of 25 MB: 212 MB here + 203 MB there,
# against 183 MB for reading here; bench/memory.py's target is 200 MB).
READ_AHEAD_MAX_BYTES = 2 * 1024 * 1024
BACKOFF_START, BACKOFF_MAX = 1.0, 60.0


def folder_for(status: str, config: Config) -> str:
    if status in ("recorded", "ignored"):
        return config.mailbox.processed_folder
    return config.mailbox.review_folder


def job_name(job) -> str:
    """A job's name in the log, in Vietnamese (texts.py job.*), or its own name if none is given."""
    key = f"job.{job.__name__}"
    return t(key) if key in TEXTS else job.__name__


class ArchiveMissing(Exception):
    """The archived bytes of a message cannot be read (archive folder deleted, disk swapped):
    it cannot be re-read, and what the ledger holds about it is kept. str() is Vietnamese."""


class Runner:
    def __init__(self, config: Config, store: Store, clock: Clock, *, source: Source | None = None,
                 config_loader: Callable[[], Config] | None = None, read_ahead: bool | None = None):
        self.config = config
        self.store = store
        self.clock = clock
        # opened (not connected) when first needed: the desk never needs it
        self._source = self.owned(source) if source is not None else None
        self.config_loader = config_loader or (lambda: load_config(self.config.dir))
        self.stopping = False
        self.reload_requested = False
        self.connected = False
        self.renderer = notices.Renderer(config.notices.templates)
        self.sender = smtp.Sender(config.smtp, config.smtp_password)
        self.tracking_stale = False
        self.notifier = Notifier()  # systemd's READY/STATUS/WATCHDOG; a no-op outside systemd
        self.answers_tried: tuple | None = None  # the templates' signature at the last retry_answers
        # reading one message ahead in a second process: where there is a second core to run it
        self.read_ahead = (os.cpu_count() or 1) > 1 if read_ahead is None else read_ahead

    @property
    def source(self) -> Source:
        if self._source is None:
            self._source = self.owned(open_source(self.config.mailbox, self.config.mailbox_password))
        return self._source

    @source.setter
    def source(self, value: Source) -> None:
        self._source = value
        self.answers_tried: tuple | None = None  # the templates' signature at the last retry_answers

    def owned(self, source: Source) -> Source:
        """Name this service (machine and ledger) to the mailbox: two services moving mail out of
        one mailbox (two machines with the same config) claim each message before moving it."""
        if hasattr(source, "owner"):
            source.owner = f"{socket.gethostname()}:{self.config.storage.db_path.resolve()}"
        return source

    # --- one message ----------------------------------------------------------------------------

    def decide(self, msg_id: int, raw: bytes, received_at: datetime,
               hint: Hint | None = None, reading: intake.Reading | None = None) -> tuple[Outcome, intake.Reading | None]:
        try:
            # addresses approved at the desk are read for every message: the web desk is another
            # process, and a clerk's "remember" must count for the next mail without a restart
            return intake.decide_raw(raw, self.config, received_at, hint=hint, approved=self.store.approved_addresses(),
                                     reading=reading)
        except Exception as exc:  # a bug or a hostile file must not stop the service
            log.exception("thư %s: lỗi khi đọc", msg_id)
            error = f"{type(exc).__name__}: {exc}"
            return Outcome(status="failed", reason=t("failed.exception", error=error, id=msg_id)), None

    def reprocess(self, msg_id: int, hint: Hint | None = None) -> str:
        """Read an archived message again with today's parsers and record the new decision.

        `hint`: the clerk's decision (records.Hint); by default the one the ledger keeps for this
        message (desk_actions), so a re-read never undoes what a clerk decided. The message stays
        in the folder it was moved to; mail already queued for it is not queued again (outgoing
        mail is keyed), so a re-read never answers twice."""
        row = self.store.message(msg_id)
        try:
            raw = self.store.archive.get(row["sha256"])
        except OSError as exc:
            # A re-read that cannot read must never erase what was recorded: the decision, its
            # submissions and its mail stay as they are, and the caller says which message it was.
            raise ArchiveMissing(t("reprocess.archive_missing", id=msg_id, path=self.store.archive.path(row["sha256"]),
                                   error=exc.strerror or exc)) from exc
        return self.finish(msg_id, raw, retry=True, hint=hint)

    def finish(self, msg_id: int, raw: bytes, *, retry: bool = False, hint: Hint | None = None,
               synced: bool = True, ahead: Callable[[], intake.Reading | None] | None = None) -> str:
        """Decide and record a claimed message, with the mail it causes; returns its final status.
        synced=False: committed without an fsync, for a batch whose fsync'd commit follows before
        its move (handle_batch; daemon/store.py's docstring). ahead: gives the message's reading
        from the read-ahead process, or None (then it is read here)."""
        row = self.store.message(msg_id)
        if hint is None:
            hint = intake.hint_from_actions(self.store.desk_actions(msg_id, newest_first=False))
        with self.store.writing():
            attempts = self.store.begin_attempt(msg_id)
        received_at = datetime.fromisoformat(row["received_at"])
        reading = None
        if attempts > MAX_ATTEMPTS and not retry:
            outcome = Outcome(status="failed", reason=t("failed.too_many_attempts", count=attempts - 1))
        else:
            outcome, reading = self.decide(msg_id, raw, received_at, hint, ahead() if ahead else None)
        now = self.clock.now()
        answers, answer_error = self.render_answers(row, outcome, reading, raw, now, hint)
        events = (("answer_pending", {"error": answer_error}),) if answer_error else ()
        outcome = replace(outcome, outgoing=outcome.outgoing + tuple(answers), events=outcome.events + events)
        failures = bounces.failures_for_us(raw, outcome, self.config, self.store) if outcome.status == "ignored" else []
        try:
            # the decision and the mail it causes: all or nothing
            with self.store.writing(), (self.store.atomic() if synced else self.store.unsynced()):
                self.store.record(msg_id, outcome, now=now)
                if answer_error is None and self.store.answer_is_pending(msg_id):
                    self.store.answer_written(msg_id)  # reprocess wrote what was pending
                for failure, unit in failures:
                    if self.store.mark_address_failing(failure.recipient, unit.id, failure.diagnostic or failure.status, now, msg_id):
                        notice = self.notice_or_log(msg_id, lambda failure=failure, unit=unit: notices.address_failing(
                            self.config, self.renderer, unit, failure.recipient,
                            failure.diagnostic or failure.status or "không rõ", self.store.failing_addresses(), now))
                        if notice:
                            self.store.queue(notice, message=msg_id, now=now)
        except StorageError:
            self.store.undo_attempt(msg_id)  # no room to write is not this message crashing the service
            raise
        log.info("thư %s từ %s: %s - %s", msg_id, outcome.from_addr or "?", outcome.status, outcome.reason)
        if outcome.submissions:
            self.tracking_stale = True
        return outcome.status

    def answers(self, row: dict, outcome: Outcome, reading, raw: bytes, now: datetime, hint: Hint | None = None) -> list:
        """The acknowledgement to the unit and the notice to the office that this decision causes;
        the clerk's "please send again" to the sender when the clerk asked for it."""
        return self.render_answers(row, outcome, reading, raw, now, hint)[0]

    def render_answers(self, row: dict, outcome: Outcome, reading, raw: bytes,
                       now: datetime, hint: Hint | None = None) -> tuple[list, str | None]:
        """(the mails, None), or (what rendered, why the rest did not) when a template breaks at run
        time: the decision is recorded all the same, and the answer is kept pending (an
        "answer_pending" event) until retry_answers can write it."""
        cfg, out, errors = self.config, [], []

        def build(make) -> None:
            try:
                out.append(make())
            except Exception as exc:  # a broken template must not lose the decision
                log.error(t("answer.failed", id=row["id"], error=f"{type(exc).__name__}: {exc}"))
                errors.append(f"{type(exc).__name__}: {exc}")

        if (hint is not None and hint.resend_note is not None and outcome.status == "ignored" and reading is not None
                and intake.not_a_submission(reading.message, cfg) is None):
            build(lambda: notices.resend_request(cfg, self.renderer, msg_row=row, message=reading.message,
                                                 note=hint.resend_note, who=hint.who, now=now,
                                                 unit=cfg.unit(hint.unit_id) if hint.unit_id else None))
        # "needs more" after "recorded" would contradict it: a message answered as recorded
        # that a re-read sends back to review is the office's to explain
        answered = outcome.status == "review" and self.store.has_mail(notices.ack_key(row["id"], "recorded"))
        if (cfg.notices.acknowledge and reading is not None and outcome.unit_id and not answered
                and outcome.status in ("recorded", "review")):
            # Only what the unit still owes in the campaign and cycle the answer speaks of counts
            # (notices.acknowledgement picks them so): one row per requirement sent, so the cost
            # stays flat however long the ledger (all the unit's rows grew it, issue 17).
            prior = self.prior_rows(row, outcome)
            build(lambda: notices.acknowledgement(cfg, self.renderer, msg_row=row["id"], message=reading.message,
                                                  outcome=outcome, documents=reading.documents,
                                                  received_at=datetime.fromisoformat(row["received_at"]),
                                                  prior_rows=prior, now=now))
        if cfg.notices.review_notice and outcome.status in ("review", "failed"):
            build(lambda: notices.review_notice(cfg, self.renderer, msg_row=row, outcome=outcome, raw=raw,
                                                archive_path=self.store.archive.path(row["sha256"]), now=now))
        return [m for m in out if m is not None], ("; ".join(errors) or None)

    def prior_rows(self, row: dict, outcome: Outcome) -> list[dict]:
        """The unit's earlier submissions the acknowledgement needs: the campaign it names (that
        of the first submission, else the first campaign the unit belongs to) in the cycle of
        the message's arrival, one row per requirement sent."""
        cfg = self.config
        if outcome.submissions:
            campaign = cfg.campaign(outcome.submissions[0].campaign)
        else:
            campaign = next((c for c in cfg.campaigns if outcome.unit_id in c.unit_ids), None)
        if campaign is None:
            return []
        cycle = campaign.cycle_of(datetime.fromisoformat(row["received_at"]), cfg.office.timezone)
        return self.store.requirements_sent(campaign.id, cycle, outcome.unit_id, except_message=row["id"])

    def notice_or_log(self, msg_id, build):
        """A notice to the office built from a template, or None (said in the log) when the
        template broke at run time: a notice must never take the decision or the pass with it."""
        try:
            return build()
        except Exception as exc:
            log.error(t("notice.failed", error=f"{type(exc).__name__}: {exc}"))
            return None

    def retry_answers(self, now: datetime) -> int:
        """Write the answers kept pending because a template broke, once the templates changed
        (an admin fixed them; checked by their files' times, so a still-broken template costs
        nothing per pass). The message is read again from the archive; its recorded decision
        stands. Returns how many messages got their answers."""
        pending = self.store.pending_answers()
        if not pending:
            return 0
        signature = self.renderer.signature()
        if signature == self.answers_tried:
            return 0
        self.answers_tried = signature
        done = 0
        for msg_id in pending:
            if self.stopping:
                break
            row = self.store.message(msg_id)
            try:
                raw = self.store.archive.get(row["sha256"])
            except OSError:
                with self.store.writing():
                    self.store.answer_written(msg_id, t("failed.archive_missing", path=self.store.archive.path(row["sha256"])))
                continue
            hint = intake.hint_from_actions(self.store.desk_actions(msg_id, newest_first=False))
            outcome, reading = self.decide(msg_id, raw, datetime.fromisoformat(row["received_at"]), hint)
            if outcome.status != row["status"]:
                # Decided otherwise since (reprocess, the desk): that decision wrote its own answers.
                with self.store.writing():
                    self.store.answer_written(msg_id, "quyết định đã đổi")
                continue
            mails, error = self.render_answers(row, outcome, reading, raw, now, hint)
            with self.store.writing(), self.store.atomic():
                for mail in mails:
                    self.store.queue(mail, message=msg_id, now=now)
                if error is None:
                    self.store.answer_written(msg_id)
            if error is None:
                done += 1
                log.info(t("answer.written", id=msg_id))
        return done

    def handle(self, fetched: Fetched, uidvalidity: int) -> None:
        """One message from fetch to move (the batch of one; fetch_pass uses handle_batch)."""
        self.handle_batch([fetched], uidvalidity)

    def handle_batch(self, batch, uidvalidity: int, reader: ReadAhead | None = None) -> int:
        """Archive, claim and decide every message of a fetched batch, write in the ledger where
        each goes, then move them: one move per destination folder (one claim and one UID MOVE of
        the set on IMAP, issue 17). A crash before the move leaves the decided messages in the
        watched folder, and the next pass moves them (fetch_pass): never lost, never doubled.
        `batch` may be a generator: each message's bytes leave memory once it is decided (a batch
        of large scans is never held at once, bench/memory.py). Returns how many were taken.
        reader: each message, once archived, is read by it while the one before is decided here
        (one message ahead: two in memory at most); one over READ_AHEAD_MAX_BYTES is read here
        once the one before it is done, as without a reader."""
        decided: list[tuple[str, int, str]] = []
        waiting: collections.deque = collections.deque()  # (fetched, sha, key): archived, to take
        try:
            for fetched in batch:
                if self.stopping:
                    break  # SIGTERM: the messages in hand are moved, the rest wait for the next start
                sha = self.archive(fetched)
                ahead = reader is not None and len(fetched.raw) <= READ_AHEAD_MAX_BYTES
                key = reader.submit(self.store.archive.path(sha)) if ahead else None
                if not ahead:
                    while waiting:
                        self.take_waiting(waiting.popleft(), uidvalidity, reader, decided)
                waiting.append((fetched, sha, key))
                while len(waiting) > (1 if ahead else 0):
                    self.take_waiting(waiting.popleft(), uidvalidity, reader, decided)
            while waiting and not self.stopping:
                self.take_waiting(waiting.popleft(), uidvalidity, reader, decided)
        finally:
            # Also when a later message of the batch failed (disk full, the server gone): those
            # decided are made durable and moved, as they were one by one before batching.
            self.move_all(decided)
        return len(decided)

    def take_waiting(self, item: tuple[Fetched, str, int | None], uidvalidity: int, reader: ReadAhead | None,
                     decided: list[tuple[str, int, str]]) -> None:
        fetched, sha, key = item
        self.store.check_same_file()
        ahead = (lambda: reader.take(key, sha)) if key is not None else None
        decided.append((fetched.uid, *self.take(fetched, uidvalidity, sha=sha, ahead=ahead)))
        self.notifier.watchdog()  # a long backlog is progress, not a hang

    def archive(self, fetched: Fetched) -> str:
        """Archive a fetched message (before any parsing); fsync'd with the batch's, before its
        commit (move_all). Returns its SHA-256."""
        try:
            sha = self.store.archive.put(fetched.raw, sync=False)
        except OSError as exc:  # disk full, read-only: not claimed, the message stays in the mailbox
            raise StorageError(t("storage.archive", path=self.store.archive.root, error=storage_problem(exc))) from exc
        crash_point("after-archive")
        return sha

    def take(self, fetched: Fetched, uidvalidity: int, *, sha: str | None = None,
             ahead: Callable[[], intake.Reading | None] | None = None) -> tuple[int, str]:
        """Archive (unless archived already: sha), claim and decide one message: (its ledger id,
        its status). ahead: its reading from the read-ahead process (finish)."""
        if sha is None:
            sha = self.archive(fetched)
        location = (self.source.identity, self.source.folder, uidvalidity, fetched.uid)
        with self.store.writing():
            msg_id, _ = self.store.claim(
                location, sha256=sha, size=len(fetched.raw), message_id=message_id_of(fetched.raw),
                received_at=fetched.internaldate.isoformat(),
            )
        crash_point("after-claim")
        status = self.store.message(msg_id)["status"]
        if status == "claimed":
            status = self.finish(msg_id, fetched.raw, synced=False, ahead=ahead)  # the batch's commit syncs it
            crash_point("after-record")
        return msg_id, status

    def move(self, uid: str, msg_id: int, status: str) -> None:
        self.move_all([(uid, msg_id, status)])

    def move_all(self, decided: list[tuple[str, int, str]]) -> None:
        """Move decided messages (uid, ledger id, status), grouped by destination folder."""
        if not decided:
            return
        self.store.check_same_file()  # never move a message out on the word of a replaced ledger
        # The folders are written first: a crash between the two leaves the messages in the
        # watched folder, where the next pass moves them again; the other order could leave a
        # moved message with no folder in the ledger (scripts/crash_soak.py found it, 2 rounds in
        # 50). One fsync'd transaction for the batch: it also makes the batch's decisions, written
        # without an fsync, durable before any message leaves the mailbox (daemon/store.py).
        try:
            # the raw mail of the batch on the disk before its decisions are (the commit below)
            # and before it leaves the mailbox: one pass of fsyncs for the batch (store.py)
            self.store.archive.sync()
        except OSError as exc:  # nothing is moved: the messages wait in the mailbox
            raise StorageError(t("storage.archive", path=self.store.archive.root, error=storage_problem(exc))) from exc
        groups: dict[str, list[str]] = {}
        moves = []
        for uid, msg_id, status in decided:
            folder = folder_for(status, self.config)
            moves.append((msg_id, folder))
            groups.setdefault(folder, []).append(uid)
        with self.store.writing():
            self.store.mark_moved_many(moves)
        crash_point("before-batch-move")
        for folder, uids in groups.items():
            self.source.move_many(uids, folder)
            for _ in uids:
                crash_point("after-move")

    # --- passes -----------------------------------------------------------------------------------

    def recover(self) -> int:
        """Finish messages claimed before a crash, from the archive (they may have left the folder)."""
        done = 0
        for row in self.store.unfinished():
            try:
                raw = self.store.archive.get(row["sha256"])
                if sha256_of(raw) != row["sha256"]:  # cut by a power cut before the batch's fsync
                    raise OSError(errno.EIO, "archived bytes incomplete")
            except OSError:
                # A claim is made only while the message is still in the mailbox, and it leaves the
                # mailbox only once decided: it is left claimed, and the next fetch archives and
                # finishes it. Recording "failed" here would send it to review for nothing.
                log.warning(t("recover.archive_missing", id=row["id"], path=self.store.archive.path(row["sha256"])))
                continue
            self.finish(row["id"], raw)
            done += 1
        return done

    def fetch_pass(self) -> int:
        """Take every message waiting in the watched folder. Returns how many were handled."""
        source = self.source
        self.store.check_same_file()
        uidvalidity = source.uidvalidity()
        handled = 0
        to_fetch = []
        left: list[tuple[str, int, str]] = []
        for uid in source.pending():
            known = self.store.claimed_message(source.identity, source.folder, uidvalidity, uid)
            if known is not None and known["status"] != "claimed" and self.store.archive.holds(known["sha256"]):
                left.append((uid, known["id"], known["status"]))  # decided before a crash, not yet moved
            else:
                # New, or claimed and not decided, or decided but its archive lost with the power
                # (written before the batch's fsync, the decision reached the disk by a WAL
                # checkpoint): fetched and archived again; a decided one is then only moved (take).
                to_fetch.append(uid)
        self.move_all(left)  # in one move per folder, as a batch is
        handled += len(left)
        # One batch at a time (the configured batch_size, as ImapSource.fetch asks the server):
        # its messages are decided, then moved together.
        size = max(1, self.config.mailbox.batch_size)
        reader = ReadAhead(self.config.limits) if self.read_ahead and len(to_fetch) >= READ_AHEAD_FROM else None
        try:
            if reader is not None:
                reader.start()  # it gets messages once its imports are done; until then they are read here
            for start in range(0, len(to_fetch), size):
                if self.stopping:
                    break
                if reader is not None and reader.proc is None:
                    reader.start()  # it died in the last batch: another, up to MAX_RESTARTS
                handled += self.handle_batch(source.fetch(to_fetch[start : start + size]), uidvalidity, reader)
        finally:
            if reader is not None:
                reader.close()
        return handled

    def run_jobs(self, now: datetime) -> None:
        """Everything due at `now`, computed from the ledger: reminders, overdue notices, the
        digest, then the outbox. Each job is guarded: one failing never stops the others."""
        self.store.check_same_file()
        for job in (self.refresh_tracking, self.retry_answers, self.queue_chases, self.queue_digest,
                    self.write_drafts, self.send_outbox):
            if self.stopping:
                return
            self.notifier.watchdog()
            try:
                job(now)
            except sqlite3.OperationalError as exc:  # disk full, read-only: said plainly, tried next pass
                log.error(t("storage.job", path=self.store.path, error=storage_problem(exc, self.store.path)))
            except OSError as exc:  # a file the job writes (draft, workbook), a folder replaced by a file: said plainly
                where = exc.filename or self.config.storage.root
                log.error(t("storage.job_file", job=job_name(job), path=where, error=storage_problem(exc)))
            except sqlite3.DatabaseError as exc:
                if is_corruption(exc):  # a damaged ledger stops the service, it is not one job's failure
                    raise LedgerCorrupt(corrupt_text(self.store.path, exc)) from exc
                log.exception(t("job.failed", job=job_name(job), error=f"{type(exc).__name__}: {exc}"))
            except Exception as exc:
                log.exception(t("job.failed", job=job_name(job), error=f"{type(exc).__name__}: {exc}"))

    def refresh_tracking(self, now: datetime) -> None:
        """Rewrite the tracking workbook once per pass in which submissions were recorded."""
        path = self.config.storage.root / tracking.FILE_NAME
        if self.tracking_stale or not path.exists():
            tracking.write(self.config, self.store.submissions(), now)
            self.tracking_stale = False

    def queue_chases(self, now: datetime) -> int:
        queued = 0
        failing = self.store.failing_addresses()
        # read once per pass, not once per campaign (each campaign only looks at its own keys)
        waiting = self.store.queued_mail(("opening", "reminder", "overdue"))
        for campaign in self.config.campaigns:
            cycle = campaign.cycle_of(now, self.config.office.timezone)
            table = status.cells(self.config, campaign, cycle, self.store.submissions(campaign.id, cycle))
            # A reminder still waiting (the SMTP server was down) for a unit that has since sent
            # everything would ask for what it already sent: it is withdrawn, never delivered.
            for row in waiting:
                if row["key"].split(":")[1:3] == [campaign.id, cycle] and not status.owed(campaign, table, row["unit_id"]):
                    self.store.withdraw(row["id"], t("outbox.withdrawn"))
            dues = [*chase.openings(self.config, campaign, cycle, table, now),
                    *chase.chases(self.config, campaign, cycle, table, now)]
            known = self.store.keys_queued([due.key for due in dues])  # one query, not one per unit
            for due in dues:
                if due.key in known:
                    continue
                mail = notices.chase_mail(self.config, self.renderer, due, now, failing)
                if mail and self.store.queue(mail, now=now):
                    queued += 1
                    log.info("đã xếp thư %s cho %s (%s)", due.kind, due.unit_id, ", ".join(due.requirements))
        return queued

    def queue_digest(self, now: datetime) -> None:
        day = chase.digest_due(self.config, now)
        if day is None or self.store.has_mail(f"digest:{day.isoformat()}"):
            return
        since = now - timedelta(days=1)
        rows = self.store.submissions()
        # Compared as datetimes, not text: the server's INTERNALDATE carries its own offset
        # (+07:00) while the clock is UTC, and "…T07:59+07:00" > "…T01:05+00:00" as text.
        arrivals = [r for r in rows if since <= datetime.fromisoformat(r["received_at"]) <= now]
        mail = notices.digest(self.config, self.renderer, day, rows, arrivals, self.store.messages("review"), now)
        if mail:
            self.store.queue(mail, now=now)

    def write_drafts(self, now: datetime) -> None:
        """At the deadline (plus the configured delay) write the consolidated draft and mail it to
        the office; when reports arrive later, write a new version with a note of what changed."""
        from daemon.report import model as draft
        from daemon.report import notes, versions, writers

        tz = self.config.office.timezone
        for campaign in self.config.campaigns:
            cycle = campaign.cycle_of(now, tz)
            if not draft.draft_due(self.config, campaign, cycle, now):
                continue
            rows = draft.draft_rows(self.store, campaign, cycle)
            nxt = versions.next_version(self.store.last_draft(campaign.id, cycle), rows)
            if nxt is None:
                continue
            version, ids, new_rows = nxt.version, nxt.submission_ids, nxt.new_rows
            out_dir = versions.version_folder(self.config.storage.root, campaign.id, cycle, version)
            model = draft.model_from_ledger(self.config, self.store, campaign, cycle, now, rows)
            try:
                docx, xlsx = writers.write_draft(self.config, model, out_dir, version)
            except writers.DraftError as exc:
                self.draft_failed(campaign, cycle, str(exc), now)
                continue
            except OSError as exc:  # said with the folder, not the hidden temporary file's name
                raise OSError(exc.errno, exc.strerror, str(out_dir)) from exc
            previous = draft.previous_model(self.config, self.store, campaign, cycle, now, rows)
            notes_docx = notes.write_notes(model, docx, previous, tz=tz)
            mail = notices.draft_mail(self.config, self.renderer, campaign, cycle, version, docx, xlsx, new_rows, now,
                                      notes=notes_docx)
            with self.store.atomic():
                self.store.add_draft(campaign.id, cycle, version, docx, xlsx, ids, now)
                if mail:
                    self.store.queue(mail, now=now)
            log.info("Đã viết dự thảo tổng hợp %s kỳ %s (bản %d): %s", campaign.id, cycle, version, docx)

    def draft_failed(self, campaign, cycle: str, error: str, now: datetime) -> None:
        """Tell the office once (keyed by campaign and cycle) that the due draft cannot be written."""
        message = t("draft.failed", campaign=campaign.id, cycle=cycle, error=error)
        if self.store.has_mail(f"draft_failed:{campaign.id}:{cycle}"):
            log.debug(message)
            return
        log.error(message)
        mail = notices.draft_failed(self.config, self.renderer, campaign, cycle, error, now)
        if mail:
            self.store.queue(mail, now=now)

    def send_outbox(self, now: datetime) -> None:
        cfg = self.config
        report = outbox.send_due(
            self.store, self.sender, now, tz=cfg.office.timezone,
            give_up_after=timedelta(hours=cfg.notices.give_up_hours),
            max_per_address_per_day=cfg.notices.max_per_address_per_day,
            own_addresses=cfg.office.own_addresses, should_stop=lambda: self.stopping,
            summarize=lambda rows: notices.review_summary(
                cfg, self.renderer, rows, [self.store.find_message(r["message"]) if r.get("message") else None
                                           for r in rows], now),
        )
        for row in report.gave_up:
            notice = self.notice_or_log(row.get("message"), lambda row=row: notices.undeliverable(cfg, self.renderer, row, now))
            if notice:
                self.store.queue(notice, now=now)
        if report.sent:
            log.info("đã gửi %d thư", len(report.sent))

    def connect(self) -> None:
        if not self.connected:
            self.source.open()
            self.connected = True
            log.info("Đang theo dõi hộp thư %s (thư mục %s)", self.source.identity, self.source.folder)

    def disconnect(self) -> None:
        self.source.close()
        self.connected = False

    def once(self) -> int:
        """One full pass: recover, fetch and process all waiting mail, run due jobs."""
        self.recover()
        self.connect()
        try:
            handled = self.fetch_pass()
        finally:
            self.disconnect()
        self.run_jobs(self.clock.now())
        return handled

    def forever(self) -> None:
        self.install_signals()
        backoff, recover_due = BACKOFF_START, True
        while not self.stopping:
            if self.reload_requested:
                self.reload()
            try:
                if recover_due:  # claims left open by a crash, or by a write that failed (disk full)
                    self.recover()
                    recover_due = False
                self.connect()
                handled = self.fetch_pass()
                self.run_jobs(self.clock.now())
                backoff = BACKOFF_START
                self.notifier.ready(t("systemd.watching", folder=f"{self.source.identity} ({self.source.folder})",
                                      handled=handled, at=self.clock.now().strftime("%H:%M %d/%m/%Y")))
                if not self.stopping:
                    self.source.wait(self.config.mailbox.poll_seconds, self.wait_over)
            except MailboxError as exc:
                log.warning("%s; thử lại sau %.0f giây", t("cli.mailbox_down", error=exc), backoff)
                self.notifier.status(t("cli.mailbox_down", error=exc))
                self.disconnect()
                self.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
            except StorageError as exc:
                # Disk full or read-only: nothing was claimed or moved, so nothing is lost; the
                # service keeps running and carries on by itself once the disk can be written.
                log.error(t("storage.retry", error=exc, seconds=backoff))
                recover_due = True
                self.disconnect()
                self.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
        self.notifier.stopping()
        self.disconnect()
        log.info("tonghop dừng theo yêu cầu")

    def wait_over(self) -> bool:
        """Asked about once a second while waiting for mail: the watchdog's heartbeat too."""
        self.notifier.watchdog()
        return self.stopping or self.reload_requested

    def sleep(self, seconds: float) -> None:
        sleep_until(time.monotonic() + seconds, lambda: self.notifier.watchdog() or self.stopping)

    # --- signals ---------------------------------------------------------------------------------

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.request_stop())
        signal.signal(signal.SIGINT, lambda *_: self.request_stop())
        signal.signal(signal.SIGHUP, lambda *_: setattr(self, "reload_requested", True))

    def request_stop(self) -> None:
        self.stopping = True

    def reload(self) -> None:
        self.reload_requested = False
        self.notifier.reloading()  # READY=1 follows after the next pass
        try:
            new = self.config_loader()
        except ConfigError as exc:
            log.error("Cấu hình mới có lỗi, tiếp tục dùng cấu hình cũ:\n%s", exc)
            return
        mailbox_changed = new.mailbox != self.config.mailbox or new.mailbox_password != self.config.mailbox_password
        self.config = new
        self.renderer = notices.Renderer(new.notices.templates)
        self.sender = smtp.Sender(new.smtp, new.smtp_password)
        if mailbox_changed:
            self.disconnect()
            self.source = self.owned(open_source(new.mailbox, new.mailbox_password))
        log.info("Đã nạp lại cấu hình từ %s", new.dir)
