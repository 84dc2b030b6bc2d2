"""Writing files so that a crash or a power cut leaves either the old file or the whole new one:
a hidden temporary file in the same folder, fsync'd, renamed over the target, and the folder
fsync'd so the rename itself is on disk. Used for the raw archive, .eml outboxes, drafts and
the tracking workbook."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def fsync_dir(path: Path) -> None:
    """Make a rename durable: the directory entry itself must reach the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_with(target: Path, write: Callable[[Path], None]) -> None:
    """Let `write` fill a temporary path (libraries that save to a path: python-docx, openpyxl),
    then put it in place. Readers of the folder never see a half-written file: the temporary
    name is hidden and has no final extension."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def write_bytes(target: Path, data: bytes) -> None:
    write_with(target, lambda path: path.write_bytes(data))


def save_in_memory(target: Path, save: Callable) -> None:
    """`save` (python-docx's or openpyxl's) into memory, then the bytes to `target`: a library
    saving straight to a file on a full disk leaves a half-closed ZipFile whose garbage collection
    prints an English traceback; here the only write to the disk is one plain write_bytes, whose
    OSError the caller reports in words ("ổ đĩa đã đầy")."""
    import io

    buffer = io.BytesIO()
    save(buffer)
    Path(target).write_bytes(buffer.getvalue())
