"""Reading a text file an admin edits (settings.toml, units.toml, campaigns/*.toml, password files,
mail templates): UTF-8, with or without the byte-order mark Windows Notepad writes; any other
encoding (UTF-16, Windows-1258, TCVN3) is named in Vietnamese instead of a traceback or a parser
complaining about "line 1, column 1"."""
from __future__ import annotations

from pathlib import Path

UTF8_BOM = b"\xef\xbb\xbf"


class EncodingProblem(ValueError):
    """str(error) says, in Vietnamese, what is wrong with the file's encoding and how to fix it."""


def decode_text(data: bytes) -> str:
    """The text of a file's bytes: UTF-8, a leading BOM dropped; EncodingProblem otherwise."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise EncodingProblem("tệp được lưu bằng mã UTF-16 (Unicode), không phải UTF-8; "
                              "hãy mở tệp và lưu lại với mã UTF-8")
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EncodingProblem(f"tệp không phải mã UTF-8 (gặp byte lạ ở dòng {line}; có thể tệp được lưu bằng mã "
                              "Windows-1258 hay TCVN3); hãy mở tệp và lưu lại với mã UTF-8") from None


def read_text(path: str | Path) -> str:
    """decode_text of a file on disk (OSError as open() raises it)."""
    return decode_text(Path(path).read_bytes())
