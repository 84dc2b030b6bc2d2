"""The ledger: every message, attachment, submission, outgoing mail and event, in SQLite.

Rules that keep "nothing lost, nothing doubled":
- raw bytes are archived (content-addressed) before anything parses them, and fsync'd before
  the decision's fsync'd commit and before the message leaves the mailbox (see below);
- a message is claimed (a row with status "claimed") before it is read, under a unique claim key
  (mailbox, folder, UIDVALIDITY, UID); a restart finds the claim and finishes it;
- the decision about a message (status, attachments, submissions, outgoing mail) is written in
  one transaction, so a crash leaves either the claim or the whole decision, never half of it.

What is fsync'd: the archived bytes, and every transaction that decides something (a decision,
a queued or sent mail). Three bookkeeping writes are committed without an fsync of their own
(_unsynced): the claim, the count of attempts and the folder a message was moved to. A process
crash (kill -9, OOM) loses none of them: they are in the operating system's cache. A power cut
may lose them, and then nothing is lost either: the message is moved out of the mailbox only
after its decision is fsync'd, and that fsync of the write-ahead log also makes every earlier
commit durable; a claim lost with the power is simply made again when the message, still in the
mailbox, is fetched again. This halves the fsyncs per message (bench/backlog.py).

In a batch (runner.Runner.handle_batch, issue 17) the decisions too are committed without an
fsync (`unsynced()`), and one fsync'd commit per batch, that of the folders the messages go to
(mark_moved_many), makes them all durable before the batch's move: nothing leaves the mailbox, and
no mail goes out (the outbox is sent after the pass), before its decision is on the disk. A power
cut before that commit loses decisions whose messages are all still in the mailbox, read again at
the next pass. So per message: the archive's file and folder, and a twentieth of a ledger fsync;
a decision made alone (reprocess, recovery) keeps its own fsync.

The archive's files of a batch are fsync'd together too (Archive.put(sync=False), then
Archive.sync() in runner.Runner.move_all, before the batch's fsync'd commit and its move): each
file is written and renamed into place before its message is claimed or parsed, so a process
crash (kill -9) finds it whole in the operating system's cache, as before; what a power cut
could lose is only what no durable record depends on: the batch's fsync'd commit and its move
come after the files' fsyncs, so a message that left the mailbox has its raw bytes on the disk.
A claim or decision committed without an fsync can still reach the disk before its file (a WAL
checkpoint syncs the log), and a power cut then leaves a ledger row whose file is missing or
cut. Both are repaired from the mailbox, where the message still is: recovery checks the bytes
against their SHA-256 and leaves such a claim for the next fetch, which archives it again; a
decided message whose file does not hold its bytes is fetched and archived again before it is
moved (fetch_pass), never moved without its archive. The batch's files are made durable by one
syncfs(2) of the archive's file system (durable.syncfs) instead of an fsync per file and per
folder: each of those flushed the disk's cache, ~3 ms apiece here, two per message
(bench/backlog.py, issue 17); where syncfs does not exist, each file and folder is fsync'd.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import sqlite3
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path

import sqlite_utils
from sqlite_utils.db import NotFoundError
from sqlite_utils.migrations import Migrations

from daemon.durable import DIR_MODE, FILE_MODE, fsync_dir, fsync_file, private_dir, syncfs, write_bytes
from daemon.records import STATUSES, OutgoingMail, Outcome, sha256_of
from daemon.texts import t

migrations = Migrations("tonghop")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["messages"].create(
        {
            "id": int,
            "message_id": str,  # the Message-ID header, for finding the same mail again
            "sha256": str,  # of the raw bytes; the archive file's name
            "size": int,
            "received_at": str,  # IMAP INTERNALDATE (server arrival), ISO 8601 with offset
            "fetched_at": str,
            "from_addr": str,
            "subject": str,
            "status": str,
            "reason": str,
            "unit_id": str,
            "moved_to": str,  # the folder the message was moved to after the decision
            "attempts": int,  # how many times it was read (reprocess, crash recovery)
            "decided_at": str,
        },
        pk="id",
    )
    db["messages"].create_index(["sha256"])
    db["messages"].create_index(["message_id"])
    db["messages"].create_index(["status"])
    # Every place a message was seen: a UIDVALIDITY change gives the same message a new key.
    db["claims"].create(
        {"mailbox": str, "folder": str, "uidvalidity": int, "uid": str, "message": int, "claimed_at": str},
        pk=("mailbox", "folder", "uidvalidity", "uid"),
        foreign_keys=[("message", "messages", "id")],
    )
    db["attachments"].create(
        {
            "id": int,
            "message": int,
            "seq": int,  # order within the message
            "filename": str,
            "path": str,  # container path: "", "bao-cao.zip", ...
            "content_type": str,
            "kind": str,
            "size": int,
            "sha256": str,
            "problems": str,  # JSON list of Vietnamese sentences
            "facts": str,  # JSON object of the document's facts (parsers), or null
        },
        pk="id",
        foreign_keys=[("message", "messages", "id")],
    )
    db["attachments"].create_index(["message"])
    db["submissions"].create(
        {
            "id": int,
            "message": int,
            "attachment": int,
            "unit_id": str,
            "campaign": str,
            "cycle": str,
            "requirement": str,
            "received_at": str,
            "doc_number": str,
            "doc_date": str,
            "doc_title": str,
            "recorded_at": str,
        },
        pk="id",
        foreign_keys=[("message", "messages", "id"), ("attachment", "attachments", "id")],
    )
    db["submissions"].create_index(["campaign", "cycle", "unit_id", "requirement"])
    db["outbox"].create(
        {
            "id": int,
            "key": str,  # idempotency key: the same key is never queued twice
            "kind": str,
            "message": int,  # the incoming message that caused it, if any
            "unit_id": str,
            "recipients": str,  # JSON list
            "subject": str,
            "message_id": str,  # fixed Message-ID of this mail, so a resend is recognisable
            "raw": bytes,
            "status": str,  # queued | sent | failed
            "attempts": int,
            "last_error": str,
            "created_at": str,
            "next_attempt_at": str,
            "sent_at": str,
        },
        pk="id",
    )
    db["outbox"].create_index(["key"], unique=True)
    db["outbox"].create_index(["status"])
    db["events"].create(
        {"id": int, "at": str, "kind": str, "message": int, "detail": str},
        pk="id",
    )
    db["events"].create_index(["message"])


@migrations()
def m002_address_health(db: sqlite_utils.Database) -> None:
    # A unit address that bounced our mail: later mail prefers the unit's other addresses.
    db["failing_addresses"].create(
        {"address": str, "unit_id": str, "since": str, "detail": str, "message": int},
        pk="address",
    )


@migrations()
def m003_drafts(db: sqlite_utils.Database) -> None:
    # Every version of the consolidated draft is kept: a late report makes a new one.
    db["drafts"].create(
        {"id": int, "campaign": str, "cycle": str, "version": int, "written_at": str, "docx": str,
         "xlsx": str, "submissions": str},  # submissions: JSON list of the submission ids it consolidates
        pk="id",
    )
    db["drafts"].create_index(["campaign", "cycle", "version"], unique=True)


@migrations()
def m004_figures(db: sqlite_utils.Database) -> None:
    # Indicator values of the campaign's figures form, read from a unit's form or report tables.
    db["figures"].create(
        {"id": int, "message": int, "attachment": int, "unit_id": str, "campaign": str, "cycle": str,
         "code": str, "value": float, "received_at": str},
        pk="id",
        foreign_keys=[("message", "messages", "id")],
    )
    db["figures"].create_index(["campaign", "cycle", "unit_id"])


@migrations()
def m005_desk(db: sqlite_utils.Database) -> None:
    # What a clerk did at the web desk or with `tonghop resolve`, who and when: the audit trail,
    # and the clerk's standing decision about a message (intake.decide.hint_from_actions).
    db["desk_actions"].create(
        {"id": int, "at": str, "who": str, "action": str, "message": int, "detail": str},  # detail: JSON object
        pk="id",
    )
    db["desk_actions"].create_index(["message"])
    # Addresses a clerk confirmed as a unit's ("remember"): mail from them counts for the unit at
    # once, as an address of units.toml would; check-config lists them to be copied there.
    db["approved_addresses"].create(
        {"address": str, "unit_id": str, "who": str, "at": str, "message": int},
        pk="address",
    )


class StorageError(Exception):
    """The archive or the ledger cannot be written (disk full, read-only, no permission). Raised
    before a message is claimed or while its decision is written, never after a move: the message
    is still in the mailbox. str() is Vietnamese for the admin."""


def storage_problem(exc: BaseException, path: Path | None = None) -> str:
    """Why a write failed, in Vietnamese. SQLite says it in its own words, the OS with errno; for
    SQLite's vague "unable to open" the folder itself is looked at (a read-only mount makes SQLite
    fail to create its -shm file, which it reports only as that)."""
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in text:
        return t("storage.full")
    if code == errno.EROFS or "readonly" in text or "read-only" in text:
        return t("storage.read_only")
    if code in (errno.EACCES, errno.EPERM):
        return t("storage.no_permission")
    if code in (errno.ENOTDIR, errno.EISDIR, errno.EEXIST):
        return t("storage.not_a_folder")
    if "unable to open" in text:
        folder = Path(path).parent if path else None
        if folder is not None and folder.is_dir():
            if os.statvfs(folder).f_flag & os.ST_RDONLY:
                return t("storage.read_only")
            if not os.access(folder, os.W_OK):
                return t("storage.no_permission")
        return t("storage.cannot_open")
    return f"{exc}"


class LedgerCorrupt(Exception):
    """The ledger file is damaged (pages overwritten, a disk fault): nothing can be trusted or
    recorded until a person restores it. Not retried: the service stops (exit 2). str() is Vietnamese."""


class LedgerReplaced(Exception):
    """The ledger file was replaced or deleted under the running service (a backup restored):
    writing on would record into a file nobody reads. The service stops before moving anything."""


class AlreadyRunning(Exception):
    """Another tonghop holds the storage folder's lock; pid is its process id (or None)."""

    def __init__(self, message: str, pid: int | None):
        super().__init__(message)
        self.pid = pid


