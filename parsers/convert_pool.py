"""A resident LibreOffice for the service: legacy files (.doc, .xls, .rtf, .odt...) converted by a
soffice that stays up, instead of a cold soffice per file (≈1 s each on this class of machine,
most of it LibreOffice starting; a resident one converts a .doc in ≈0.1-0.2 s).

What a process per file gave and this keeps:
- no network: each converter runs under the same `unshare -rn` as the cold path, with the same
  private profile that blocks linked content (parsers/convert.py); tonghop talks to it over
  the keeper's stdin/stdout (parsers/convert_worker.py), so there is no port at all and no
  other process or service can share it;
- a bound on each file: a conversion that does not answer within its time limit has its
  converter killed (the whole process group: SIGKILL reaches a stopped soffice too);
- a crash costs one file's retry, not the service: a converter that dies or hangs is killed,
  the caller (parsers/convert.py) converts that file once more in a cold process, and the
  watchdog starts a new converter;
- nothing left behind: close() (called at exit) kills every converter's process group, and a
  keeper whose parent died kills its own group.

Pure standard library: the keeper runs under /usr/bin/python3 because Debian's `uno` module
(python3-uno) belongs to the system Python, not to tonghop's virtualenv.
"""
from __future__ import annotations

import json
import logging
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Sequence

log = logging.getLogger("tonghop.convert")

WORKER = Path(__file__).with_name("convert_worker.py")
MAX_CONVERTERS = 2  # each soffice holds ≈150-250 MB; two cores cannot use more
START_TIMEOUT = 60.0  # a first start creates the profile: ≈2-4 s, far more on a loaded machine
RETRY_START_AFTER = 60.0  # a converter that cannot start is not retried for every file
RESTART_AFTER_FILES = 500  # bounds what a long-lived soffice can leak
PING_EVERY = 30.0  # an idle converter is asked to answer this often (a stuck one is restarted)
PING_TIMEOUT = 10.0


class PoolError(Exception):
    """The resident converter could not convert this file (the caller converts it cold)."""


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass


