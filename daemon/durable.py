"""Writing files so that a crash or a power cut leaves either the old file or the whole new one:
a hidden temporary file in the same folder, fsync'd, renamed over the target, and the folder
fsync'd so the rename itself is on disk. Used for the raw archive, .eml outboxes, drafts and
the tracking workbook.

Everything written here is private to the service's account whatever the umask: files 0600,
folders 0700 (official mail and the units' reports are not for other users of the machine)."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Callable

FILE_MODE, DIR_MODE = 0o600, 0o700
TMP_PREFIX, TMP_SUFFIX = ".tmp-", ".part"
# A temporary file older than this is a leftover of a killed process (SIGKILL, power cut): no
# write of a draft, a workbook or an archived message takes this long.
LEFTOVER_SECONDS = 15 * 60


def private_dir(path: Path) -> Path:
    """Create path and its missing parents as 0700 folders (mkdir's mode is cut by the umask and
    parents=True ignores it for the parents, so each new folder is chmod'ed)."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by another process: its mode is its own
        os.chmod(folder, DIR_MODE)
    return path


def clean_leftovers(root: Path, *, now: float | None = None) -> list[Path]:
    """Delete the temporary files (.tmp-*.part) that a process killed mid-write left under root,
    those not touched for LEFTOVER_SECONDS (a live writer's file is younger). Returns them."""
    now = time.time() if now is None else now
    removed = []
    for path in Path(root).rglob(f"{TMP_PREFIX}*{TMP_SUFFIX}"):
        try:
            if path.is_file() and now - path.stat().st_mtime > LEFTOVER_SECONDS:
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed


def fsync_path(path: Path) -> None:
    """fsync a file or a directory by its path: a file's bytes written earlier with sync=False,
    or a directory after a rename in it (the entry itself must reach the disk)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


fsync_dir = fsync_file = fsync_path  # the two names callers use say which of the two they make durable


def write_with(target: Path, write: Callable[[Path], None]) -> None:
    """Let `write` fill a temporary path (libraries that save to a path: python-docx, openpyxl),
    then put it in place. Readers of the folder never see a half-written file: the temporary
    name is hidden and has no final extension."""
    target = Path(target)
    private_dir(target.parent)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TMP_PREFIX, suffix=TMP_SUFFIX)
    try:
        os.fchmod(fd, FILE_MODE)  # mkstemp's 0600 is cut by the umask too
    finally:
        os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as fh:
            os.fchmod(fh.fileno(), FILE_MODE)  # a library that saved by replacing the file
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def write_bytes(target: Path, data: bytes, *, sync: bool = True) -> None:
    """write_with for bytes, in one open of the temporary file. sync=False: renamed into place
    without an fsync of the file or its folder; the caller fsyncs both (fsync_file, fsync_dir)
    before anything depends on them surviving a power cut (store.Archive.sync)."""
    target = Path(target)
    private_dir(target.parent)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TMP_PREFIX, suffix=TMP_SUFFIX)
    try:
        try:
            os.fchmod(fd, FILE_MODE)  # mkstemp's 0600 is cut by the umask too
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if sync:
        fsync_dir(target.parent)


def syncfs(path: Path) -> bool:
    """Make everything written to the file system holding `path` durable, in one call (Linux
    syncfs(2): its journal written once, one flush of the disk cache), where an fsync per file and
    per folder each flushes the disk cache: ~3 ms apiece on this machine's disk, 40 per batch of
    20 archived messages (bench/backlog.py, issue 17). False where the call does not exist (the
    caller then fsyncs each file); OSError when the file system reports a failed write."""
    import ctypes

    try:
        call = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        if call(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), str(path))
    finally:
        os.close(fd)
    return True


def save_in_memory(target: Path, save: Callable) -> None:
    """`save` (python-docx's or openpyxl's) into memory, then the bytes to `target`: a library
    saving straight to a file on a full disk leaves a half-closed ZipFile whose garbage collection
    prints an English traceback; here the only write to the disk is one plain write_bytes, whose
    OSError the caller reports in words ("ổ đĩa đã đầy")."""
    import io

    buffer = io.BytesIO()
    save(buffer)
    Path(target).write_bytes(buffer.getvalue())