LOCK_FILE = "tonghop.lock"
_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB


def is_corruption(exc: BaseException) -> bool:
    """True for SQLite's words for a damaged file ("database disk image is malformed", "file is
    not a database"), not for a busy or full disk."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _CORRUPT_CODES:
        return True
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def corrupt_text(path: Path, error: BaseException | str) -> str:
    return t("ledger.corrupt", path=path, error=error, backup=Path(path).with_name(Path(path).name + ".hong"))


def file_damaged(path: Path) -> bool:
    """True unless SQLite's quick_check finds the ledger file at path whole (or it is absent)."""
    if not Path(path).exists():
        return False
    try:
        conn = sqlite3.connect(path)
        try:
            return conn.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok"
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return True


def take_instance_lock(root: Path):
    """Hold the storage folder's lock for the life of the process (fcntl.flock on tonghop.lock,
    released by the kernel when the process ends, even by SIGKILL). Returns the open lock file,
    which the caller keeps; raises AlreadyRunning when another tonghop holds it."""
    path = Path(root) / LOCK_FILE
    try:
        private_dir(root)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError as exc:  # a read-only or foreign storage folder: the same words as for the ledger
        raise StorageError(t("storage.cannot_start", path=path, error=storage_problem(exc, path))) from exc
    handle = os.fdopen(fd, "r+", encoding="ascii")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        text = handle.read().strip()
        handle.close()
        pid = int(text) if text.isdigit() else None
        raise AlreadyRunning(t("instance.running", pid=pid if pid else "không rõ", path=path), pid) from None
    except OSError:
        return handle  # a file system without locks (some network mounts): run unguarded, as before
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
    except OSError:
        pass  # the pid is for people; the lock is what counts
    return handle