def group_pids(pgid: int) -> list[int]:
    """Processes of a process group (Linux /proc): a converter's keeper, soffice and helpers."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry))
    return pids


class _Converter:
    """One keeper + soffice, used by one conversion at a time (its slot in the pool's queue)."""

    def __init__(self, pool: "ConverterPool", number: int) -> None:
        self.pool = pool
        self.number = number
        self.proc: subprocess.Popen | None = None
        # Set once the keeper said it is ready, cleared by stop(): `running` alone is true too
        # while a restart waits for soffice, and for a keeper already on its way out.
        self.ready = False
        self.profile: str | None = None
        self.files = 0
        self.broken_until = 0.0
        self.last_used = time.monotonic()
        self._buf = b""
        self._seq = 0

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        self.stop()
        pool = self.pool
        self.profile = tempfile.mkdtemp(prefix=f"tonghop-lo-resident-{self.number}-")
        Path(self.profile, "user").mkdir()
        Path(self.profile, "user", "registrymodifications.xcu").write_text(pool.profile_xcu, encoding="utf-8")
        pipe = f"tonghop-{os.getpid()}-{uuid.uuid4().hex}"
        argv = [*pool.isolation, pool.python, str(WORKER), self.profile, pipe, pool.soffice, str(pool.start_timeout)]
        started = time.monotonic()
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, start_new_session=True,
                                         env=dict(os.environ, HOME=self.profile))
        except OSError as exc:
            self.stop()
            raise PoolError(f"không chạy được {pool.python}: {exc.strerror or exc}") from exc
        self._buf = b""
        reply = self._read(pool.start_timeout + 5)
        if not reply or not reply.get("ready"):
            self.stop()
            raise PoolError((reply or {}).get("error") or "LibreOffice không khởi động được")
        self.files = 0
        self.last_used = time.monotonic()
        pool.starts += 1
        self.ready = True
        log.info("Đã khởi động LibreOffice thường trú số %d (%.1f giây).", self.number, time.monotonic() - started)

    def stop(self, graceful: bool = False) -> None:
        self.ready = False
        if self.proc is not None:
            if graceful and self.proc.poll() is None:
                try:  # a polite quit first; the group kill below makes sure of it
                    self.proc.stdin.write(b'{"op": "quit"}\n')
                    self.proc.stdin.flush()
                    self.proc.wait(timeout=4)
                except (OSError, ValueError, subprocess.TimeoutExpired):
                    pass
            _kill_group(self.proc)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self.proc = None
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

    def _read(self, timeout: float) -> dict | None:
        """The keeper's next answer line, or None when it closed or said nothing in time."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            return None

    def ask(self, request: dict, timeout: float) -> dict | None:
        self._seq += 1
        request = dict(request, id=self._seq)
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            return None
        while True:
            reply = self._read(timeout)
            if reply is None or reply.get("id") == self._seq:
                return reply

    def soffice_pids(self) -> list[int]:
        return group_pids(self.proc.pid) if self.running else []


class ConverterPool:
    """`size` resident LibreOffice converters (1 or 2), started on the first conversion.

    `timeout` is each file's limit on the resident path (the caller then goes cold with its own
    limit); `isolation` the argv prefix that takes the network away (parsers.convert)."""

    def __init__(self, size: int = 1, *, timeout: float = 60, soffice: str = "soffice",
                 python: str = "/usr/bin/python3", isolation: Sequence[str] = (), profile_xcu: str = "",
                 start_timeout: float = START_TIMEOUT, watch_every: float = 1.0) -> None:
        if not 1 <= size <= MAX_CONVERTERS:
            raise ValueError(f"size must be 1..{MAX_CONVERTERS}")
        self.size = size
        self.timeout = timeout
        self.soffice = soffice
        self.python = python
        self.isolation = list(isolation)
        self.profile_xcu = profile_xcu
        self.start_timeout = start_timeout
        self.watch_every = watch_every
        self.starts = 0  # converters started so far (the tests and the bench read it)
        self.failures = 0  # files the resident path did not convert (each went cold)
        self.closed = False
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._idle: list[_Converter] = [_Converter(self, n + 1) for n in range(size)]
        self._all = list(self._idle)
        self._watchdog: threading.Thread | None = None
        self._stop = threading.Event()

    # -- slots ---------------------------------------------------------------------------------
    def _take(self, wait: bool) -> _Converter | None:
        with self._cond:
            while not self._idle:
                if not wait or self.closed:
                    return None
                self._cond.wait()
            return self._idle.pop(0)

    def _give(self, conv: _Converter) -> None:
        with self._cond:
            self._idle.append(conv)
            self._cond.notify()

    def _ensure_started(self, conv: _Converter) -> None:
        if conv.running:
            return
        if time.monotonic() < conv.broken_until:
            raise PoolError("LibreOffice thường trú chưa khởi động lại được")
        try:
            conv.start()
        except PoolError as exc:
            conv.broken_until = time.monotonic() + RETRY_START_AFTER
            log.warning("Không khởi động được LibreOffice thường trú (%s); các tệp sẽ được chuyển đổi bằng "
                        "LibreOffice riêng cho từng tệp, sẽ thử lại sau %d giây.", exc, RETRY_START_AFTER)
            raise

    # -- the one operation ------------------------------------------------------------------------
    def convert(self, src: Path, dst: Path, filter_name: str | None, infilter: str | None = None,
                timeout: float | None = None) -> None:
        """src -> dst with LibreOffice's export filter (None: PDF by the document's kind).
        Raises PoolError on any failure; the caller converts the file cold."""
        if self.closed:
            raise PoolError("đã dừng")
        conv = self._take(wait=True)
        if conv is None:
            raise PoolError("đã dừng")
        ok = False
        try:
            self._ensure_started(conv)
            self._start_watchdog()
            limit = min(timeout or self.timeout, self.timeout)
            asked = time.monotonic()
            reply = conv.ask({"op": "convert", "src": str(src), "dst": str(dst), "filter": filter_name,
                              "infilter": infilter}, limit)
            conv.last_used = time.monotonic()
            conv.files += 1
            if reply is None:
                # Dead (a crash on this file) or stuck past the limit: this converter is done for;
                # the watchdog starts a new one while the caller retries the file cold. Silence
                # before the limit is a keeper that closed its output, dying.
                stuck = conv.running and conv.last_used - asked >= limit
                why = "không trả lời" if stuck else "đã dừng đột ngột"
                log.warning("LibreOffice thường trú số %d %s khi chuyển đổi một tệp (giới hạn %g giây); "
                            "đã dừng nó, tệp sẽ được chuyển đổi lại bằng LibreOffice riêng.", conv.number, why, limit)
                conv.stop()
                raise PoolError(why)
            if not conv.running:
                conv.stop()
            if not reply.get("ok"):
                raise PoolError(reply.get("error") or "lỗi")
            ok = True
            if conv.files >= RESTART_AFTER_FILES:
                conv.stop(graceful=True)  # the watchdog starts a fresh one
        finally:
            if not ok:
                self.failures += 1
            self._give(conv)

    # -- the watchdog -----------------------------------------------------------------------------
    def _start_watchdog(self) -> None:
        with self._lock:
            if self._watchdog is None and not self.closed:
                self._watchdog = threading.Thread(target=self._watch, name="tonghop-convert-watchdog", daemon=True)
                self._watchdog.start()

    def _watch(self) -> None:
        """Restarts a converter that died or stopped answering while no file waits on it, so the
        next file finds one ready (a file that was on it is retried cold by its caller)."""
        while not self._stop.wait(self.watch_every):
            for _ in range(self.size):
                conv = self._take(wait=False)
                if conv is None:
                    break
                try:
                    if self._stop.is_set():
                        return
                    if not conv.running:
                        if conv.proc is not None:
                            conv.stop()
                        if time.monotonic() >= conv.broken_until:
                            try:
                                self._ensure_started(conv)
                            except PoolError:
                                pass
                    elif time.monotonic() - conv.last_used > PING_EVERY:
                        reply = conv.ask({"op": "ping"}, PING_TIMEOUT)
                        conv.last_used = time.monotonic()
                        if not reply or not reply.get("ok"):
                            log.warning("LibreOffice thường trú số %d không trả lời; đang khởi động lại.", conv.number)
                            conv.stop()
                            try:
                                self._ensure_started(conv)
                            except PoolError:
                                pass
                finally:
                    self._give(conv)

    # -- for tests, the bench and shutdown --------------------------------------------------------------
    def soffice_pids(self) -> list[int]:
        """Every process of every running converter (keeper, soffice, its helpers)."""
        return [pid for conv in self._all for pid in conv.soffice_pids()]

    def wait_ready(self, timeout: float = START_TIMEOUT) -> bool:
        """True once every converter is running and has said it is ready (a restart by the
        watchdog has finished)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(conv.ready and conv.running for conv in self._all):
                return True
            time.sleep(0.05)
        return False

    def start(self) -> None:
        """Start the converters now rather than on the first file (the bench measures it)."""
        for _ in range(self.size):
            conv = self._take(wait=True)
            try:
                self._ensure_started(conv)
            finally:
                self._give(conv)
        self._start_watchdog()

    def close(self) -> None:
        """Stop every converter and its helpers; waits for a conversion in progress at most its
        time limit, then kills anyway."""
        with self._cond:
            if self.closed:
                return
            self.closed = True
            self._cond.notify_all()
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join(timeout=PING_TIMEOUT + 5)
        for conv in self._all:
            conv.stop(graceful=True)
