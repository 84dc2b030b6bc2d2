"""The mailbox the daemon watches: IMAP (imaps, STARTTLS or plain) or a local Maildir.

Both sources offer one small interface (Source). Every failure of the server, the network, TLS
or the file system surfaces as MailboxError; the runner then calls close(), backs off and calls
open() again. Nothing here decides what a message means: it lists, fetches, moves and waits.

IMAP follows the Paperless-ngx recipe: UIDs first (UID SEARCH), bodies with BODY.PEEK[] in
batches (so the \\Seen flag a person relies on is untouched), processed mail moved to a folder.
"""
from __future__ import annotations

import abc
import hashlib
import logging
import os
import re
import socket
import select
import ssl
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.imap_utf7 import decode as utf7_decode
from imapclient.imap_utf7 import encode as utf7_encode

from daemon.clock import STOP_SLICE_SECONDS, sleep_until
from daemon.config import MailboxSettings
from daemon.durable import fsync_dir
from daemon.oauth2 import OAuth2Error, TokenSource

# How often a wait() looks at should_stop: the runner must stop within a second.
# Maildir has no push: wait() lists new/ and cur/ this often.
MAILDIR_POLL_SECONDS = 0.5
DELETED = b"\\Deleted"
# Keyword a service sets (atomically, CONDSTORE) on a message it is about to move: "$Tonghop" and
# a digest of its owner, see ImapSource._claim_move.
CLAIM_PREFIX = "$Tonghop"
log = logging.getLogger("tonghop")
# One FETCH of bodies brings at most this many bytes (and always at least one message): a batch
# of twenty 34 MB scans would otherwise sit in memory at once (bench/memory.py).
FETCH_MAX_BYTES = 16 * 1024 * 1024


class MailboxError(Exception):
    """A socket, TLS, server, protocol or file-system failure; str() is Vietnamese for the admin."""


@dataclass(frozen=True)
class Fetched:
    uid: str  # IMAP UID in decimal; Maildir: the file's unique name without ":2,flags"
    raw: bytes
    internaldate: datetime  # timezone-aware arrival time at the server (never the Date header)


class Source(abc.ABC):
    """A watched folder. Not thread-safe: one runner thread uses one Source."""

    identity: str  # stable ledger key: "imap://user@host:port" or "maildir:/abs/path"
    folder: str

    @abc.abstractmethod
    def open(self) -> None: ...

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection; never raises, safe to call twice or after a failure."""

    @abc.abstractmethod
    def uidvalidity(self) -> int: ...

    @abc.abstractmethod
    def pending(self) -> list[str]:
        """UIDs of every message now in the watched folder, oldest first."""

    @abc.abstractmethod
    def fetch(self, uids: list[str]) -> Iterator[Fetched]:
        """Raw bytes and arrival time of uids, in order; a UID that has vanished is skipped."""

    @abc.abstractmethod
    def move(self, uid: str, dest: str) -> None:
        """Move one message to folder dest, creating it when absent; a vanished UID is a no-op."""

    def move_many(self, uids: list[str], dest: str) -> None:
        """Move several messages to dest; a source that can do it in fewer steps overrides it."""
        for uid in uids:
            self.move(uid, dest)

    @abc.abstractmethod
    def wait(self, timeout: float, should_stop: Callable[[], bool]) -> None:
        """Return when new mail may have arrived since the last pending(), after timeout
        seconds, or within a second of should_stop() turning true."""

    def __enter__(self) -> "Source":
        self.open()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def open_source(settings: MailboxSettings, password: str | None) -> Source:
    """The Source for settings, not yet connected (call open())."""
    if settings.scheme == "maildir":
        return MaildirSource(settings)
    if settings.scheme in ("imap", "imaps", "imap+starttls"):
        return ImapSource(settings, password)
    raise ValueError(f"unknown mailbox scheme {settings.scheme!r}")


def _code(exc: BaseException) -> str | None:
    """The response code of a server's NO/BAD ("EXPUNGEISSUED", "TRYCREATE"), if it gave one."""
    found = re.search(r"\[([A-Z-]+)", str(exc))
    return found.group(1) if found else None


