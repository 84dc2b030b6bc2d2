"""Every subprocess parsers/ uses sits here: LibreOffice (legacy office files -> OOXML, drafts -> PDF),
pdftotext (a PDF's text layer, by glyph position), pdftoppm (PDF pages -> images) and Tesseract
(images -> Vietnamese text).

Why one module: each external program is a place where a hostile or broken file can hang or eat the
machine. Here each call gets a private temporary directory (removed afterwards), a time limit after
which its whole process group is killed (soffice forks helpers that a plain kill would orphan), and a
Vietnamese error a person can act on. Callers only see bytes in, bytes/text out, or ConversionError.

No converter reaches the network: a stranger's .odt/.doc/.html with a linked image made LibreOffice
send an HTTP GET to an address of the sender's choosing (SSRF), before any sender check. Every
program runs in a network namespace of its own with only a loopback that is down (`unshare -rn`,
which works as root and as an ordinary user where user namespaces are allowed; `unshare --net` as
root otherwise), and LibreOffice's profile blocks linked content as well
(BlockUntrustedRefererLinks), which is the one layer left on a machine without namespaces.
`network_isolation()` says which applies; check-config prints it. pdftotext, run for every PDF, is
started by a small resident launcher that itself runs under that prefix (see _Launcher): the same
namespace without one more program start and one more namespace per PDF.

The service (`tonghop run`) converts through a resident LibreOffice instead (parsers/convert_pool.py,
switched on by use_resident_pool()): same isolation and profile, ≈0.1-0.2 s a .doc instead of ≈1 s,
and any failure there (a crash, a hang past the time limit, a refusal) sends the file once more
through the cold path here, which also stays for `tonghop inspect` and whenever the pool cannot start.
"""
from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Sequence

from parsers.convert_pool import MAX_CONVERTERS, ConverterPool, PoolError, _kill_group

log = logging.getLogger("tonghop.convert")

# OCR resolution: 200 dpi reads 13-14 pt administrative text well and keeps one A4 page under ~2 s.
OCR_DPI = 200


class ConversionError(Exception):
    """A conversion failed; str(error) is a Vietnamese sentence for people."""


def run_limited(argv: Sequence[str], timeout: float, *, cwd: str | None = None,
                env: dict[str, str] | None = None, what: str = "chuyển đổi") -> subprocess.CompletedProcess:
    """Run argv in its own process group; kill the whole group when `timeout` seconds pass."""
    try:
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
    except OSError as exc:
        raise ConversionError(f"Không chạy được chương trình {what} ({argv[0]}): {exc.strerror or exc}.") from exc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        raise ConversionError(
            f"Quá thời gian {what} ({timeout:g} giây); tệp có thể quá lớn hoặc bị hỏng, cần người xem."
        ) from None
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


def run_capped(argv: Sequence[str], timeout: float, max_bytes: int, *,
               what: str = "chuyển đổi") -> tuple[int, bytes]:
    """Run argv in its own process group and return (exit status, stdout); kill the group when
    `timeout` seconds pass or stdout grows past max_bytes (a small PDF can draw gigabytes of
    text, which communicate() would hold in memory). stdout is read as it comes, so nothing
    waits on a polling interval."""
    run = CappedRun(argv, timeout, max_bytes, what=what)
    try:
        return run.collect()
    finally:
        run.close()


