"""The daemon's loop: fetch -> archive -> claim -> read -> decide -> record -> move.

Made of small steps in the spirit of Mailman's runners: a message that fails is recorded as failed
and moved aside for a person, never blocking the rest; a connection error closes the mailbox,
waits with backoff and reconnects; SIGTERM finishes the message in hand; SIGHUP reloads config.
"""
from __future__ import annotations

import logging
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
from daemon.outgoing import chase, notices, outbox, smtp
from daemon.records import Outcome, message_id_of
from daemon.report import tracking
from daemon.store import LedgerCorrupt, StorageError, Store, corrupt_text, is_corruption, storage_problem
from daemon.texts import t

log = logging.getLogger("tonghop")

MAX_ATTEMPTS = 3  # a message that kills the process this often is set aside, not retried forever
BACKOFF_START, BACKOFF_MAX = 1.0, 60.0


JOB_NAMES = {"refresh_tracking": "ghi sổ theo dõi (bảng tính)", "queue_chases": "xếp thư nhắc nộp",
             "queue_digest": "xếp bản tin hằng ngày", "write_drafts": "viết dự thảo tổng hợp",
             "send_outbox": "gửi thư"}


def folder_for(status: str, config: Config) -> str:
    if status in ("recorded", "ignored"):
        return config.mailbox.processed_folder
    return config.mailbox.review_folder


class ArchiveMissing(Exception):
    """The archived bytes of a message cannot be read (archive folder deleted, disk swapped):
    it cannot be re-read, and what the ledger holds about it is kept. str() is Vietnamese."""