_UTF7_RUN = re.compile(r"&[A-Za-z0-9+,]*-")


def decode_folder_names(text: str) -> str:
    """Folder names as a person reads them: the modified UTF-7 a server may echo in its words
    ("&ARAA4w- x&Hu0- l&AP0-") decoded ("Đã xử lý")."""
    def one(match: re.Match) -> str:
        try:
            return utf7_decode(match.group(0).encode("ascii"))
        except Exception:  # noqa: BLE001 - not UTF-7 after all: left as it was
            return match.group(0)
    return _UTF7_RUN.sub(one, text)


def _describe(exc: BaseException) -> str:
    """A short Vietnamese reason, keeping the library's own words for the details."""
    if isinstance(exc, LoginError):
        return f"sai tên đăng nhập hoặc mật khẩu ({exc})"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"chứng chỉ TLS của máy chủ không được tin cậy ({exc.verify_message or exc})"
    if isinstance(exc, ssl.SSLError):
        return f"lỗi TLS ({exc})"
    if isinstance(exc, TimeoutError):
        return "máy chủ không trả lời trong thời gian cho phép"
    if isinstance(exc, ConnectionRefusedError):
        return "máy chủ từ chối kết nối (dịch vụ chưa chạy hoặc sai cổng)"
    if isinstance(exc, (ConnectionError, EOFError)):
        return f"kết nối bị ngắt ({exc})"
    if isinstance(exc, OSError):
        return f"lỗi hệ thống: {exc.strerror or exc}"
    return decode_folder_names(f"{exc}")


# ---------------------------------------------------------------------------------------------
# IMAP


def _new_mail(responses) -> bool:
    """True when IDLE responses announce a message count or arrival (EXISTS / RECENT)."""
    return any(
        isinstance(r, tuple) and len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses
    )


def _aware(value: datetime) -> datetime:
    # imapclient's own tzinfo class is replaced by the standard one (equality, pickling).
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.replace(tzinfo=timezone(value.utcoffset()))