def _make_private(db_path: Path) -> None:
    """The ledger holds the units' official mail: 0600 whatever the umask, in a 0700 folder.
    SQLite gives its -wal and -shm files the mode of the database file, so creating that 0600
    first makes all three private; files of an older install are tightened."""
    folder = private_dir(db_path.parent)
    try:
        if folder.stat().st_uid == os.getuid() and folder.stat().st_mode & 0o077:
            os.chmod(folder, DIR_MODE)
    except OSError:
        pass
    if not db_path.exists():
        os.close(os.open(db_path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    for path in (db_path, db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")):
        try:
            if path.stat().st_mode & 0o777 != FILE_MODE and path.stat().st_uid == os.getuid():
                os.chmod(path, FILE_MODE)
        except OSError:
            continue


def _moment(stamp: str, tz: tzinfo) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Archive:
    """Raw messages on disk, named by their SHA-256: writing the same bytes twice is a no-op."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.pending: list[Path] = []  # put with sync=False, not yet fsync'd (sync())

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.eml"

    def put(self, raw: bytes, *, sync: bool = True) -> str:
        """Archive raw (a no-op when the file already holds these bytes). sync=False: not fsync'd
        until sync(), which the runner calls for a batch before its fsync'd commit and its move
        (the module docstring says why that is enough)."""
        sha = sha256_of(raw)
        target = self.path(sha)
        if target.exists() and target.stat().st_size == len(raw) and self.holds(sha):
            return sha
        write_bytes(target, raw, sync=sync)
        if not sync:
            self.pending.append(target)
        return sha

    def sync(self) -> None:
        """Make the files put with sync=False durable, with their names: one syncfs(2) of the
        archive's file system for a batch (one flush of the disk cache instead of two per file),
        else an fsync of each file, then of each folder."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        try:
            if len(pending) > 1 and syncfs(self.root):
                return
            for path in pending:
                fsync_file(path)
            for folder in dict.fromkeys(path.parent for path in pending):
                fsync_dir(folder)
        except BaseException:
            self.pending = pending + self.pending  # not durable yet: tried again at the next sync
            raise

    def holds(self, sha256: str) -> bool:
        """True when the archive has the whole message: its file's bytes hash to its name. A file
        written without an fsync and cut by a power cut (sync()) may be missing or, on some file
        systems, hold zeros."""
        try:
            return sha256_of(self.get(sha256)) == sha256
        except OSError:
            return False

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()


class Store:
    def __init__(self, db_path: Path, archive_dir: Path):
        self.path = Path(db_path)
        try:
            _make_private(self.path)
            self.db = sqlite_utils.Database(str(db_path))
            # WAL: readers (status, messages) never block the daemon's writer; FULL sync: a committed
            # decision survives a power cut, which the "nothing lost" promise needs.
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA busy_timeout=10000")
            self.db.execute("PRAGMA foreign_keys=ON")
            migrations.apply(self.db)
            self._ensure_indexes()
            self.identity = self._file_identity()
        except (sqlite3.Error, OSError) as exc:
            if is_corruption(exc):
                raise LedgerCorrupt(corrupt_text(self.path, exc)) from exc
            raise StorageError(t("storage.cannot_start", path=self.path, error=storage_problem(exc, self.path))) from exc
        self.archive = Archive(archive_dir)

    # Lookups made once per message that found no index, so each cost grew with the ledger (a
    # 10,000-message backlog, issue 17): record() deletes a message's submissions and figures by
    # message, and the acknowledgement reads what its unit sent. Indexes only, no change of data:
    # made at open when missing (no migration), and a ledger that cannot be written (read-only)
    # still works without them, only slower.
    _INDEXES = {
        "idx_submissions_message": "submissions(message)",
        "idx_submissions_unit": "submissions(unit_id, campaign, cycle, requirement)",
        "idx_figures_message": "figures(message)",
        "idx_events_kind": "events(kind, message)",
    }

    def _ensure_indexes(self) -> None:
        have = {r[0] for r in self.db.execute("select name from sqlite_master where type = 'index'").fetchall()}
        for name, target in self._INDEXES.items():
            if name in have:
                continue
            try:
                with self.db.atomic():
                    self.db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
            except sqlite3.OperationalError:
                return  # read-only or full: the queries work without, and the next open tries again

    @classmethod
    def open(cls, config) -> "Store":
        return cls(config.storage.db_path, config.storage.archive_dir)

    def close(self) -> None:
        self.db.close()

    # The per-message writes and lookups are plain statements with named columns, not sqlite_utils'
    # Table.insert/get: those read the table's schema (PRAGMA table_info, foreign keys) at every
    # call, ~164 statements per message where ~30 do the work (bench/backlog.py, issue 17).
    # sqlite3 keeps the compiled statements in its cache. sqlite-utils still creates and migrates
    # the tables. The values are str/int/float/bytes/None, stored as sqlite_utils stored them.
    _INSERTS: dict[tuple[str, tuple[str, ...]], str] = {}

    def _insert(self, table: str, values: dict) -> int:
        """INSERT one row; returns its rowid (the id of the tables with an integer key)."""
        columns = tuple(values)
        sql = self._INSERTS.get((table, columns))
        if sql is None:
            sql = self._INSERTS[(table, columns)] = (
                f"insert into [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
                f"values ({', '.join('?' for _ in columns)})")
        if self.db.conn.in_transaction:  # one statement is atomic by itself: no savepoint needed
            return self.db.conn.execute(sql, list(values.values())).lastrowid
        with self.db.atomic():  # committed at once, as Table.insert did (Python's sqlite3 would
            return self.db.conn.execute(sql, list(values.values())).lastrowid  # leave it open)

    def _row(self, sql: str, args) -> dict | None:
        """The first row of a query as a dict (column -> value), or None. Not db.query: it
        wraps every read in a savepoint (two more statements) to refuse statements without
        rows; these are plain selects with distinct column names."""
        cursor = self.db.conn.execute(sql, args)
        row = cursor.fetchone()
        return None if row is None else dict(zip([c[0] for c in cursor.description], row))

    def _rows(self, sql: str, args) -> list[dict]:
        """Every row of a plain select as dicts (see _row)."""
        cursor = self.db.conn.execute(sql, args)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    @contextmanager
    def _unsynced(self):
        """A transaction committed without waiting for the disk (PRAGMA synchronous=NORMAL: in
        WAL mode the commit is written but not fsync'd; the next fsync'd commit carries it to the
        disk). Inside a caller's transaction it is a savepoint and the caller's commit decides."""
        if self.db.conn.in_transaction:
            with self.db.atomic():
                yield
            return
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            with self.db.atomic():
                yield
        finally:
            self.db.execute("PRAGMA synchronous=FULL")

    def unsynced(self):
        """A transaction committed without an fsync (see _unsynced); the caller makes it durable
        with a later fsync'd commit before anything depends on it outside the ledger."""
        return self._unsynced()

    def check_writable(self) -> None:
        """Raise StorageError unless the ledger can be written now: the service checks this before
        it starts, so that it never runs while unable to record anything."""
        try:
            self.db.execute("BEGIN IMMEDIATE")  # takes the write lock: fails on a read-only ledger
            self.db.execute("ROLLBACK")
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(t("storage.cannot_start", path=self.path, error=storage_problem(exc, self.path))) from exc

    def check_integrity(self) -> None:
        """Raise LedgerCorrupt unless SQLite's quick_check finds the file whole: a service that
        starts on a damaged ledger records into it and fails later, mid-message."""
        try:
            problems = [r[0] for r in self.db.execute("PRAGMA quick_check(5)").fetchall()]
        except sqlite3.DatabaseError as exc:
            raise LedgerCorrupt(corrupt_text(self.path, exc)) from exc
        if problems != ["ok"]:
            raise LedgerCorrupt(corrupt_text(self.path, "; ".join(problems)))

    def _file_identity(self) -> tuple[int, int]:
        st = os.stat(self.path)
        return st.st_dev, st.st_ino

    def check_same_file(self) -> None:
        """Raise LedgerReplaced when the ledger's path no longer names the file this connection
        writes (st_dev/st_ino changed, or the file is gone): an admin restored a backup, or deleted
        it. Checked before each batch and each move, so nothing leaves the mailbox unrecorded."""
        try:
            now = self._file_identity()
        except FileNotFoundError:
            now = None
        if now != self.identity:
            raise LedgerReplaced(t("ledger.replaced" if now else "ledger.deleted", path=self.path))

    def atomic(self):
        """One transaction (a savepoint inside another): several Store calls committed together."""
        return self.db.atomic()

    @contextmanager
    def writing(self):
        """Turn a failed write of the ledger (disk full, read-only, I/O error) into StorageError."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise StorageError(t("storage.ledger", path=self.path, error=storage_problem(exc, self.path))) from exc

    def undo_attempt(self, msg_id: int) -> None:
        """Take back a try counted by begin_attempt when the decision could not be written for lack
        of storage: that is not the message crashing the service, so it must not count towards
        setting it aside. Best effort: the disk may refuse this too."""
        try:
            with self.db.atomic():
                self.db.execute("update messages set attempts = max(coalesce(attempts, 1) - 1, 0) where id = ?", [msg_id])
        except sqlite3.Error:
            pass

    # --- claims -----------------------------------------------------------------------------

    def claimed_message(self, mailbox: str, folder: str, uidvalidity: int, uid: str) -> dict | None:
        return self._row(
            "select m.* from claims c join messages m on m.id = c.message "
            "where c.mailbox = ? and c.folder = ? and c.uidvalidity = ? and c.uid = ?",
            [mailbox, folder, uidvalidity, str(uid)],
        )

    def same_message(self, sha256: str) -> dict | None:
        """A message already in the ledger with the same bytes (e.g. after a UIDVALIDITY reset).

        Identical bytes imply the same Message-ID too, so the hash alone decides; the Message-ID
        is kept for people and for threading answers.
        """
        return self._row("select * from messages where sha256 = ? order by id limit 1", [sha256])

    def claim(
        self,
        location: tuple[str, str, int, str],
        *,
        sha256: str,
        size: int,
        message_id: str | None,
        received_at: str,
    ) -> tuple[int, bool]:
        """Claim a location. Returns (message row id, is_new); a known message gets only the new key."""
        mailbox, folder, uidvalidity, uid = location
        with self._unsynced():  # see the module docstring: made durable by the decision's commit
            known = self.claimed_message(mailbox, folder, uidvalidity, uid)
            if known:
                return known["id"], False
            same = self.same_message(sha256)
            if same:
                msg_id, is_new = same["id"], False
            else:
                msg_id = self._insert(
                    "messages",
                    {
                        "message_id": message_id,
                        "sha256": sha256,
                        "size": size,
                        "received_at": received_at,
                        "fetched_at": utcnow(),
                        "status": "claimed",
                        "reason": "đang xử lý",
                        "attempts": 0,
                    },
                )
                is_new = True
            self._insert("claims", {"mailbox": mailbox, "folder": folder, "uidvalidity": uidvalidity, "uid": str(uid),
                                    "message": msg_id, "claimed_at": utcnow()})
            self._event("claimed" if is_new else "seen-again", msg_id,
                        {"mailbox": mailbox, "folder": folder, "uidvalidity": uidvalidity, "uid": str(uid)})
        return msg_id, is_new

    # --- decisions ----------------------------------------------------------------------------

    def record(self, msg_id: int, outcome: Outcome, now: datetime | None = None) -> None:
        """Write the decision about a message, all of it or nothing. A re-read replaces the last.

        `now` is the service clock (it may be simulated): queued mail becomes due from then."""
        assert outcome.status in STATUSES and outcome.status != "claimed"
        with self.db.atomic():
            self.db.execute("delete from submissions where message = ?", [msg_id])
            self.db.execute("delete from figures where message = ?", [msg_id])
            self.db.execute("delete from attachments where message = ?", [msg_id])
            seq_to_id = {}
            for seq, att in enumerate(outcome.attachments):
                seq_to_id[seq] = self._insert(
                    "attachments",
                    {
                        "message": msg_id,
                        "seq": seq,
                        "filename": att.filename,
                        "path": att.path,
                        "content_type": att.content_type,
                        "kind": att.kind,
                        "size": att.size,
                        "sha256": att.sha256,
                        "problems": json.dumps(list(att.problems), ensure_ascii=False),
                        "facts": json.dumps(att.facts, ensure_ascii=False) if att.facts is not None else None,
                    },
                )
            received_at = self.message(msg_id)["received_at"]
            for sub in outcome.submissions:
                self._insert(
                    "submissions",
                    {
                        "message": msg_id,
                        "attachment": seq_to_id.get(sub.attachment_seq),
                        "unit_id": outcome.unit_id,
                        "campaign": sub.campaign,
                        "cycle": sub.cycle,
                        "requirement": sub.requirement,
                        "received_at": received_at,
                        "doc_number": sub.doc_number,
                        "doc_date": sub.doc_date,
                        "doc_title": sub.doc_title,
                        "recorded_at": utcnow(),
                    },
                )
            for fig in outcome.figures:
                self._insert("figures", {"message": msg_id, "attachment": seq_to_id.get(fig.attachment_seq),
                                           "unit_id": outcome.unit_id, "campaign": fig.campaign, "cycle": fig.cycle,
                                           "code": fig.code, "value": fig.value, "received_at": received_at})
            for mail in outcome.outgoing:
                self.queue(mail, message=msg_id, now=now)
            self.db.execute(
                "update messages set status = ?, reason = ?, unit_id = ?, decided_at = ?, "
                "from_addr = coalesce(?, from_addr), subject = coalesce(?, subject), "
                "message_id = coalesce(?, message_id) where id = ?",
                [outcome.status, outcome.reason, outcome.unit_id, utcnow(), outcome.from_addr,
                 outcome.subject, outcome.message_id, msg_id],
            )
            self._event(outcome.status, msg_id, {"reason": outcome.reason, "unit": outcome.unit_id})
            for kind, detail in outcome.events:
                self._event(kind, msg_id, detail)

    def queue(self, mail: OutgoingMail, *, message: int | None = None, now: datetime | None = None) -> bool:
        """Queue an outgoing mail unless its key was ever queued; True when queued now."""
        stamp = now.isoformat(timespec="seconds") if now else utcnow()
        if self.db.execute("select 1 from outbox where key = ?", [mail.key]).fetchone():
            return False
        self._insert(
            "outbox",
            {
                "key": mail.key,
                "kind": mail.kind,
                "message": message,
                "unit_id": mail.unit_id,
                "recipients": json.dumps(list(mail.recipients)),
                "subject": mail.subject,
                "message_id": mail.message_id,
                "raw": mail.raw,
                "status": "queued",
                "attempts": 0,
                "created_at": stamp,
                "next_attempt_at": stamp,
            },
        )
        return True

    def begin_attempt(self, msg_id: int) -> int:
        """Count a try at reading a message, committed before reading: a message that crashes the
        process every time is noticed after a few restarts instead of looping forever. A process
        crash keeps the count without an fsync; a power cut is not the message's doing."""
        with self._unsynced():
            self.db.execute("update messages set attempts = coalesce(attempts, 0) + 1 where id = ?", [msg_id])
        return self.message(msg_id)["attempts"]

    def has_mail(self, key: str) -> bool:
        return self.db.execute("select 1 from outbox where key = ?", [key]).fetchone() is not None

    def keys_queued(self, keys: list[str]) -> set[str]:
        """Which of these outbox keys were ever queued (has_mail for many, in few queries)."""
        found: set[str] = set()
        for start in range(0, len(keys), 500):  # under SQLite's limit of bound parameters
            chunk = keys[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            found.update(r[0] for r in self.db.execute(f"select key from outbox where key in ({marks})", chunk))
        return found

    def queued_mail(self, kinds: tuple[str, ...]) -> list[dict]:
        """Outbox rows of these kinds still waiting to go out (without their bytes)."""
        marks = ", ".join("?" for _ in kinds)
        return list(self.db.query(f"select id, key, kind, unit_id from outbox where status = 'queued' "
                                  f"and kind in ({marks}) order by id", list(kinds)))

    def withdraw(self, outbox_id: int, reason: str) -> bool:
        """Take a waiting mail out of the outbox unsent (status "withdrawn", with the reason); its
        key stays, so it is never queued again. False when it was no longer waiting."""
        with self.db.atomic():
            return self.db.execute("update outbox set status = 'withdrawn', last_error = ? "
                                   "where id = ? and status = 'queued'", [reason, outbox_id]).rowcount == 1

    # --- the outbox, for outgoing.outbox.send_due -----------------------------------------------

    def due_mail(self, now: datetime, tz: tzinfo) -> list[dict]:
        """Queued outbox rows whose next attempt is due at `now`, in id order, without their bytes.

        Compared as datetimes: the stored strings may carry different offsets (a --now in UTC, the
        office's +07:00), and "…T01:00+00:00" < "…T08:00+07:00" as text although it is later."""
        rows = self.db.execute(
            "select id, key, kind, message, recipients, subject, attempts, created_at, next_attempt_at "
            "from outbox where status = 'queued' order by id"
        )
        cols = [c[0] for c in rows.description]
        due = [dict(zip(cols, r)) for r in rows.fetchall()]
        return [r for r in due if not r["next_attempt_at"] or _moment(r["next_attempt_at"], tz) <= now]

    def last_queued_at(self, kind: str, tz: tzinfo) -> datetime | None:
        """When the newest outbox mail of this kind was queued (None: never)."""
        row = self.db.execute("select created_at from outbox where kind = ? order by id desc limit 1", [kind]).fetchone()
        return _moment(row[0], tz) if row and row[0] else None

    def sent_today(self, now: datetime, tz: tzinfo) -> Counter:
        """How many outbox mails each address (lower case) was sent on now's local date."""
        today = now.astimezone(tz).date()
        # A cheap text window first (a stored offset differs from the office's by under two days),
        # then the exact local date of each row.
        low, high = (today - timedelta(days=2)).isoformat(), (today + timedelta(days=2)).isoformat()
        counts: Counter = Counter()
        for recipients, sent_at in self.db.execute(
            "select recipients, sent_at from outbox where status = 'sent' and substr(sent_at, 1, 10) between ? and ?",
            [low, high],
        ).fetchall():
            if _moment(sent_at, tz).astimezone(tz).date() == today:
                for address in {a.lower() for a in json.loads(recipients or "[]")}:
                    counts[address] += 1
        return counts

    def update_mail(self, outbox_id: int, values: dict, *, guard: str | None) -> bool:
        """Update one queued outbox row and commit. guard: the next_attempt_at the caller read (or
        leased); the update is skipped (False) when another process changed the row meanwhile."""
        sets = ", ".join(f"{k} = ?" for k in values)
        sql = f"update outbox set {sets} where id = ? and status = 'queued'"
        args = [*values.values(), outbox_id]
        if guard is not None:
            sql += " and next_attempt_at = ?"
            args.append(guard)
        with self.db.atomic():
            return self.db.execute(sql, args).rowcount == 1

    def mail_bytes(self, outbox_id: int) -> bytes:
        return bytes(self.db.execute("select raw from outbox where id = ?", [outbox_id]).fetchone()[0])

    def sent_count(self) -> int:
        return self.db.execute("select count(*) from outbox where status = 'sent'").fetchone()[0]

    def is_our_mail(self, message_id: str) -> bool:
        """True when an outbox mail carries this Message-ID (a delivery report about our mail)."""
        return self.db.execute("select 1 from outbox where message_id = ?", [message_id]).fetchone() is not None

    def failing_addresses(self) -> set[str]:
        return {r["address"] for r in self.db["failing_addresses"].rows}

    def mark_address_failing(self, address: str, unit_id: str | None, detail: str, now: datetime,
                             message: int | None = None) -> bool:
        """True when the address was not already known to fail."""
        if self.db["failing_addresses"].count_where("address = ?", [address]):
            return False
        self.db["failing_addresses"].insert({"address": address, "unit_id": unit_id, "since": now.isoformat(),
                                             "detail": detail, "message": message})
        return True

    def figures(self, campaign: str, cycle: str, *, back: int = 0) -> dict[str, dict[str, float]]:
        """unit id -> indicator code -> value, from each unit's newest message that carried figures
        (back=1: the message before it, so the draft can say what a unit's second version changed)."""
        rows = self.db.query(
            "select * from figures where campaign = ? and cycle = ? order by received_at, message", [campaign, cycle])
        versions: dict[str, list[tuple[int, dict[str, float]]]] = {}
        for r in rows:
            mine = versions.setdefault(r["unit_id"], [])
            if not mine or mine[-1][0] != r["message"]:
                mine.append((r["message"], {}))
            mine[-1][1][r["code"]] = r["value"]
        return {unit: mine[-1 - back][1] for unit, mine in versions.items() if len(mine) > back}

    def drafts(self, after: int = 0) -> list[dict]:
        """Draft versions written, in order; those after row id `after` when given."""
        return list(self.db.query("select * from drafts where id > ? order by id", [after]))

    def last_draft(self, campaign: str, cycle: str) -> dict | None:
        rows = self.db.query("select * from drafts where campaign = ? and cycle = ? order by version desc limit 1",
                             [campaign, cycle])
        return next(iter(rows), None)

    def add_draft(self, campaign: str, cycle: str, version: int, docx: Path, xlsx: Path,
                  submission_ids: list[int], now: datetime) -> None:
        self.db["drafts"].insert({"campaign": campaign, "cycle": cycle, "version": version,
                                  "written_at": now.isoformat(timespec="seconds"), "docx": str(docx),
                                  "xlsx": str(xlsx), "submissions": json.dumps(submission_ids)})

    # --- the clerk's desk (daemon/desk.py) --------------------------------------------------------

    def add_desk_action(self, *, who: str, action: str, message: int | None, detail: dict, now: datetime) -> int:
        """Record what a clerk did (committed with an fsync: it is a decision); returns its id."""
        with self.db.atomic():
            return self.db["desk_actions"].insert(
                {"at": now.isoformat(timespec="seconds"), "who": who, "action": action, "message": message,
                 "detail": json.dumps(detail, ensure_ascii=False, default=str)}
            ).last_pk

    def desk_actions(self, message: int | None = None, *, newest_first: bool = True) -> list[dict]:
        """The clerk's actions (of one message when given), detail decoded."""
        where, args = ("where message = ?", [message]) if message is not None else ("", [])
        order = "desc" if newest_first else "asc"
        rows = self._rows(f"select * from desk_actions {where} order by id {order}", args)
        return [{**r, "detail": json.loads(r["detail"]) if r["detail"] else {}} for r in rows]

    def approve_address(self, address: str, unit_id: str, *, who: str, now: datetime, message: int | None) -> None:
        """Remember that mail from `address` is `unit_id`'s (the clerk's latest word replaces an earlier one)."""
        with self.db.atomic():
            self.db["approved_addresses"].upsert(
                {"address": address.strip().lower(), "unit_id": unit_id, "who": who,
                 "at": now.isoformat(timespec="seconds"), "message": message},
                pk="address",
            )

    def approved_addresses(self) -> dict[str, str]:
        """address -> unit id, for intake.decide."""
        return dict(self.db.conn.execute("select address, unit_id from approved_addresses").fetchall())

    def approved_address_rows(self) -> list[dict]:
        return list(self.db.query("select * from approved_addresses order by unit_id, address"))

    def mark_moved_many(self, moves: list[tuple[int, str]]) -> None:
        """mark_moved for a batch (message id, folder) in one fsync'd transaction: it is the
        batch's durable point, which carries its unsynced decisions to the disk before any of
        its messages leaves the mailbox (module docstring)."""
        with self.db.atomic():
            for msg_id, folder in moves:
                self.mark_moved(msg_id, folder)

    def mark_moved(self, msg_id: int, folder: str) -> None:
        with self._unsynced():  # the server holds the move; this is the ledger's note of it
            self.db.execute("update messages set moved_to = ? where id = ?", [folder, msg_id])
            self._event("moved", msg_id, {"folder": folder})

    def _event(self, kind: str, message: int | None, detail: dict) -> None:
        self._insert("events", {"at": utcnow(), "kind": kind, "message": message,
                                "detail": json.dumps(detail, ensure_ascii=False, default=str)})

    # --- answers kept pending (a mail template broke at run time) -------------------------------

    def pending_answers(self) -> list[int]:
        """Messages whose answer is pending: an "answer_pending" event with no later "answer_written"."""
        return [r[0] for r in self.db.execute(
            "select p.message from events p where p.kind = 'answer_pending' and not exists ("
            "select 1 from events w where w.kind = 'answer_written' and w.message = p.message and w.id > p.id) "
            "group by p.message order by p.message").fetchall()]

    def answer_is_pending(self, msg_id: int) -> bool:
        kinds = [r[0] for r in self.db.execute(
            "select kind from events where message = ? and kind in ('answer_pending', 'answer_written') order by id",
            [msg_id]).fetchall()]
        return bool(kinds) and kinds[-1] == "answer_pending"

    def answer_written(self, msg_id: int, note: str = "") -> None:
        self._event("answer_written", msg_id, {"note": note} if note else {})

    # --- reading ------------------------------------------------------------------------------

    def message(self, msg_id: int) -> dict:
        """The message row; sqlite_utils' NotFoundError when there is none (as Table.get raised)."""
        row = self._row("select * from messages where id = ?", [msg_id])
        if row is None:
            raise NotFoundError
        return row

    def find_message(self, msg_id: int) -> dict | None:
        """The message row, or None when there is no message with this id."""
        return next(iter(self.db.query("select * from messages where id = ?", [msg_id])), None)

    _COUNTABLE = {("messages", "status"), ("outbox", "kind")}

    def last_id(self, table: str) -> int:
        assert table in ("messages", "outbox", "drafts")
        return self.db.execute(f"select coalesce(max(id), 0) from {table}").fetchone()[0]

    def counts_since(self, table: str, column: str, after: int) -> dict[str, int]:
        """messages by status, or outbox mail by kind, of the rows after id `after` (the demo's
        progress lines)."""
        assert (table, column) in self._COUNTABLE
        rows = self.db.execute(f"select {column}, count(*) from {table} where id > ? group by {column}", [after])
        return {k: n for k, n in rows.fetchall()}

    def unfinished(self) -> list[dict]:
        """Messages claimed but never decided (a crash in between): finish them from the archive."""
        return list(self.db.query("select * from messages where status = 'claimed' order by id"))

    def messages(self, status: str | None = None) -> list[dict]:
        where, args = ("where status = ?", [status]) if status else ("", [])
        return list(self.db.query(f"select * from messages {where} order by id", args))

    def submissions_of(self, msg_id: int) -> list[dict]:
        return list(
            self.db.query(
                "select s.*, a.filename from submissions s left join attachments a on a.id = s.attachment "
                "where s.message = ? order by s.id",
                [msg_id],
            )
        )

    def attachments_of(self, msg_id: int) -> list[dict]:
        return list(self.db.query("select * from attachments where message = ? order by seq", [msg_id]))

    def submissions(self, campaign: str | None = None, cycle: str | None = None, *, facts: bool = False,
                    unit: str | None = None) -> list[dict]:
        """Submission rows (with the file name; with the document's facts as JSON when asked),
        of one unit when `unit` is given."""
        clauses, args = [], []
        if campaign:
            clauses.append("s.campaign = ?")
            args.append(campaign)
        if cycle:
            clauses.append("s.cycle = ?")
            args.append(cycle)
        if unit:
            clauses.append("s.unit_id = ?")
            args.append(unit)
        where = ("where " + " and ".join(clauses)) if clauses else ""
        extra = ", a.facts" if facts else ""
        return list(
            self.db.query(
                f"select s.*, a.filename{extra} from submissions s left join attachments a on a.id = s.attachment "
                f"{where} order by s.received_at, s.id",
                args,
            )
        )


    def requirements_sent(self, campaign: str, cycle: str, unit: str, *, except_message: int) -> list[dict]:
        """One submission row per requirement the unit has sent for (campaign, cycle), leaving out
        message except_message: all an acknowledgement needs to say what is still owed. A lookup
        per requirement, so its cost stays flat however many versions a unit sent."""
        rows = []
        for (requirement,) in self.db.execute(
                "select distinct requirement from submissions where unit_id = ? and campaign = ? and cycle = ?",
                [unit, campaign, cycle]).fetchall():
            row = self._row(
                "select s.*, a.filename from submissions s left join attachments a on a.id = s.attachment "
                "where s.unit_id = ? and s.campaign = ? and s.cycle = ? and s.requirement = ? and s.message != ? "
                "order by s.received_at, s.id limit 1", [unit, campaign, cycle, requirement, except_message])
            if row is not None:
                rows.append(row)
        return rows

    # --- reading, for the web desk (daemon/web/): lists one page at a time ----------------------

    def messages_page(self, *, status: str | None = None, unit: str | None = None, search: str = "",
                      limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
        """Messages newest first, with the total that matched: by status, unit and a search in the
        sender, subject, reason and unit id."""
        clauses, args = [], []
        if status:
            clauses.append("status = ?")
            args.append(status)
        if unit:
            clauses.append("unit_id = ?")
            args.append(unit)
        if search:
            clauses.append("(from_addr like ? or subject like ? or reason like ? or unit_id like ? or message_id like ?)")
            args += [f"%{search}%"] * 5
        where = ("where " + " and ".join(clauses)) if clauses else ""
        total = self.db.execute(f"select count(*) from messages {where}", args).fetchone()[0]
        rows = list(self.db.query(f"select * from messages {where} order by id desc limit ? offset ?",
                                  [*args, limit, offset]))
        return rows, total

    def message_counts(self) -> dict[str, int]:
        return {k: n for k, n in self.db.execute("select status, count(*) from messages group by status").fetchall()}

    def units_in_review(self) -> set[str]:
        return {r[0] for r in self.db.execute(
            "select distinct unit_id from messages where status = 'review' and unit_id is not null").fetchall()}

    def cycles(self, campaign: str) -> list[str]:
        return [r[0] for r in self.db.execute(
            "select distinct cycle from submissions where campaign = ? order by cycle desc", [campaign]).fetchall()]

    def outbox_page(self, *, status: str | None = None, unit: str | None = None, message: int | None = None,
                    limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
        """Outbox rows newest first, without their bytes, and the total that matched."""
        clauses, args = [], []
        for column, value in (("status", status), ("unit_id", unit), ("message", message)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        where = ("where " + " and ".join(clauses)) if clauses else ""
        total = self.db.execute(f"select count(*) from outbox {where}", args).fetchone()[0]
        rows = list(self.db.query(
            "select id, key, kind, message, unit_id, recipients, subject, message_id, status, attempts, last_error, "
            f"created_at, next_attempt_at, sent_at from outbox {where} order by id desc limit ? offset ?",
            [*args, limit, offset]))
        return rows, total

    def outbox_counts(self) -> dict[str, int]:
        return {k: n for k, n in self.db.execute("select status, count(*) from outbox group by status").fetchall()}

    def outbox_row(self, outbox_id: int) -> dict | None:
        return next(iter(self.db.query(
            "select id, kind, message, unit_id, recipients, subject, status, last_error, sent_at from outbox where id = ?",
            [outbox_id])), None)

    def draft(self, draft_id: int) -> dict | None:
        return next(iter(self.db.query("select * from drafts where id = ?", [draft_id])), None)

    def submissions_mark(self, campaign: str, cycle: str) -> tuple[int, int]:
        """(count, highest id) of a cycle's submissions: changes whenever a decision adds, replaces
        (delete + insert: new ids) or removes one, so a page can keep what it computed from them."""
        return tuple(self.db.execute("select count(*), coalesce(max(id), 0) from submissions "
                                     "where campaign = ? and cycle = ?", [campaign, cycle]).fetchone())