class CappedRun:
    """A program started now, its stdout collected later by collect() (run_capped's two halves).

    Why two halves: the PDF reader starts pdftotext first and does its own checks with pypdf
    while pdftotext works on the other core. The bounds are those of run_capped: own process
    group, `timeout` counted from the start (time the caller spends elsewhere counts too), at
    most max_bytes of stdout. stdout is a pipe enlarged to 1 MB where Linux allows it, so a
    small PDF's whole text fits while nobody reads; a larger one waits for collect(). close()
    kills the group if it still runs (a PDF pypdf refused) and may be called any number of times.
    `stdin` is a file descriptor the program reads (the PDF itself), or None for /dev/null.
    """

    def __init__(self, argv: Sequence[str], timeout: float, max_bytes: int, *,
                 stdin: int | None = None, what: str = "chuyển đổi",
                 launcher: "_Launcher | None" = None) -> None:
        self.timeout, self.max_bytes, self.what = timeout, max_bytes, what
        self.proc: _PopenChild | _LaunchedChild | None = None
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        try:
            with contextlib.suppress(OSError, AttributeError):  # F_SETPIPE_SZ: Linux 2.6.35+, Python 3.10+
                import fcntl
                fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, 1 << 20)
            if launcher is not None:
                self.proc = _LaunchedChild(launcher, launcher.spawn(argv, stdin, write_fd))
            else:
                self.proc = _PopenChild(subprocess.Popen(
                    list(argv), stdin=subprocess.DEVNULL if stdin is None else stdin,
                    stdout=write_fd, stderr=subprocess.DEVNULL, start_new_session=True))
        except LauncherError:
            os.close(read_fd)
            raise  # the caller starts it the ordinary way
        except OSError as exc:
            os.close(read_fd)
            raise ConversionError(f"Không chạy được chương trình {what} ({argv[0]}): {exc.strerror or exc}.") from exc
        finally:
            os.close(write_fd)  # the child holds its own copy; EOF comes when it exits
        self.fd: int | None = read_fd
        self.deadline = time.monotonic() + timeout

    def _timed_out(self) -> ConversionError:
        return ConversionError(
            f"Quá thời gian {self.what} ({self.timeout:g} giây); tệp có thể quá lớn hoặc bị hỏng, cần người xem."
        )

    def collect(self) -> tuple[int, bytes]:
        """(exit status, stdout); ConversionError past the time or output bound (group killed)."""
        if self.fd is None or self.proc is None:
            raise ConversionError(f"Chương trình {self.what} đã bị dừng.")
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                # Polled even past the deadline: output already written by a program that has
                # finished while the caller was busy is taken, not called a timeout.
                left = self.deadline - time.monotonic()
                if not select.select([self.fd], [], [], max(left, 0))[0]:
                    raise self._timed_out()
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_bytes:
                    raise ConversionError(
                        f"Chương trình {self.what} cho ra quá nhiều chữ; tệp có thể bị hỏng hoặc độc hại.")
                chunks.append(chunk)
            status = self.proc.wait(timeout=max(self.deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            self.close()
            raise ConversionError(f"Quá thời gian {self.what} ({self.timeout:g} giây); cần người xem.") from None
        except LauncherError:
            self.close()
            raise ConversionError(f"Không biết chương trình {self.what} kết thúc thế nào (tiến trình khởi chạy đã dừng).") from None
        except OSError as exc:  # the launcher could not start it
            self.close()
            raise ConversionError(f"Không chạy được chương trình {self.what}: {exc.strerror or exc}.") from None
        except ConversionError:
            self.close()
            raise
        self.close()
        return status, b"".join(chunks)

    def close(self) -> None:
        """Kill the group if it still runs, reap it, release the pipe."""
        if self.proc is not None:
            self.proc.stop()
            self.proc = None
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class _PopenChild:
    """A program started by subprocess in its own session (run_capped's way)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.popen = proc

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout=timeout)

    def stop(self) -> None:
        if self.popen.poll() is None:
            _kill_group(self.popen)
            self.popen.wait()


class _LaunchedChild:
    """A program the launcher started (see _Launcher): it reaps it and kills it on request."""

    def __init__(self, launcher: "_Launcher", rid: int) -> None:
        self.launcher, self.rid, self.status = launcher, rid, None

    @property
    def pid(self) -> int | None:
        return self.launcher.pid_of(self.rid)

    def wait(self, timeout: float) -> int:
        self.status = self.launcher.wait(self.rid, timeout)
        return self.status

    def stop(self) -> None:
        if self.status is None:
            self.launcher.kill(self.rid)
            with contextlib.suppress(subprocess.TimeoutExpired, OSError):
                self.status = self.launcher.wait(self.rid, 10)


# The launcher's own code: run once per tonghop process by `unshare -rn python3 -I -S -c`, so it
# and every program it starts live in the network namespace it was given (no network).
# Messages (SOCK_SEQPACKET, one each): to it "S" + request id + argv (NUL-separated) with the
# program's stdin and stdout as descriptors, "K" + request id (kill); from it "P" + id + pid
# (started), "E" + id + errno (could not start), "X" + id + exit status (reaped).
_LAUNCHER_SOURCE = r"""
import os, select, signal, socket, struct, sys
sock = socket.socket(fileno=int(sys.argv[1]))
os.set_inheritable(sock.fileno(), False)
null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
by_fd, by_rid = {}, {}  # pidfd -> (rid, pid), rid -> pid: started and not yet reaped
def kill(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
while True:
    for fd in select.select([sock, *by_fd], [], [])[0]:
        if fd is not sock:
            rid, pid = by_fd.pop(fd)
            del by_rid[rid]
            os.close(fd)
            status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            sock.send(b"X" + struct.pack("=ii", rid, status))
            continue
        try:
            msg, fds, _flags, _addr = socket.recv_fds(sock, 1 << 16, 2, socket.MSG_CMSG_CLOEXEC)
        except OSError:
            msg, fds = b"", []
        if not msg:  # tonghop has gone: so do the programs it started
            for pid in by_rid.values():
                kill(pid)
            os._exit(0)
        rid = struct.unpack("=i", msg[1:5])[0]
        if msg[:1] == b"K":  # only a program not yet reaped, so never a reused pid
            if rid in by_rid:
                kill(by_rid[rid])
            continue
        try:
            if len(fds) != 2:
                raise OSError(9, "two descriptors expected")
            argv = msg[5:].split(b"\0")
            pid = os.posix_spawn(argv[0], argv, os.environ, setsid=True, file_actions=[
                (os.POSIX_SPAWN_DUP2, fds[0], 0), (os.POSIX_SPAWN_DUP2, fds[1], 1),
                (os.POSIX_SPAWN_DUP2, null, 2)])
            by_fd[os.pidfd_open(pid)] = (rid, pid)
            by_rid[rid] = pid
            reply = b"P" + struct.pack("=ii", rid, pid)
        except OSError as exc:
            reply = b"E" + struct.pack("=ii", rid, exc.errno or 0)
        finally:
            for fd in fds:
                os.close(fd)
        sock.send(reply)
"""


class LauncherError(OSError):
    """The launcher is gone; the caller starts the program the ordinary way."""


class _Launcher:
    """A small resident process inside the network namespace that starts pdftotext for us.

    Why: `unshare -rn` costs one more program start and a new network namespace for every PDF
    (≈2 ms of the ≈11 ms pdftotext takes; issue 17). The launcher is started once under the same
    isolation prefix (python3 -I -S, a few MB) and starts each pdftotext with posix_spawn in its
    own session; the namespace is inherited, so pdftotext has no network, as before. The PDF
    (stdin) and the output pipe are passed as descriptors over a socket pair, so tonghop reads
    the output itself with the same time and size bounds; a request is sent and not waited for
    (its answer comes with the exit status). The launcher reaps its programs and reports each exit
    status; it kills a program on request only while it has not reaped it (so a reused pid is
    never signalled). When tonghop exits, the socket closes and the launcher kills what still
    runs and exits. If it dies, what it started is killed here and callers fall back to starting
    `unshare -rn pdftotext` per PDF (see Converter._start_pdftotext).
    """

    def __init__(self, prefix: Sequence[str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [*prefix, sys.executable, "-I", "-S", "-c", _LAUNCHER_SOURCE, str(theirs.fileno())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), start_new_session=True)
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        self.pid_owner = os.getpid()
        self.lock = threading.Lock()
        self.next_rid = 0
        self.exits: dict[int, int] = {}  # rid -> exit status, not yet asked for
        self.failed: dict[int, int] = {}  # rid -> errno of a program that did not start
        self.started: dict[int, int | None] = {}  # rid -> pid (None until told) of what runs
        self.dead = False

    def _recv(self, timeout: float) -> None:
        """The messages from the launcher that have come (lock held), waiting at most timeout
        for the first."""
        wait = max(timeout, 0)
        while not self.dead and select.select([self.sock], [], [], wait)[0]:
            wait = 0
            try:
                msg = self.sock.recv(64)
            except OSError:
                msg = b""
            if len(msg) != 9:
                self._gone()
                return
            kind, (rid, value) = msg[:1], struct.unpack("=ii", msg[1:])
            if kind == b"P":
                if rid in self.started:
                    self.started[rid] = value
            elif kind == b"X":
                self.exits[rid] = value
                self.started.pop(rid, None)
            else:
                self.failed[rid] = value
                self.started.pop(rid, None)

    def _gone(self) -> None:
        """The launcher died: its programs are orphans now, killed here (still running and not
        reaped by anyone, so their pids are theirs)."""
        if not self.dead:
            self.dead = True
            for pid in self.started.values():
                if pid:
                    with contextlib.suppress(OSError):
                        os.killpg(pid, signal.SIGKILL)
            log.warning("Tiến trình khởi chạy pdftotext đã dừng; hệ thống chạy pdftotext theo cách thông thường.")

    def spawn(self, argv: Sequence[str], stdin: int | None, stdout: int) -> int:
        """Ask for argv to be started; its request id, at once (see wait)."""
        with self.lock:
            if self.dead:
                raise LauncherError("launcher gone")
            self._recv(0)  # what has come meanwhile, so a dead launcher is noticed here
            if self.dead:
                raise LauncherError("launcher gone")
            self.next_rid = rid = (self.next_rid + 1) & 0x7FFFFFFF
            null = None
            if stdin is None:
                null = stdin = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            try:
                socket.send_fds(self.sock, [b"S" + struct.pack("=i", rid) + b"\0".join(map(os.fsencode, argv))],
                                [stdin, stdout])
            except OSError:
                self._gone()
                raise LauncherError("launcher gone") from None
            finally:
                if null is not None:
                    os.close(null)
            self.started[rid] = None
            return rid

    def pid_of(self, rid: int) -> int | None:
        with self.lock:
            self._recv(0)
            return self.started.get(rid)

    def wait(self, rid: int, timeout: float) -> int:
        """The exit status of request rid; subprocess.TimeoutExpired after timeout; OSError when
        it could not start; LauncherError when the launcher died first."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                self._recv(0)  # whatever has come, for this program or another thread's
                if rid in self.exits:
                    return self.exits.pop(rid)
                if rid in self.failed:
                    errno = self.failed.pop(rid)
                    raise OSError(errno, os.strerror(errno))
                if self.dead:
                    raise LauncherError("launcher gone")
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired("pdftotext", timeout)
            # Waiting happens without the lock, so other threads start and reap meanwhile.
            with contextlib.suppress(OSError, ValueError):
                select.select([self.sock], [], [], min(left, 0.05))

    def kill(self, rid: int) -> None:
        with self.lock:
            if self.dead or rid not in self.started:
                return
            try:
                self.sock.send(b"K" + struct.pack("=i", rid))
            except OSError:
                self._gone()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()  # the launcher sees EOF, kills what runs and exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        if self.proc.poll() is None:
            _kill_group(self.proc)
            self.proc.wait()
        self.dead = True


_LAUNCHER: _Launcher | None = None
_LAUNCHER_LOCK = threading.Lock()
_LAUNCHER_RETRY_AT = 0.0
LAUNCHER_RETRY_AFTER = 60.0  # a launcher that cannot start or died is not retried for every PDF


def pdf_launcher() -> _Launcher | None:
    """The process's launcher, started on first use; None where it cannot run (the caller starts
    `unshare -rn pdftotext` itself). A forked child starts its own."""
    global _LAUNCHER, _LAUNCHER_RETRY_AT
    with _LAUNCHER_LOCK:
        current = _LAUNCHER
        if current is not None and not current.dead and current.pid_owner == os.getpid():
            return current
        if current is not None and current.pid_owner == os.getpid():
            current.close()  # it died: wait a while before the next one
            _LAUNCHER_RETRY_AT = time.monotonic() + LAUNCHER_RETRY_AFTER
        _LAUNCHER = None
        if time.monotonic() < _LAUNCHER_RETRY_AT or not hasattr(os, "pidfd_open") or not hasattr(socket, "send_fds"):
            return None
        try:
            _LAUNCHER = _Launcher(isolation_prefix())
        except OSError as exc:
            log.warning("Không khởi động được tiến trình khởi chạy pdftotext (%s); chạy pdftotext theo cách thông thường.", exc)
            _LAUNCHER_RETRY_AT = time.monotonic() + LAUNCHER_RETRY_AFTER
            return None
        return _LAUNCHER


def close_pdf_launcher() -> None:
    global _LAUNCHER
    with _LAUNCHER_LOCK:
        if _LAUNCHER is not None and _LAUNCHER.pid_owner == os.getpid():
            _LAUNCHER.close()
        _LAUNCHER = None


atexit.register(close_pdf_launcher)


def _memory_file(data: bytes):
    """A readable file object holding data, positioned at its start, in memory where Linux allows."""
    try:
        fd = os.memfd_create("tonghop-pdf", os.MFD_CLOEXEC)
        f = open(fd, "w+b", buffering=0)
    except (AttributeError, OSError):
        f = tempfile.TemporaryFile(prefix="tonghop-pdftext-")
    try:
        view, done = memoryview(data), 0
        while done < len(view):  # an unbuffered write may take part of the bytes
            done += f.write(view[done:])
        f.flush()
        f.seek(0)
    except BaseException:
        f.close()
        raise
    return f


class PdfTextRun:
    """A pdftotext started by Converter.start_pdf_text: pages() waits for its text, split into
    pages on form feeds; close() kills it if it still runs. `later` computes the pages instead of
    a process (a subclass's own pdf_text_pages, or no page to read); `error` is a failure to start."""

    def __init__(self, run: CappedRun | None, later=None, error: ConversionError | None = None) -> None:
        self.run, self.later, self.error = run, later, error

    def pages(self) -> list[str]:
        if self.error is not None:
            raise self.error
        if self.run is None:
            return self.later()
        status, raw = self.run.collect()
        if status != 0:
            raise ConversionError(f"pdftotext không đọc được lớp chữ của tệp PDF (mã lỗi {status}).")
        pages = raw.decode("utf-8", "replace").split("\f")
        if pages and not pages[-1].strip():
            pages.pop()  # pdftotext ends every page with a form feed
        return pages

    def close(self) -> None:
        if self.run is not None:
            self.run.close()


_ISOLATION: list[str] | None = None


def _probe_isolation() -> list[str]:
    """The argv prefix that runs a program without network, or [] when none works here."""
    if shutil.which("unshare") is None:
        return []
    for prefix in (["unshare", "-rn"], ["unshare", "--net"]):
        try:
            res = subprocess.run([*prefix, "true"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if res.returncode == 0:
            return prefix
    return []


def isolation_prefix() -> list[str]:
    """Probed once per process: unshare either works on this kernel for this user or it does not."""
    global _ISOLATION
    if _ISOLATION is None:
        _ISOLATION = _probe_isolation()
    return list(_ISOLATION)


def network_isolation() -> str:
    """How converters are kept off the network, in Vietnamese (check-config prints it)."""
    prefix = isolation_prefix()
    if prefix:
        return f"chạy trong vùng mạng riêng không có mạng ({' '.join(prefix)})"
    return ("KHÔNG tách được mạng (lệnh unshare không có hoặc nhân không cho tạo namespace); "
            "chỉ còn LibreOffice chặn nội dung liên kết")


# LibreOffice's own switch for content a document links to (images, OLE links, frames): loaded
# only from trusted locations, and the profile lists none.
_PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetProxyType" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def _cleanup_dir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


# -- the resident converter of the service ----------------------------------------------------------
# The --convert-to targets the resident path knows, as LibreOffice export filters (None: PDF by
# the document's kind). Any other target goes cold.
_RESIDENT_FILTERS = {"pdf": None, "doc": "MS Word 97", "xls": "MS Excel 97", "docx": "MS Word 2007 XML",
                     "xlsx": "Calc MS Excel 2007 XML", "odt": "writer8", "ods": "calc8", "rtf": "Rich Text Format"}

_POOL: ConverterPool | None = None
_POOL_SETTINGS: dict | None = None
_POOL_LOCK = threading.Lock()


def _resident_filter(target: str) -> tuple[bool, str | None]:
    ext, _, name = target.partition(":")
    if name:
        return True, name
    if ext in _RESIDENT_FILTERS:
        return True, _RESIDENT_FILTERS[ext]
    return False, None


def use_resident_pool(size: int | None = None, *, timeout: float | None = None) -> int:
    """Let this process's converters use a resident LibreOffice, started on the first legacy file
    and stopped at exit. `size` converters (1 or 2; default: TONGHOP_CONVERTERS, else 1; 0 turns
    the pool off). `timeout` bounds each file on the resident path (default: the Converter's own
    limit). Returns the size in effect. Called by `tonghop run`; `inspect` stays cold."""
    global _POOL_SETTINGS
    if size is None:
        try:
            size = int(os.environ.get("TONGHOP_CONVERTERS", "1"))
        except ValueError:
            size = 1
    size = max(0, min(size, MAX_CONVERTERS))
    with _POOL_LOCK:
        _POOL_SETTINGS = {"size": size, "timeout": timeout} if size else None
    atexit.register(close_resident_pool)
    return size


def resident_pool() -> ConverterPool | None:
    """The process's resident pool (made, not yet started, on first use), or None when off."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None and _POOL_SETTINGS is not None:
            _POOL = ConverterPool(_POOL_SETTINGS["size"], timeout=_POOL_SETTINGS["timeout"] or 3600,
                                  isolation=isolation_prefix(), profile_xcu=_PROFILE_XCU)
        return _POOL


def close_resident_pool() -> None:
    """Stop the resident converters (no soffice is left running); a later file starts a new pool
    only if use_resident_pool() is called again."""
    global _POOL, _POOL_SETTINGS
    with _POOL_LOCK:
        pool, _POOL, _POOL_SETTINGS = _POOL, None, None
    if pool is not None:
        pool.close()


@contextlib.contextmanager
def resident_converters(size: int | None = None):
    """`with resident_converters():` the process's converters use a resident pool inside the block;
    it is closed (no soffice left) when the block ends, and at exit should the block never end."""
    use_resident_pool(size)
    try:
        yield
    finally:
        close_resident_pool()


def new_resident_pool(size: int = 1, *, timeout: float = 60, **kwargs) -> ConverterPool:
    """A pool of one's own, isolated as the service's is (tests and the bench pass it to Converter)."""
    return ConverterPool(size, timeout=timeout, isolation=isolation_prefix(), profile_xcu=_PROFILE_XCU, **kwargs)


class Converter:
    """Bounded wrappers around soffice, pdftoppm, pdftotext and tesseract.

    `command` replaces the soffice argv prefix (a test hook: e.g. ["sleep", "30"] exercises the
    timeout path). `offline=False` is a test hook too: it lets the programs reach the network and
    LibreOffice load linked content, so a test can show that its hostile file really does link. One LibreOffice conversion runs at a time per Converter, because concurrent
    soffice processes cannot share a profile directory.

    `pool`: None uses the process's resident pool when use_resident_pool() switched it on; a
    ConverterPool uses that one; False always converts cold (a soffice per file). A file the
    resident path fails on is converted once more cold.
    """

    def __init__(self, *, timeout: float = 60, ocr_timeout: float = 120,
                 command: Sequence[str] | None = None, soffice: str = "soffice",
                 tesseract: str = "tesseract", pdftoppm: str = "pdftoppm",
                 pdftotext: str = "pdftotext", ocr_lang: str = "vie", offline: bool = True,
                 pool: ConverterPool | None | bool = None) -> None:
        self.timeout = timeout
        self.pool = pool
        self.offline = offline
        self.ocr_timeout = ocr_timeout
        self.command = list(command) if command else None
        self.soffice = soffice
        self.tesseract = tesseract
        self.pdftoppm = pdftoppm
        self.pdftotext = pdftotext
        self.ocr_lang = ocr_lang
        self._lock = threading.Lock()
        self.cold_runs = 0  # soffice started for one file (the tests and the bench read it)
        self._profile: str | None = None
        self._ocr_ok: bool | None = None

    # -- availability ---------------------------------------------------------------------

    @classmethod
    def without_programs(cls) -> "Converter":
        """A converter on a machine with none of the programs: how tonghop reads on its own."""
        return cls(soffice="/nonexistent/soffice", tesseract="/nonexistent/tesseract",
                   pdftoppm="/nonexistent/pdftoppm", pdftotext="/nonexistent/pdftotext")

    def available(self) -> dict[str, bool]:
        """Which external programs are usable: {"office", "ocr", "pdf_render", "pdf_text"}."""
        return {"office": self.has_office, "ocr": self.has_ocr, "pdf_render": self.has_pdf_render,
                "pdf_text": self.has_pdf_text}

    @property
    def has_office(self) -> bool:
        if self.command:
            return shutil.which(self.command[0]) is not None
        return shutil.which(self.soffice) is not None

    @property
    def has_pdf_render(self) -> bool:
        return shutil.which(self.pdftoppm) is not None

    @property
    def has_pdf_text(self) -> bool:
        return shutil.which(self.pdftotext) is not None

    @property
    def has_ocr(self) -> bool:
        """Tesseract with the configured language data (Vietnamese by default)."""
        if self._ocr_ok is None:
            ok = False
            if shutil.which(self.tesseract):
                try:
                    res = run_limited([self.tesseract, "--list-langs"], 15, what="nhận dạng chữ")
                    langs = (res.stdout + res.stderr).decode("utf-8", "replace").split()
                    ok = self.ocr_lang in langs
                except ConversionError:
                    ok = False
            self._ocr_ok = ok
        return self._ocr_ok

    def _offline(self, argv: list[str]) -> list[str]:
        """argv run without network where this machine allows it (see network_isolation)."""
        return [*isolation_prefix(), *argv] if self.offline else list(argv)

    # -- LibreOffice ----------------------------------------------------------------------
    def _profile_dir(self) -> str:
        # A private profile: the user's own LibreOffice (or another daemon) never locks ours.
        if self._profile is None:
            self._profile = tempfile.mkdtemp(prefix="tonghop-lo-profile-")
            weakref.finalize(self, _cleanup_dir, self._profile)
            if self.offline:
                Path(self._profile, "user").mkdir()
                Path(self._profile, "user", "registrymodifications.xcu").write_text(_PROFILE_XCU, encoding="utf-8")
        return self._profile

    def _soffice(self, data: bytes, suffix: str, target: str, infilter: str | None = None) -> bytes:
        if not self.has_office:
            raise ConversionError("Máy chủ chưa cài LibreOffice nên không chuyển đổi được tệp này.")
        suffix = suffix if suffix.startswith(".") else "." + suffix
        if not re.fullmatch(r"\.[A-Za-z0-9]{1,8}", suffix):
            suffix = ".bin"
        ext = target.split(":", 1)[0]
        out = self._resident(data, suffix, target, infilter)
        if out is not None:
            return out
        with self._lock, tempfile.TemporaryDirectory(prefix="tonghop-conv-") as work:
            src = Path(work, "input" + suffix)
            src.write_bytes(data)
            outdir = Path(work, "out")
            outdir.mkdir()
            if self.command:
                argv = [*self.command, str(src)]
            else:
                argv = [self.soffice, f"-env:UserInstallation=file://{self._profile_dir()}",
                        "--headless", "--norestore", "--nolockcheck", "--nodefault", "--nologo"]
                if infilter:
                    argv.append(f"--infilter={infilter}")
                argv += ["--convert-to", target, "--outdir", str(outdir), str(src)]
            env = dict(os.environ, HOME=work)  # soffice may write dotfiles under HOME
            self.cold_runs += 1
            res = run_limited(self._offline(argv), self.timeout, cwd=work, env=env, what="chuyển đổi bằng LibreOffice")
            out = outdir / f"input.{ext}"
            if not out.is_file() or out.stat().st_size == 0:
                detail = res.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
                raise ConversionError(
                    "LibreOffice không chuyển đổi được tệp (có thể tệp bị hỏng hoặc sai định dạng)."
                    + (f" Chi tiết: {detail[0][:200]}" if detail[0] else "")
                )
            return out.read_bytes()

    def _resident_pool(self) -> ConverterPool | None:
        if self.pool is False or self.command or not self.offline:
            return None  # test hooks and online conversions are the cold path's alone
        if isinstance(self.pool, ConverterPool):
            return None if self.pool.closed else self.pool
        if self.soffice != "soffice":
            return None
        return resident_pool()

    def _resident(self, data: bytes, suffix: str, target: str, infilter: str | None) -> bytes | None:
        """The file converted by the resident LibreOffice, or None: then it goes cold (the pool is
        off or cannot start, or this file failed there; the pool has logged why)."""
        pool = self._resident_pool()
        known, filter_name = _resident_filter(target)
        if pool is None or not known:
            return None
        ext = target.split(":", 1)[0]
        with tempfile.TemporaryDirectory(prefix="tonghop-conv-") as work:
            src = Path(work, "input" + suffix)
            src.write_bytes(data)
            out = Path(work, f"output.{ext}")
            try:
                pool.convert(src, out, filter_name, infilter, timeout=self.timeout)
            except PoolError as exc:
                log.info("LibreOffice thường trú không chuyển đổi được tệp %s (%s); chuyển đổi lại bằng "
                         "LibreOffice riêng.", suffix, exc)
                return None
            if not out.is_file() or out.stat().st_size == 0:
                return None
            return out.read_bytes()

    def convert(self, data: bytes, suffix: str, target: str, infilter: str | None = None) -> bytes:
        """Any LibreOffice conversion: `target` is what --convert-to takes ("pdf", "doc",
        'docx:MS Word 2007 XML', ...); returns the converted file's bytes."""
        return self._soffice(data, suffix, target, infilter)

    def to_docx(self, data: bytes, suffix: str) -> bytes:
        """A word-processing file (.doc, .rtf, .odt, .html, ...) as .docx bytes."""
        infilter = None
        if suffix.lower().lstrip(".") in ("html", "htm"):
            # Without it soffice opens HTML in Writer/Web, which has no .docx export.
            infilter = "HTML (StarWriter)"
        return self._soffice(data, suffix, 'docx:MS Word 2007 XML', infilter)

    def to_xlsx(self, data: bytes, suffix: str) -> bytes:
        """A spreadsheet (.xls, .ods, ...) as .xlsx bytes."""
        return self._soffice(data, suffix, "xlsx:Calc MS Excel 2007 XML")

    def to_pdf(self, data: bytes, suffix: str) -> bytes:
        return self._soffice(data, suffix, "pdf")

    def docx_to_pdf(self, path: str | os.PathLike, outdir: str | os.PathLike) -> Path:
        """Render a file on disk (a draft .docx) to outdir/<stem>.pdf and return that path."""
        src = Path(path)
        pdf = self.to_pdf(src.read_bytes(), src.suffix or ".docx")
        out = Path(outdir) / (src.stem + ".pdf")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(pdf)
        return out

    # -- PDF text layer -----------------------------------------------------------------------
    def pdf_text_pages(self, data: bytes, last_page: int, max_bytes: int) -> list[str]:
        """The text layer of pages 1..last_page, one string per page, read by pdftotext -layout.

        Why pdftotext: it orders glyphs by their position on the page, not by the order the
        content stream draws them, so a line whose letters come in two fonts (Word's or
        LibreOffice's font fallback, stamps, signature overlays) reads as it is printed; -layout
        keeps the columns of the ND30 header apart (runs of spaces, which parsers/facts.py reads
        as a column break). A PDF with only an owner password reads (pdftotext ignores permissions;
        pypdf has already refused files that need a user password).
        Time is bounded by `timeout`, output by max_bytes (ConversionError past either).
        """
        run = self._start_pdftotext(data, last_page, max_bytes)
        try:
            return run.pages()
        finally:
            run.close()

    def start_pdf_text(self, data: bytes, last_page: int, max_bytes: int) -> "PdfTextRun":
        """pdf_text_pages started now and read later: run.pages() gives what pdf_text_pages
        returns (or raises its ConversionError), run.close() stops it; the caller must close it.

        The PDF reader starts pdftotext before its pypdf checks so both work at once (issue 17:
        pdftotext takes ≈11 ms a file, most of it starting the program). A subclass that
        overrides pdf_text_pages (the tests' stand-ins) is called when the pages are asked for.
        """
        if type(self).pdf_text_pages is not Converter.pdf_text_pages:
            return PdfTextRun(None, lambda: self.pdf_text_pages(data, last_page, max_bytes))
        try:
            return self._start_pdftotext(data, last_page, max_bytes)
        except ConversionError as exc:
            return PdfTextRun(None, None, exc)

    def _start_pdftotext(self, data: bytes, last_page: int, max_bytes: int) -> "PdfTextRun":
        if not self.has_pdf_text:
            raise ConversionError("Máy chủ chưa cài pdftotext (poppler-utils).")
        if last_page < 1:
            return PdfTextRun(None, list)
        # The PDF reaches pdftotext as its stdin ("-"), from a file in memory (memfd) rather than
        # a private temporary directory: no directory to make and remove for each PDF, nothing on
        # disk, and no path a program could guess. poppler reads stdin whole before parsing, so it
        # holds one copy of the PDF, as it would have mapped the file; attachments are already
        # bounded in size. Where memfd is missing, an unnamed temporary file does the same.
        argv = [self.pdftotext, "-q", "-layout", "-enc", "UTF-8", "-f", "1", "-l", str(last_page), "-", "-"]
        what = "đọc lớp chữ PDF (pdftotext)"
        source = _memory_file(data)
        try:
            launcher = pdf_launcher() if self.offline else None
            if launcher is not None:
                try:
                    program = shutil.which(self.pdftotext) or self.pdftotext
                    return PdfTextRun(CappedRun([program, *argv[1:]], self.timeout, max_bytes,
                                                stdin=source.fileno(), what=what, launcher=launcher))
                except LauncherError:
                    pass  # gone since: this PDF and the next ones the ordinary way
            return PdfTextRun(CappedRun(self._offline(argv), self.timeout, max_bytes,
                                        stdin=source.fileno(), what=what))
        finally:
            source.close()  # the child has its own descriptor

    # -- OCR ------------------------------------------------------------------------------
    def _ocr_env(self) -> dict[str, str]:
        # One thread per tesseract: the machine has few cores and other work to do.
        return dict(os.environ, OMP_THREAD_LIMIT="1")

    def _tesseract(self, image: Path, deadline_left: float) -> str:
        res = run_limited(self._offline([self.tesseract, str(image), "stdout", "-l", self.ocr_lang]),
                          max(deadline_left, 1), env=self._ocr_env(), what="nhận dạng chữ (OCR)")
        if res.returncode != 0:
            raise ConversionError("Không nhận dạng được chữ trong ảnh (Tesseract báo lỗi).")
        return res.stdout.decode("utf-8", "replace")

    def ocr_image(self, data: bytes, suffix: str = ".png") -> str:
        """Text of an image (png, jpeg, tiff incl. multi-page) via Tesseract."""
        if not self.has_ocr:
            raise ConversionError("Máy chủ chưa cài Tesseract với dữ liệu tiếng Việt nên không đọc được ảnh.")
        suffix = suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,5}", suffix or "") else ".png"
        with tempfile.TemporaryDirectory(prefix="tonghop-ocr-") as work:
            img = Path(work, "image" + suffix)
            img.write_bytes(data)
            return self._tesseract(img, self.ocr_timeout)

    def ocr_pdf(self, data: bytes, max_pages: int | None = None) -> str:
        """Text of a scanned PDF, pages separated by form feeds (see ocr_pdf_pages)."""
        return "\f".join(self.ocr_pdf_pages(data, max_pages)[0])

    def ocr_pdf_pages(self, data: bytes, max_pages: int | None = None) -> tuple[list[str], bool]:
        """Per-page text of a scanned PDF and whether every rendered page was read.

        Pages are rendered at OCR_DPI by pdftoppm and read by Tesseract. The whole call shares one
        time budget (ocr_timeout): when it runs out after at least one page, the pages read so far
        are returned with complete=False, so the caller can say the rest was not read.
        """
        if not self.has_ocr:
            raise ConversionError("Máy chủ chưa cài Tesseract với dữ liệu tiếng Việt nên không đọc được bản quét.")
        if not self.has_pdf_render:
            raise ConversionError("Máy chủ chưa cài pdftoppm (poppler-utils) nên không đọc được bản quét.")
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="tonghop-ocr-") as work:
            pdf = Path(work, "input.pdf")
            pdf.write_bytes(data)
            argv = [self.pdftoppm, "-r", str(OCR_DPI), "-gray", "-png"]
            if max_pages:
                argv += ["-f", "1", "-l", str(max_pages)]
            argv += [str(pdf), str(Path(work, "page"))]
            run_limited(self._offline(argv), self.ocr_timeout, what="dựng ảnh trang PDF")
            pages = sorted(Path(work).glob("page*.png"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))
            if not pages:
                raise ConversionError("Không dựng được ảnh các trang PDF để nhận dạng chữ.")
            texts: list[str] = []
            for page in pages:
                left = self.ocr_timeout - (time.monotonic() - start)
                try:
                    if left <= 1:
                        raise ConversionError(
                            f"Quá thời gian nhận dạng chữ (OCR) ({self.ocr_timeout:g} giây); cần người xem."
                        )
                    texts.append(self._tesseract(page, left))
                except ConversionError:
                    if texts:
                        return texts, False
                    raise
            return texts, True