class ImapSource(Source):
    def __init__(self, settings: MailboxSettings, password: str | None, *, use_move: bool = True):
        self.settings = settings
        self.password = password
        self.tokens = TokenSource(settings.oauth2) if settings.oauth2 else None  # auth = "oauth2"
        self.folder = settings.folder
        host = settings.host or ""
        shown = f"[{host}]" if ":" in host else host.lower()
        self.identity = f"imap://{settings.user}@{shown}:{settings.port}"
        # False forces COPY + \Deleted + UID EXPUNGE even when the server has MOVE (tests).
        self.use_move = use_move
        self._client: IMAPClient | None = None
        self._broken = False
        self._uidvalidity: int | None = None
        self._max_seen = 0  # highest UID pending() has returned: wait() wakes only for newer
        self._folders: set[str] = set()
        # Who moves messages out (the claim keyword): the machine and, set by the runner, the
        # ledger; two services on one mailbox have different owners.
        self.owner = socket.gethostname()

    # -- plumbing ------------------------------------------------------------------------------

    @contextmanager
    def _guard(self, action: str):
        """Turn any transport or server failure into MailboxError naming what we were doing."""
        try:
            yield
        except MailboxError:
            raise
        except (IMAPClientError, OSError, EOFError) as exc:
            self._broken = True
            raise MailboxError(f"{action} ({self.identity}): {_describe(exc)}") from exc

    def _connected(self) -> IMAPClient:
        if self._client is None:
            raise MailboxError(f"Chưa kết nối tới hộp thư {self.identity}.")
        return self._client

    def _ssl_context(self) -> ssl.SSLContext:
        ca = self.settings.ca_file
        context = ssl.create_default_context(cafile=str(ca) if ca else None)
        if not self.settings.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    # -- Source --------------------------------------------------------------------------------

    def open(self) -> None:
        self.close()
        s = self.settings
        if not self.password and self.tokens is None:
            raise MailboxError(f"Chưa có mật khẩu cho hộp thư {self.identity}.")
        tls = s.scheme in ("imaps", "imap+starttls")
        try:
            context = self._ssl_context() if tls else None
        except (OSError, ValueError) as exc:
            raise MailboxError(f"Không đọc được tệp CA «{s.ca_file}»: {exc}") from exc
        self._broken = False
        # UIDs are compared within one session: after a reconnect (perhaps to a recreated
        # folder) the first wait() must not ignore mail below an old high-water mark.
        self._max_seen = 0
        try:
            with self._guard("Không kết nối được tới máy chủ thư"):
                self._client = IMAPClient(
                    s.host, s.port, use_uid=True, ssl=s.scheme == "imaps",
                    ssl_context=context, timeout=s.timeout_seconds,
                )
                # Keep the server's offset: INTERNALDATE must stay timezone-aware.
                self._client.normalise_times = False
                # imapclient sets imaplib's debug level to 5 so that imaplib logs every response
                # through imapclient's logger; imaplib then formats the repr() of each response,
                # a fetched message included, before the logger drops it: 80 MB and a quarter of
                # a second for a 34 MB message (bench/memory.py). We never read that log.
                self._client._imap.debug = 0
                if s.scheme == "imap+starttls":
                    # Raises when STARTTLS is not offered: never fall back to plain text.
                    self._client.starttls(context)
            with self._guard("Đăng nhập hộp thư không thành công"):
                self._login(self._client)
            with self._guard(f"Không mở được thư mục «{self.folder}»"):
                selected = self._client.select_folder(self.folder)
                self._uidvalidity = int(selected[b"UIDVALIDITY"])
        except MailboxError:
            self.close()
            raise

    def _login(self, client: IMAPClient) -> None:
        s = self.settings
        if self.tokens is None:
            client.login(s.user, self.password)
            return
        try:
            try:
                client.oauth2_login(s.user, self.tokens.token())
            except LoginError:
                # Revoked or expired before its time: one more try with a token fetched now.
                self.tokens.invalidate()
                client.oauth2_login(s.user, self.tokens.token())
        except OAuth2Error as exc:
            raise MailboxError(f"Không lấy được mã truy cập OAuth2 cho hộp thư {self.identity}: {exc}") from None

    def close(self) -> None:
        client, self._client = self._client, None
        self._folders.clear()
        if client is None:
            return
        try:
            if self._broken:
                client.shutdown()
            else:
                client.socket().settimeout(min(self.settings.timeout_seconds, 5.0))
                client.logout()
        except Exception:  # noqa: BLE001 - close() must never raise
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass

    def uidvalidity(self) -> int:
        # Fixed for the whole session: a server that changes it must end the session first.
        self._connected()
        assert self._uidvalidity is not None
        return self._uidvalidity

    def pending(self) -> list[str]:
        client = self._connected()
        with self._guard(f"Không liệt kê được thư trong «{self.folder}»"):
            # NOOP first: a server answers SEARCH from the session's view, which takes in mail
            # delivered by other connections only at the next sync (Dovecot does).
            client.noop()
            uids = sorted(int(uid) for uid in client.search(["ALL"]))
        self._max_seen = max([self._max_seen, *uids])
        return [str(uid) for uid in uids]

    def fetch(self, uids: list[str]) -> Iterator[Fetched]:
        client = self._connected()
        size = max(1, self.settings.batch_size)
        for start in range(0, len(uids), size):
            batch = [int(uid) for uid in uids[start : start + size]]
            with self._guard(f"Không tải được thư từ «{self.folder}»"):
                sizes = client.fetch(batch, [b"RFC822.SIZE"])
            for group in _by_bytes(batch, sizes, FETCH_MAX_BYTES):
                with self._guard(f"Không tải được thư từ «{self.folder}»"):
                    data = client.fetch(group, [b"BODY.PEEK[]", b"INTERNALDATE"])
                for uid in group:
                    item = data.pop(uid, None) or {}  # popped: a handled message leaves memory
                    raw, when = item.get(b"BODY[]"), item.get(b"INTERNALDATE")
                    if raw is None or when is None:
                        continue  # expunged meanwhile (by a person or another client)
                    yield Fetched(str(uid), bytes(raw), _aware(when))

    def move(self, uid: str, dest: str) -> None:
        client = self._connected()
        if dest == self.folder:
            return
        number = int(uid)
        with self._guard(f"Không chuyển được thư {uid} sang thư mục «{dest}»"):
            self._ensure_folder(client, dest)
            try:
                if not self._claim_move(client, number):
                    return  # vanished, or another tonghop (another machine, another ledger) moves it
            except IMAPClientError as exc:
                if _code(exc) == "EXPUNGEISSUED":
                    return
                raise
            try:
                self._move_claimed(client, number, dest)
            except IMAPClientError as exc:
                if _code(exc) == "EXPUNGEISSUED":
                    return  # expunged by another client since we fetched it: nothing left to move
                if _code(exc) != "TRYCREATE":
                    raise
                # The folder was deleted (by a person) since we made it: made again, once.
                self._folders.discard(dest)
                self._ensure_folder(client, dest)
                log.info("Đã tạo lại thư mục «%s» trong hộp thư %s (thư mục đã bị xóa).", dest, self.identity)
                try:
                    self._move_claimed(client, number, dest)
                except IMAPClientError as again:
                    if _code(again) != "EXPUNGEISSUED":
                        raise

    def move_many(self, uids: list[str], dest: str) -> None:
        """Move several messages to dest: one claim (a conditional STORE of the set) and one UID
        MOVE of the set, where move() takes two round trips per message (issue 17). Anything out
        of the ordinary (a message expunged meanwhile, a server NO) falls back to move() one at a
        time, which knows EXPUNGEISSUED and TRYCREATE; a vanished UID is a no-op as there."""
        if dest == self.folder or not uids:
            return
        if len(uids) == 1:
            return self.move(uids[0], dest)
        client = self._connected()
        numbers = [int(uid) for uid in uids]
        with self._guard(f"Không chuyển được {len(uids)} thư sang thư mục «{dest}»"):
            self._ensure_folder(client, dest)
            try:
                claimed = self._claim_many(client, numbers)
            except IMAPClientError:
                claimed = None
            if claimed is None:
                for uid in uids:
                    self.move(uid, dest)
                return
            if not claimed:
                return
            try:
                self._move_claimed_set(client, claimed, dest)
            except IMAPClientError as exc:
                if _code(exc) == "TRYCREATE":
                    self._folders.discard(dest)  # deleted by a person since: move() makes it again
                elif _code(exc) != "EXPUNGEISSUED":
                    raise
                # Part of the set may have moved already: move() of a moved UID is a no-op.
                for number in claimed:
                    self.move(str(number), dest)

    def _claim_many(self, client: IMAPClient, numbers: list[int]) -> list[int] | None:
        """_claim_move for a set in one FETCH and one STORE: UNCHANGEDSINCE the highest MODSEQ
        seen, since any change after that FETCH gives a message a higher MODSEQ, so the STORE
        sets our keyword exactly on the messages nobody touched (the others come back in
        MODIFIED and are looked at again). The claimed UIDs, or None to fall back to move()."""
        if not client.has_capability("CONDSTORE"):
            return numbers
        mine, claimed, todo = self.claim_keyword, [], list(numbers)
        for _ in range(5):
            items = client.fetch(todo, [b"FLAGS", b"MODSEQ"])
            store, modseqs = [], []
            for number in todo:
                item = items.get(number)
                if not item:
                    continue  # expunged meanwhile: a vanished UID is a no-op
                if b"MODSEQ" not in item:
                    return None  # no mod-sequences here: move() decides one by one
                flags = {bytes(f) if isinstance(f, bytes) else str(f).encode() for f in item.get(b"FLAGS", ())}
                if mine in flags:
                    claimed.append(number)  # ours already (a move cut short by a crash)
                elif not any(f.startswith(CLAIM_PREFIX.encode()) for f in flags):
                    store.append(number)
                    modseqs.append(int(item[b"MODSEQ"][0]))
            if not store:
                break
            imap = client._imap
            imap.untagged_responses.pop("MODIFIED", None)
            try:
                typ, _data = imap.uid("STORE", ",".join(map(str, store)), f"(UNCHANGEDSINCE {max(modseqs)})",
                                      "+FLAGS.SILENT", f"({mine.decode()})")
            except imap.error:
                return None
            if typ != "OK":
                return None
            modified = set()
            for text in imap.untagged_responses.pop("MODIFIED", None) or ():
                modified.update(_uid_set(text.decode() if isinstance(text, bytes) else str(text)))
            claimed.extend(n for n in store if n not in modified)
            todo = [n for n in store if n in modified]
            if not todo:
                break
        return sorted(claimed)

    def _move_claimed_set(self, client: IMAPClient, numbers: list[int], dest: str) -> None:
        if self.use_move and client.has_capability("MOVE"):
            client.move(numbers, dest)
            return
        client.copy(numbers, dest)
        client.add_flags(numbers, [DELETED], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(numbers)
        else:
            client.expunge()  # see _move_claimed

    def _move_claimed(self, client: IMAPClient, number: int, dest: str) -> None:
        if self.use_move and client.has_capability("MOVE"):
            client.move([number], dest)
            return
        client.copy([number], dest)
        client.add_flags([number], [DELETED], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge([number])
        else:
            # Without UIDPLUS a plain EXPUNGE also removes other messages a person marked
            # \Deleted in this folder; that is what such a server's own clients do too.
            client.expunge()

    @property
    def claim_keyword(self) -> bytes:
        """This instance's IMAP keyword marking a message it is moving: one per owner (machine
        and ledger), the same across restarts so that a move cut by a crash is finished."""
        digest = hashlib.sha256(self.owner.encode("utf-8")).hexdigest()[:12]
        return f"{CLAIM_PREFIX}{digest}".encode("ascii")

    def _claim_move(self, client: IMAPClient, number: int) -> bool:
        """Claim the message for this instance before moving it, so that two services watching
        one mailbox (two machines with the same config) never both copy it: a conditional STORE
        (CONDSTORE's UNCHANGEDSINCE, atomic on the server) sets our keyword only if nobody changed
        the message since we looked. False when it vanished or another instance claimed it.
        Without CONDSTORE on the server there is no atomic claim, and the move is made as is."""
        if not client.has_capability("CONDSTORE"):
            return True
        mine = self.claim_keyword
        for _ in range(5):  # a person flagging the message meanwhile also changes its MODSEQ
            item = client.fetch([number], [b"FLAGS", b"MODSEQ"]).get(number)
            if not item:
                return False  # expunged meanwhile: a vanished UID is a no-op
            if b"MODSEQ" not in item:
                return True  # a folder without mod-sequences (NOMODSEQ): no claim possible
            flags = {bytes(f) if isinstance(f, bytes) else str(f).encode() for f in item.get(b"FLAGS", ())}
            if mine in flags:
                return True  # ours already (a move cut short by a crash): finish it
            if any(f.startswith(CLAIM_PREFIX.encode()) for f in flags):
                return False  # another instance's: it moves the message
            modseq = int(item[b"MODSEQ"][0])
            imap = client._imap
            imap.untagged_responses.pop("MODIFIED", None)
            try:
                typ, _data = imap.uid("STORE", str(number), f"(UNCHANGEDSINCE {modseq})", "+FLAGS.SILENT",
                                      f"({mine.decode()})")
            except imap.error:  # BAD: the server refuses the conditional STORE here
                return True
            if typ != "OK":
                return True  # NO (expunged meanwhile, keywords not allowed): the move itself decides
            if not imap.untagged_responses.pop("MODIFIED", None):
                return True
        return False

    def _ensure_folder(self, client: IMAPClient, name: str) -> None:
        if name in self._folders:
            return
        if not client.folder_exists(name):
            try:
                client.create_folder(name)
            except IMAPClientError:
                if not client.folder_exists(name):  # created meanwhile by someone else is fine
                    raise
            try:
                client.subscribe_folder(name)  # so that the clerk's mail program shows it
            except IMAPClientError:
                pass
        self._folders.add(name)

    def wait(self, timeout: float, should_stop: Callable[[], bool]) -> None:
        client = self._connected()
        deadline = time.monotonic() + max(0.0, timeout)
        with self._guard("Mất kết nối khi chờ thư mới"):
            if self._arrived_since_pending(client):
                return
            if client.has_capability("IDLE"):
                self._idle(client, deadline, should_stop)
            else:
                poll_end = min(deadline, time.monotonic() + self.settings.poll_seconds)
                sleep_until(poll_end, should_stop)

    def _arrived_since_pending(self, client: IMAPClient) -> bool:
        """Mail that came after the last pending() but whose EXISTS was swallowed by another
        command's response would otherwise wait for the next IDLE event."""
        client.noop()
        found = client.search(["UID", f"{self._max_seen + 1}:*"])
        return any(uid > self._max_seen for uid in found)

    def _idle(self, client: IMAPClient, deadline: float, should_stop: Callable[[], bool]) -> None:
        renew = max(0.1, self.settings.idle_renew_seconds)
        client.idle()
        renew_at = time.monotonic() + renew
        while True:
            now = time.monotonic()
            if should_stop() or now >= deadline:
                break
            if now >= renew_at or self._readable(
                client, min(STOP_SLICE_SECONDS, deadline - now, renew_at - now)
            ):
                # Whatever the server said (or EOF), ending IDLE reads it all reliably: DONE
                # returns every buffered response and raises if the connection is gone.
                _text, responses = client.idle_done()
                if _new_mail(responses):
                    return
                client.idle()
                renew_at = time.monotonic() + renew
        client.idle_done()

    @staticmethod
    def _readable(client: IMAPClient, seconds: float) -> bool:
        """True when a response (or EOF) waits, looking in imaplib's read buffer first: a line
        that came in the same packet as IDLE's "+ idling" is already there, and polling the
        socket alone would miss it."""
        sock = client.socket()
        reader = getattr(client._imap, "file", None)  # imaplib's buffered reader
        if reader is not None and hasattr(reader, "peek"):
            saved = sock.gettimeout()
            sock.setblocking(False)
            try:
                if reader.peek(1):
                    return True
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError,
                    ssl.SSLWantWriteError):
                pass
            finally:
                sock.settimeout(saved)
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        ready, _, _ = select.select([sock], [], [], max(0.0, seconds))
        return bool(ready)


def _uid_set(text: str) -> set[int]:
    """The UIDs of an IMAP sequence set ("3,5:7" -> {3, 5, 6, 7}), as in a MODIFIED code."""
    found: set[int] = set()
    for part in re.findall(r"[0-9:]+", text.split("]")[0]):
        low, _, high = part.partition(":")
        if low and high:
            found.update(range(int(low), int(high) + 1))
        elif low:
            found.add(int(low))
    return found


def _by_bytes(uids: list[int], sizes: dict, limit: int) -> Iterator[list[int]]:
    """uids in order, cut into groups of at most `limit` bytes (a larger message goes alone); a
    size the server did not give counts as nothing, as for a message expunged meanwhile."""
    group: list[int] = []
    total = 0
    for uid in uids:
        size = int((sizes.get(uid) or {}).get(b"RFC822.SIZE") or 0)
        if group and total + size > limit:
            yield group
            group, total = [], 0
        group.append(uid)
        total += size
    if group:
        yield group


# ---------------------------------------------------------------------------------------------
# Maildir


class MaildirSource(Source):
    """A Maildir (cur/new/tmp) with Maildir++ subfolders, as Dovecot and Courier lay it out.

    INBOX is the root; folder "Đã xử lý" is the directory ".&ARAA4w- x&Hu0- l&AP0-" (modified
    UTF-7, hierarchy "/" written "."), so a Dovecot serving the same Maildir shows the names.
    A message keeps its file name when moved; rename() is atomic, so a crash never loses or
    duplicates it. raw is the file exactly as stored (often LF line ends, where IMAP sends CRLF).
    """

    UIDVALIDITY_FILE = "tonghop-uidvalidity"

    def __init__(self, settings: MailboxSettings):
        if settings.path is None:
            raise ValueError("maildir source needs settings.path")
        self.settings = settings
        self.root = Path(settings.path).absolute()
        self.folder = settings.folder
        self.identity = f"maildir:{self.root}"
        self._uidvalidity: int | None = None
        self._seen: set[str] = set()
        # uid -> path in the watched folder, from the last pending()/fetch() scan: a move looks
        # the file up here, not in a fresh listdir of new/ and cur/ (one per message made a
        # backlog quadratic, issue 17); a path gone (a person moved the file) falls back to a scan.
        self._index: dict[str, Path] = {}

    @contextmanager
    def _guard(self, action: str):
        try:
            yield
        except MailboxError:
            raise
        except OSError as exc:
            raise MailboxError(f"{action} ({self.identity}): {_describe(exc)}") from exc

    def _dir(self, folder: str) -> Path:
        if folder.upper() == "INBOX":
            return self.root
        parts = folder.split("/")
        if any(not part or part.startswith(".") for part in parts):
            raise MailboxError(f"Tên thư mục «{folder}» không dùng được cho Maildir.")
        return self.root / ("." + ".".join(utf7_encode(part).decode("ascii") for part in parts))

    @staticmethod
    def _make_maildir(path: Path, subfolder: bool) -> None:
        for sub in ("tmp", "new", "cur"):
            (path / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        if subfolder:
            (path / "maildirfolder").touch(exist_ok=True)  # Maildir++ marks subfolders so

    def open(self) -> None:
        with self._guard("Không mở được Maildir"):
            watched = self._dir(self.folder)
            self._make_maildir(self.root, subfolder=False)
            self._make_maildir(watched, subfolder=watched != self.root)
            self._uidvalidity = self._load_uidvalidity(watched / self.UIDVALIDITY_FILE)

    def close(self) -> None:
        self._uidvalidity = None

    @staticmethod
    def _load_uidvalidity(path: Path) -> int:
        """Created once (O_EXCL via link) and never changed: Maildir names are never reused."""
        if not path.exists():
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_text(f"{int(time.time())}\n")
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process won the race; use its value
            finally:
                tmp.unlink(missing_ok=True)
        text = path.read_text().strip()
        try:
            return int(text)
        except ValueError:
            raise MailboxError(f"Tệp {path} bị hỏng (nội dung «{text[:40]}»).") from None

    def uidvalidity(self) -> int:
        if self._uidvalidity is None:
            raise MailboxError(f"Chưa mở Maildir {self.identity}.")
        return self._uidvalidity

    def _scan(self, folder_dir: Path) -> dict[str, Path]:
        """uid -> current path of every message in new/ and cur/."""
        found: dict[str, Path] = {}
        for sub in ("new", "cur"):
            for entry in os.scandir(folder_dir / sub):
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                found[entry.name.split(":", 1)[0]] = Path(entry.path)
        return found

    def pending(self) -> list[str]:
        self.uidvalidity()
        with self._guard(f"Không liệt kê được thư trong «{self.folder}»"):
            order = []
            self._index = self._scan(self._dir(self.folder))
            for uid, path in self._index.items():
                try:
                    order.append((path.stat().st_mtime_ns, uid))
                except FileNotFoundError:
                    continue
        uids = [uid for _mtime, uid in sorted(order)]  # arrival order, then name
        self._seen = set(uids)
        return uids

    def fetch(self, uids: list[str]) -> Iterator[Fetched]:
        self.uidvalidity()
        with self._guard(f"Không đọc được thư trong «{self.folder}»"):
            # pending() just listed the folder: its index serves every batch of the pass (a scan
            # per batch grew with the backlog); a file gone since is looked for once more.
            if not self._index or not all(uid in self._index for uid in uids):
                self._index = self._scan(self._dir(self.folder))
        for uid in uids:
            raw = stat = None
            for attempt in (0, 1):
                path = self._index.get(uid)
                if path is None:
                    break
                with self._guard(f"Không đọc được thư {uid}"):
                    try:
                        with open(path, "rb") as handle:
                            stat = os.fstat(handle.fileno())
                            raw = handle.read()
                        break
                    except FileNotFoundError:
                        if attempt:
                            break  # moved by a person's mail program meanwhile
                        self._index = self._scan(self._dir(self.folder))  # renamed new/ -> cur/?
            if raw is None:
                continue
            yield Fetched(uid, raw, datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc))

    def move(self, uid: str, dest: str) -> None:
        self.uidvalidity()
        source_dir, dest_dir = self._dir(self.folder), self._dir(dest)
        if dest_dir == source_dir:
            return
        with self._guard(f"Không chuyển được thư {uid} sang thư mục «{dest}»"):
            self._make_maildir(dest_dir, subfolder=dest_dir != self.root)
            target = self._rename(uid, source_dir, dest_dir)
            if target is not None:
                for directory in {target.parent, self._moved_from.parent}:
                    fsync_dir(directory)

    def move_many(self, uids: list[str], dest: str) -> None:
        """Move several messages to dest, then fsync each directory once (not once per message):
        the renames are durable together, and a crash before the fsync leaves some in the watched
        folder, where the next pass moves them again (the ledger holds their folder)."""
        self.uidvalidity()
        source_dir, dest_dir = self._dir(self.folder), self._dir(dest)
        if dest_dir == source_dir or not uids:
            return
        with self._guard(f"Không chuyển được {len(uids)} thư sang thư mục «{dest}»"):
            self._make_maildir(dest_dir, subfolder=dest_dir != self.root)
            touched: set[Path] = set()
            for uid in uids:
                target = self._rename(uid, source_dir, dest_dir)
                if target is not None:
                    touched.update((target.parent, self._moved_from.parent))
            for directory in touched:
                fsync_dir(directory)

    def _rename(self, uid: str, source_dir: Path, dest_dir: Path) -> Path | None:
        """Rename one message into dest_dir; its new path, or None when it is gone."""
        for attempt in (0, 1):
            path = self._index.get(uid)
            if path is None or attempt:
                # not scanned yet, or moved since the scan (a person, a flag change renaming
                # it into cur/): look again, once
                self._index = self._scan(source_dir)
                path = self._index.get(uid)
                if path is None:
                    return None
            # Same subdirectory (new/ stays new/): the clerk still sees unread mail as unread.
            target = dest_dir / path.parent.name / path.name
            try:
                os.rename(path, target)
            except FileNotFoundError:
                if attempt:
                    return None
                continue
            self._index.pop(uid, None)
            self._moved_from = path
            return target
        return None

    def wait(self, timeout: float, should_stop: Callable[[], bool]) -> None:
        self.uidvalidity()
        deadline = time.monotonic() + max(0.0, timeout)
        folder_dir = self._dir(self.folder)
        with self._guard("Không theo dõi được Maildir"):
            while True:
                if not set(self._scan(folder_dir)) <= self._seen:
                    return
                if should_stop() or time.monotonic() >= deadline:
                    return
                sleep_until(min(deadline, time.monotonic() + MAILDIR_POLL_SECONDS), should_stop)
