#!/usr/bin/env python3
"""Start-up: how long the short commands take from exec to exit (issue 17: `tonghop --help` and
`status` under 0.3 s), against the floor of the same interpreter starting and doing nothing.

Usage: python bench/startup.py [--rounds 15] [--dir DIR]
Not a test: it prints figures and never fails on speed.

Set-up (not timed): `tonghop demo --dir DIR` (the sample units' mail recorded in a ledger), then
one `status` so that the form's indicators are in STORAGE/cache as after any first command.
Timed, in turns, --rounds times each (medians): the venv's `tonghop` entry point with --help,
--version, status, status --json, messages --json and check-config; the floors are the same
interpreter running `pass` and `import sqlite3`. The table also says which heavy libraries each
command loaded (none should: they belong to the commands that read mail or files).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _servers as S  # noqa: E402

NOW = "2024-10-24T08:05:00+07:00"
TARGET = 0.3
HEAVY = ("imapclient", "openpyxl", "docx", "lxml", "pypdf", "holidays.countries", "jinja2")


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def heavy_loaded(args: list[str]) -> list[str]:
    code = ("import sys, runpy\n"
            f"sys.argv = ['tonghop', *{args!r}]\n"
            "try:\n    runpy.run_module('daemon.cli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "sys.stderr.write('@@' + ' '.join(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    mods = out.stderr.rsplit("@@", 1)[-1].split()
    return sorted({h for h in HEAVY for m in mods if m == h or m.startswith(h + ".")})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--dir", help="folder for the demo (default: a temporary one)")
    a = ap.parse_args()
    print(S.machine())
    work = Path(a.dir) if a.dir else Path(tempfile.mkdtemp(prefix="tonghop-startup-"))
    exe = str(Path(sys.executable).with_name("tonghop"))
    subprocess.run([exe, "demo", "--dir", str(work)], stdout=subprocess.DEVNULL, check=True)
    cfg = ["--config", str(work / "config"), "--now", NOW]
    commands = {
        "tonghop --help": [exe, "--help"],
        "tonghop --version": [exe, "--version"],
        "tonghop status": [exe, *cfg, "status"],
        "tonghop status --json": [exe, *cfg, "status", "--json"],
        "tonghop messages --json": [exe, *cfg, "messages", "--json"],
        "tonghop check-config": [exe, *cfg, "check-config"],
    }
    floors = {"python -c pass": [sys.executable, "-c", "pass"],
              "python -c 'import sqlite3'": [sys.executable, "-c", "import sqlite3"]}
    timed(commands["tonghop status"])  # the first command after the demo fills the form cache
    times: dict[str, list[float]] = {name: [] for name in [*floors, *commands]}
    for _ in range(a.rounds):
        for name, cmd in [*floors.items(), *commands.items()]:
            times[name].append(timed(cmd))
    floor = statistics.median(times["python -c pass"])
    print(f"\n{a.rounds} rounds, medians; target {TARGET:.2f} s for --help and status\n")
    print(f"| {'lệnh':<32} | giây (trung vị) | nhanh nhất | so với mức sàn | thư viện nặng đã nạp |")
    print(f"|{'-' * 34}|---:|---:|---:|---|")
    for name in [*floors, *commands]:
        med, best = statistics.median(times[name]), min(times[name])
        loaded = "" if name in floors else (", ".join(heavy_loaded(commands[name][1:])) or "không")
        print(f"| {name:<32} | {med:.3f} | {best:.3f} | {med / floor:.1f}x | {loaded} |")


if __name__ == "__main__":
    main()
