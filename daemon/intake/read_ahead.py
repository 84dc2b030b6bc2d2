"""Reading the next message of a batch in a second process while this one decides and records
the one before it (issue 17: intake at the pace of reading).

Reading (decide.read: MIME, every attachment, the ND30 facts) is about two thirds of taking a
message from a backlog; archiving, claiming, composing the acknowledgement, writing the decision
and moving are the rest. They need not wait for each other: the reader process reads message
i+1 while this process finishes message i, so on two cores a backlog goes at about the pace of
reading alone.

What does not change:
- The raw mail is archived before it is read: the reader is given the archived file's path
  and reads the bytes from there (it checks their SHA-256 against the name), never from the
  mailbox.
- Decisions are made, recorded and moved here, in mailbox order, exactly as before; the reader
  only computes decide.read's pure result, which it pickles back. A kill -9 of this process
  leaves nothing of the reader's to redo: its stdin closes and it exits.
- Whatever the reader cannot give (it is not started yet, it died, the file changed, read
  raised), this process reads itself, as it did before: a message is never lost or decided
  without being read, and an error in reading is still this process's error (the runner's
  "failed" with its reason).

Protocol (pipes): to the reader, one line per request, "key path\\n", the key a number (the first
line is the hex of the pickled Limits); from it, b"R" once ready (imports done), then per request in order
an 8-byte length and the pickle of (key, sha256, Reading or None).
"""
from __future__ import annotations

import collections
import contextlib
import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import types
from pathlib import Path

log = logging.getLogger("tonghop")

_LENGTH = struct.Struct("=Q")
MAX_RESTARTS = 3  # a reader that keeps dying (a file that crashes it, no memory) is not restarted forever
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)


class ReadAhead:
    """The reader process, seen from the runner: submit(path) when a message is archived, take(key,
    sha256) when it is decided. Not thread-safe (the runner's loop is one thread)."""

    def __init__(self, limits) -> None:
        self.limits = limits
        self.proc: subprocess.Popen | None = None
        self.ready = False
        self.pending: collections.deque[int] = collections.deque()  # keys submitted, in order
        self.next_key = 0
        self.restarts = 0
        self.owner = os.getpid()
        self.peak_rss_kb = 0  # the largest VmHWM of its readers so far, taken as each is closed (bench/memory.py)

    # -- this process's side ---------------------------------------------------------------------
    def start(self) -> None:
        if self.proc is not None or self.restarts > MAX_RESTARTS:
            return
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "daemon.intake.read_ahead", str(os.getpid())], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, env=env, close_fds=True)
            self.proc.stdin.write(pickle.dumps(self.limits).hex().encode() + b"\n")
            self.proc.stdin.flush()
        except OSError as exc:
            log.warning("Không khởi động được tiến trình đọc trước (%s); hệ thống tự đọc từng thư.", exc)
            self._gone()

    def submit(self, path: Path) -> int | None:
        """Ask for the reading of the archived file at path: the key to take it by, or None when
        the reader cannot take it now (not ready yet, or gone): the runner then reads it itself."""
        if self.proc is None or not self._is_ready():
            return None
        key = self.next_key
        self.next_key += 1
        try:
            self.proc.stdin.write(f"{key} {path}\n".encode())
            self.proc.stdin.flush()
        except OSError:  # BrokenPipeError: it died
            self._gone()
            return None
        self.pending.append(key)
        return key

    def take(self, key: int | None, sha256: str):
        """The Reading of key's message, or None: not submitted, the reader died or could not read
        it, or what it read is not the archived bytes. Earlier keys not taken are dropped (their
        messages needed no reading: decided before a crash, or set aside after too many tries)."""
        while key in self.pending:
            first = self.pending.popleft()
            answer = self._answer()
            if answer is None:
                return None
            got_key, got_sha, reading = answer
            if got_key != first:  # out of step: nothing it says can be trusted
                log.warning("Tiến trình đọc trước trả lời sai thứ tự; hệ thống tự đọc từng thư.")
                self._gone()
                return None
            if first == key:
                return reading if got_sha == sha256 else None
        return None

    def _is_ready(self) -> bool:
        if not self.ready:
            with contextlib.suppress(OSError, ValueError):
                fd = self.proc.stdout.fileno()
                if select.select([fd], [], [], 0)[0]:
                    self.ready = self.proc.stdout.read(1) == b"R"
                    if not self.ready:
                        self._gone()
        return self.ready

    def _answer(self):
        try:
            head = self.proc.stdout.read(_LENGTH.size)
            if len(head) == _LENGTH.size:
                (size,) = _LENGTH.unpack(head)
                body = self.proc.stdout.read(size)
                if len(body) == size:
                    return pickle.loads(body)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError):
            pass
        log.warning("Tiến trình đọc trước đã dừng; hệ thống tự đọc các thư còn lại của lô.")
        self._gone()
        return None

    def _gone(self) -> None:
        """Forget the reader (dead, or out of step): the next batch starts another, up to MAX_RESTARTS."""
        self.close()
        self.restarts += 1

    def close(self) -> None:
        proc, self.proc = self.proc, None
        self.pending.clear()
        self.ready = False
        if proc is None or self.owner != os.getpid():
            return
        self.peak_rss_kb = max(self.peak_rss_kb, _peak_rss_kb(proc.pid))
        # The reader sees EOF and exits; its answers' pipe closed too, so an answer it is writing
        # that nobody will read fails (EPIPE) instead of blocking it.
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _peak_rss_kb(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


# -- the reader process ----------------------------------------------------------------------------
def serve(inp, out) -> None:
    """The reader's loop: read each requested archived file with decide.read until EOF."""
    from daemon.intake.decide import read
    from daemon.records import sha256_of

    # decide.read needs only the configuration's limits
    config = types.SimpleNamespace(limits=pickle.loads(bytes.fromhex(inp.readline().decode().strip())))
    out.write(b"R")
    out.flush()
    for line in inp:
        number, _, path = line.decode().rstrip("\n").partition(" ")
        key = int(number)
        sha, reading = None, None
        try:
            raw = Path(path).read_bytes()
            sha = sha256_of(raw)
            reading = read(raw, config)
        except Exception:  # noqa: BLE001 - the runner reads it again and reports what went wrong
            reading = None
        try:
            body = pickle.dumps((key, sha, reading), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - something in it does not pickle: the runner reads it
            body = pickle.dumps((key, sha, None), protocol=pickle.HIGHEST_PROTOCOL)
        out.write(_LENGTH.pack(len(body)) + body)
        out.flush()


def die_with(parent: int) -> None:
    """Be killed when the service goes (Linux's PR_SET_PDEATHSIG): a kill -9 of the service
    closes our stdin, but a reading that never ends (a hostile file) would not see it."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it went before the line above
        os._exit(0)


def main() -> None:
    die_with(int(sys.argv[1]))
    # Ctrl-C in a terminal reaches the whole group: the daemon stops and closes our stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The answers get a descriptor of their own: anything a library prints goes to stderr, not
    # into the pickles.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with contextlib.suppress(BrokenPipeError):
        serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
