#!/usr/bin/env python3
"""Coverage-guided fuzzing of the two readers every incoming mail goes through, with atheris
(libFuzzer for Python). Not a test and not a dependency: tests/test_fuzz.py runs the bounded
hypothesis version in CI. To run it:

    .venv/bin/pip install atheris
    .venv/bin/python scripts/fuzz_atheris.py message  -max_total_time=300 -timeout=10 fuzz-out/message
    .venv/bin/python scripts/fuzz_atheris.py document -max_total_time=300 -timeout=10 fuzz-out/document

The last argument is the corpus folder (created and seeded with realistic mail or documents).
What counts as a finding: an exception that reaches the catch-all of parse_message or
read_document (the contract's last resort: the mail is still recorded, with an "unexpected error"
problem, but a reader met something it did not handle itself). The targets call the readers
without that catch-all, print each distinct exception (type and line) once with its traceback,
keep its input in findings/ and go on; libFuzzer itself saves timeout-* inputs (-timeout).
"""
from __future__ import annotations

import sys
import traceback
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

with atheris.instrument_imports(include=["parsers"]):
    from parsers.convert import Converter
    from parsers.document import _read
    from parsers.message import _parse_message
    from parsers.model import Attachment, Limits
    from parsers.sniff import sniff

NO_TOOLS = Converter.without_programs()
KINDS = ["docx", "xlsx", "pdf", "doc", "xls", "zip", "eml", "rtf", "html", "odt"]
FINDINGS = Path("findings")
_seen: dict[tuple[str, str], int] = {}


def _record(exc: BaseException, data: bytes) -> None:
    """Keep one input per distinct (exception, deepest line in parsers/) and go on fuzzing."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/parsers/" in f.filename] or \
        traceback.extract_tb(exc.__traceback__)[-1:]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    key = (type(exc).__name__, where)
    _seen[key] = _seen.get(key, 0) + 1
    if _seen[key] > 1:
        return
    FINDINGS.mkdir(exist_ok=True)
    path = FINDINGS / f"{key[0]}-{where.replace(':', '-')}.bin"
    path.write_bytes(data)
    print(f"\n=== finding {len(_seen)}: {key[0]} at {where} ({exc}); input in {path}", flush=True)
    traceback.print_exception(exc, limit=-6)


def message_target(data: bytes) -> None:
    # The internal entry, without parse_message's catch-all, so that the traceback is kept.
    try:
        _parse_message(data, Limits())
    except Exception as exc:  # noqa: BLE001 - every exception is a finding
        _record(exc, data)


def document_target(data: bytes) -> None:
    # The first byte picks the file name's extension, the rest is the file.
    if not data:
        return
    att = Attachment(filename="bao-cao." + KINDS[data[0] % len(KINDS)], content_type="", data=data[1:])
    try:  # read_document without its catch-all
        _read(att, sniff(att.data, att.filename), Limits(), NO_TOOLS)
    except Exception as exc:  # noqa: BLE001
        _record(exc, data)


def seed(target: str, folder: Path) -> None:
    """Realistic inputs to start from (the same seeds as tests/test_fuzz.py)."""
    import test_fuzz as T

    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        return
    if target == "message":
        for i, raw in enumerate(T.MAILS):
            (folder / f"seed-{i}.eml").write_bytes(raw)
    else:
        for kind, data in T.FILES.items():
            (folder / f"seed-{kind}").write_bytes(bytes([KINDS.index(kind)]) + data)


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] not in ("message", "document"):
        sys.exit(__doc__)
    target = sys.argv[1]
    print(f"fuzzing {target}; distinct findings are printed and kept in {FINDINGS.resolve()}", flush=True)
    seed(target, Path(sys.argv[-1]))
    atheris.Setup([sys.argv[0], *sys.argv[2:]], message_target if target == "message" else document_target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
