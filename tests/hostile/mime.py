"""Hostile or broken MIME, written byte by byte: a 1 MB header, a multipart without its boundary
and with broken base64, parts nested thousands deep, and a flood of tiny parts."""
from __future__ import annotations

from corpus import OFFICE

SENDER = "ubnd.myhoa@thapmuoi.example"


def huge_header(sender: str = "nguoi.la@gmail.example") -> bytes:
    """A stranger's mail with a 1 MB header line (and a 100 KB folded Subject)."""
    return (f"From: {sender}\r\nTo: {OFFICE}\r\nMessage-ID: <huge-header@gmail.example>\r\n".encode()
            + b"X-Junk: " + b"a" * (1 << 20) + b"\r\n"
            + b"Subject: " + b"\r\n ".join([b"bao cao"] * 12_000) + b"\r\n"
            + b"Content-Type: text/plain; charset=utf-8\r\n\r\nGui bao cao.\r\n")


def broken_multipart(sender: str = SENDER) -> bytes:
    """multipart/mixed whose boundary never appears, then a part with broken base64."""
    return (f"From: {sender}\r\nTo: {OFFICE}\r\nSubject: Bao cao\r\nMessage-ID: <broken-mime@x.example>\r\n"
            'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="KHONG-CO"\r\n\r\n'
            "--SAI-RANH-GIOI\r\nContent-Type: application/pdf; name=bc.pdf\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%%%% khong phai base64 ====\r\n").encode()


def deep_nesting(depth: int = 5000, sender: str = SENDER) -> bytes:
    """multipart/mixed inside multipart/mixed, depth levels, a file at the bottom."""
    head = f"From: {sender}\r\nTo: {OFFICE}\r\nSubject: long nhau\r\nMessage-ID: <deep-mime@x.example>\r\nMIME-Version: 1.0\r\n"
    parts = [f'Content-Type: multipart/mixed; boundary="b{k}"\r\n\r\n--b{k}\r\n' for k in range(depth)]
    bottom = "Content-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nday\r\n"
    tail = "".join(f"--b{k}--\r\n" for k in reversed(range(depth)))
    return (head + "".join(parts) + bottom + tail).encode()


def part_flood(parts: int = 50_000, sender: str = SENDER) -> bytes:
    """50,000 tiny attachments in one message."""
    head = (f"From: {sender}\r\nTo: {OFFICE}\r\nSubject: nhieu tep\r\nMessage-ID: <flood@x.example>\r\n"
            'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="f"\r\n\r\n')
    one = "--f\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=t.bin\r\n\r\nx\r\n"
    return (head + one * parts + "--f--\r\n").encode()