class Runner:
    def __init__(self, config: Config, store: Store, clock: Clock, *, source: Source | None = None,
                 config_loader: Callable[[], Config] | None = None):
        self.config = config
        self.store = store
        self.clock = clock
        self.source = self.owned(source or open_source(config.mailbox, config.mailbox_password))
        self.config_loader = config_loader or (lambda: load_config(self.config.dir))
        self.stopping = False
        self.reload_requested = False
        self.connected = False
        self.renderer = notices.Renderer(config.notices.templates)
        self.sender = smtp.Sender(config.smtp, config.smtp_password)
        self.tracking_stale = False

    def owned(self, source: Source) -> Source:
        """Name this service (machine and ledger) to the mailbox: two services moving mail out of
        one mailbox (two machines with the same config) claim each message before moving it."""
        if hasattr(source, "owner"):
            source.owner = f"{socket.gethostname()}:{self.config.storage.db_path.resolve()}"
        return source

    # --- one message ----------------------------------------------------------------------------

    def decide(self, msg_id: int, raw: bytes, received_at: datetime) -> tuple[Outcome, intake.Reading | None]:
        try:
            return intake.decide_raw(raw, self.config, received_at)
        except Exception as exc:  # a bug or a hostile file must not stop the service
            log.exception("message %s: error while reading", msg_id)
            error = f"{type(exc).__name__}: {exc}"
            return Outcome(status="failed", reason=t("failed.exception", error=error, id=msg_id)), None

    def reprocess(self, msg_id: int) -> str:
        """Read an archived message again with today's parsers and record the new decision.

        The message stays in the folder it was moved to; mail already queued for it is not queued
        again (outgoing mail is keyed), so a re-read never answers twice."""
        row = self.store.message(msg_id)
        try:
            raw = self.store.archive.get(row["sha256"])
        except OSError as exc:
            # A re-read that cannot read must never erase what was recorded: the decision, its
            # submissions and its mail stay as they are, and the caller says which message it was.
            raise ArchiveMissing(t("reprocess.archive_missing", id=msg_id, path=self.store.archive.path(row["sha256"]),
                                   error=exc.strerror or exc)) from exc
        return self.finish(msg_id, raw, retry=True)

    def finish(self, msg_id: int, raw: bytes, *, retry: bool = False) -> str:
        """Decide and record a claimed message, with the mail it causes; returns its final status."""
        row = self.store.message(msg_id)
        with self.store.writing():
            attempts = self.store.begin_attempt(msg_id)
        received_at = datetime.fromisoformat(row["received_at"])
        reading = None
        if attempts > MAX_ATTEMPTS and not retry:
            outcome = Outcome(status="failed", reason=t("failed.too_many_attempts", count=attempts - 1))
        else:
            outcome, reading = self.decide(msg_id, raw, received_at)
        now = self.clock.now()
        outcome = replace(outcome, outgoing=outcome.outgoing + tuple(self.answers(row, outcome, reading, raw, now)))
        failures = bounces.failures_for_us(raw, outcome, self.config, self.store) if outcome.status == "ignored" else []
        try:
            # the decision and the mail it causes: all or nothing
            with self.store.writing(), self.store.atomic():
                self.store.record(msg_id, outcome, now=now)
                for failure, unit in failures:
                    if self.store.mark_address_failing(failure.recipient, unit.id, failure.diagnostic or failure.status, now, msg_id):
                        notice = notices.address_failing(self.config, self.renderer, unit, failure.recipient,
                                                         failure.diagnostic or failure.status or "không rõ",
                                                         self.store.failing_addresses(), now)
                        if notice:
                            self.store.queue(notice, message=msg_id, now=now)
        except StorageError:
            self.store.undo_attempt(msg_id)  # no room to write is not this message crashing the service
            raise
        log.info("thư %s từ %s: %s - %s", msg_id, outcome.from_addr or "?", outcome.status, outcome.reason)
        if outcome.submissions:
            self.tracking_stale = True
        return outcome.status

    def answers(self, row: dict, outcome: Outcome, reading, raw: bytes, now: datetime) -> list:
        """The acknowledgement to the unit and the notice to the office that this decision causes."""
        cfg, out = self.config, []
        try:
            if cfg.notices.acknowledge and reading is not None and outcome.unit_id and outcome.status in ("recorded", "review"):
                # Only the unit's own rows decide what it still owes: loading every row of the
                # ledger for each message made a backlog quadratic (bench/backlog.py).
                prior = [r for r in self.store.submissions(unit=outcome.unit_id) if r["message"] != row["id"]]
                out.append(notices.acknowledgement(cfg, self.renderer, msg_row=row["id"], message=reading.message,
                                                   outcome=outcome, documents=reading.documents,
                                                   received_at=datetime.fromisoformat(row["received_at"]),
                                                   prior_rows=prior, now=now))
            if cfg.notices.review_notice and outcome.status in ("review", "failed"):
                out.append(notices.review_notice(cfg, self.renderer, msg_row=row, outcome=outcome, raw=raw,
                                                 archive_path=self.store.archive.path(row["sha256"]), now=now))
        except Exception:  # a broken template must not lose the decision: it is logged and the office sees it in check-config
            log.exception("message %s: could not write the answer", row["id"])
        return [m for m in out if m is not None]

    def handle(self, fetched: Fetched, uidvalidity: int) -> None:
        try:
            sha = self.store.archive.put(fetched.raw)  # archived and fsync'd before any parsing
        except OSError as exc:  # disk full, read-only: not claimed, the message stays in the mailbox
            raise StorageError(t("storage.archive", path=self.store.archive.root, error=storage_problem(exc))) from exc
        crash_point("after-archive")
        location = (self.source.identity, self.source.folder, uidvalidity, fetched.uid)
        with self.store.writing():
            msg_id, _ = self.store.claim(
                location, sha256=sha, size=len(fetched.raw), message_id=message_id_of(fetched.raw),
                received_at=fetched.internaldate.isoformat(),
            )
        crash_point("after-claim")
        status = self.store.message(msg_id)["status"]
        if status == "claimed":
            status = self.finish(msg_id, fetched.raw)
            crash_point("after-record")
        self.move(fetched.uid, msg_id, status)
        crash_point("after-move")

    def move(self, uid: str, msg_id: int, status: str) -> None:
        folder = folder_for(status, self.config)
        self.store.check_same_file()  # never move a message out on the word of a replaced ledger
        # The folder is written first: a crash between the two leaves the message in the watched
        # folder, where the next pass moves it again; the other order could leave a moved message
        # with no folder in the ledger (scripts/crash_soak.py found it, 2 rounds in 50).
        with self.store.writing():
            self.store.mark_moved(msg_id, folder)
        self.source.move(uid, folder)

    # --- passes -----------------------------------------------------------------------------------

    def recover(self) -> int:
        """Finish messages claimed before a crash, from the archive (they may have left the folder)."""
        done = 0
        for row in self.store.unfinished():
            try:
                raw = self.store.archive.get(row["sha256"])
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
        for uid in source.pending():
            known = self.store.claimed_message(source.identity, source.folder, uidvalidity, uid)
            if known is not None and known["status"] != "claimed":
                self.move(uid, known["id"], known["status"])  # decided before a crash, not yet moved
                handled += 1
            else:
                to_fetch.append(uid)
        for fetched in source.fetch(to_fetch):
            if self.stopping:
                break
            self.store.check_same_file()
            self.handle(fetched, uidvalidity)
            handled += 1
        return handled

    def run_jobs(self, now: datetime) -> None:
        """Everything due at `now`, computed from the ledger: reminders, overdue notices, the
        digest, then the outbox. Each job is guarded: one failing never stops the others."""
        self.store.check_same_file()
        for job in (self.refresh_tracking, self.queue_chases, self.queue_digest, self.write_drafts, self.send_outbox):
            if self.stopping:
                return
            try:
                job(now)
            except sqlite3.OperationalError as exc:  # disk full, read-only: said plainly, tried next pass
                log.error(t("storage.job", path=self.store.path, error=storage_problem(exc, self.store.path)))
            except OSError as exc:  # a folder replaced by a file, unwritable, full: said plainly
                log.error(t("storage.job_file", job=JOB_NAMES.get(job.__name__, job.__name__),
                            path=getattr(exc, "filename", None) or self.config.storage.root,
                            error=storage_problem(exc)))
            except sqlite3.DatabaseError as exc:
                if is_corruption(exc):  # a damaged ledger stops the service, it is not one job's failure
                    raise LedgerCorrupt(corrupt_text(self.store.path, exc)) from exc
                log.exception("job %s failed", job.__name__)
            except Exception:
                log.exception("job %s failed", job.__name__)

    def refresh_tracking(self, now: datetime) -> None:
        """Rewrite the tracking workbook once per pass in which submissions were recorded."""
        path = self.config.storage.root / tracking.FILE_NAME
        if self.tracking_stale or not path.exists():
            tracking.write(self.config, self.store.submissions(), now)
            self.tracking_stale = False

    def queue_chases(self, now: datetime) -> int:
        queued = 0
        failing = self.store.failing_addresses()
        for campaign in self.config.campaigns:
            cycle = campaign.cycle_of(now, self.config.office.timezone)
            table = status.cells(self.config, campaign, cycle, self.store.submissions(campaign.id, cycle))
            # A reminder still waiting (the SMTP server was down) for a unit that has since sent
            # everything would ask for what it already sent: it is withdrawn, never delivered.
            for row in self.store.queued_mail(("reminder", "overdue")):
                if row["key"].split(":")[1:3] == [campaign.id, cycle] and not status.owed(campaign, table, row["unit_id"]):
                    self.store.withdraw(row["id"], t("outbox.withdrawn"))
            for due in chase.chases(self.config, campaign, cycle, table, now):
                if self.store.has_mail(due.key):
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
            docx, xlsx = writers.write_draft(self.config, model, out_dir, version)
            previous = draft.previous_model(self.config, self.store, campaign, cycle, now, rows)
            notes_docx = notes.write_notes(model, docx, previous, tz=tz)
            mail = notices.draft_mail(self.config, self.renderer, campaign, cycle, version, docx, xlsx, new_rows, now,
                                      notes=notes_docx)
            with self.store.atomic():
                self.store.add_draft(campaign.id, cycle, version, docx, xlsx, ids, now)
                if mail:
                    self.store.queue(mail, now=now)
            log.info("Đã viết dự thảo tổng hợp %s kỳ %s (bản %d): %s", campaign.id, cycle, version, docx)

    def send_outbox(self, now: datetime) -> None:
        cfg = self.config
        report = outbox.send_due(
            self.store, self.sender, now, tz=cfg.office.timezone,
            give_up_after=timedelta(hours=cfg.notices.give_up_hours),
            max_per_address_per_day=cfg.notices.max_per_address_per_day,
            own_addresses=cfg.office.own_addresses, should_stop=lambda: self.stopping,
        )
        for row in report.gave_up:
            notice = notices.undeliverable(cfg, self.renderer, row, now)
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
                self.fetch_pass()
                self.run_jobs(self.clock.now())
                backoff = BACKOFF_START
                if not self.stopping:
                    self.source.wait(self.config.mailbox.poll_seconds, lambda: self.stopping or self.reload_requested)
            except MailboxError as exc:
                log.warning("%s; thử lại sau %.0f giây", t("cli.mailbox_down", error=exc), backoff)
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
        self.disconnect()
        log.info("tonghop dừng theo yêu cầu")

    def sleep(self, seconds: float) -> None:
        sleep_until(time.monotonic() + seconds, lambda: self.stopping)

    # --- signals ---------------------------------------------------------------------------------

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.request_stop())
        signal.signal(signal.SIGINT, lambda *_: self.request_stop())
        signal.signal(signal.SIGHUP, lambda *_: setattr(self, "reload_requested", True))

    def request_stop(self) -> None:
        self.stopping = True

    def reload(self) -> None:
        self.reload_requested = False
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
