"""Shared plumbing of the service benchmarks (latency, backlog, memory): the machine line, the real
servers, realistic mail, and the daemon as a child process whose steps can be timed.

The servers are the test suite's own (tests/servers.py): a private Dovecot on loopback and an
aiosmtpd sink. The daemon is the real command line (`python -m daemon.cli ... run`), started
through bench/_probe.py when a benchmark needs to know where the time goes inside it.
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from daemon.config_toml import load_config  # noqa: E402
from tonghop_demo import samples  # noqa: E402
from servers import Dovecot, ImapAccount, SmtpSink  # noqa: E402
from service import EXAMPLE, PASSWORD_ENV, make_config  # noqa: E402

ICT = dt.timezone(dt.timedelta(hours=7))
OFFICE = "phongnoivu@thapmuoi.example"
PROBE = Path(__file__).resolve().parent / "_probe.py"
CONFIG = load_config(EXAMPLE)
CAMPAIGN = CONFIG.campaign("dan-van")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
ZIP = "application/zip"
DOC = "application/msword"


# --- the machine ------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def machine() -> str:
    return (f"machine: {platform.platform()}; python {platform.python_version()}; "
            f"{os.cpu_count()} cpu ({cpu_model()}); load {os.getloadavg()[0]:.2f}; "
            f"{dt.datetime.now().astimezone().isoformat(timespec='seconds')}")


def dovecot_version() -> str:
    try:
        out = subprocess.run([shutil.which("dovecot") or "/usr/sbin/dovecot", "--version"],
                             capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        return out.split()[0] if out else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


# --- servers ----------------------------------------------------------------------------------


def tuned_dovecot(settings: tuple[str, ...] = ()) -> Dovecot:
    """The test Dovecot, with extra lines appended to its configuration (e.g. a setting under
    study, "mailbox_idle_check_interval = 1 secs")."""
    if not settings:
        return Dovecot()

    class Tuned(Dovecot):
        def _config(self) -> str:
            return super()._config() + "".join(f"{line}\n" for line in settings)

    return Tuned()


@contextmanager
def mail_servers(smtp: bool = True, dovecot_settings: tuple[str, ...] = ()) -> Iterator[tuple[ImapAccount, SmtpSink | None]]:
    """A private Dovecot with one fresh user, and an SMTP sink; both stopped on exit."""
    dovecot = tuned_dovecot(dovecot_settings)
    sink = SmtpSink() if smtp else None
    try:
        dovecot.start()
        user, password = dovecot.new_user()
        if sink is not None:
            sink.start()
        yield ImapAccount(dovecot, user, password), sink
    finally:
        if sink is not None:
            sink.stop()
        dovecot.close()


def append_all(account: ImapAccount, mails: list[tuple[bytes, dt.datetime]], folder: str = "INBOX") -> None:
    """APPEND many messages over one connection (ImapAccount.append logs in for each)."""
    client = account.client()
    try:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for raw, when in mails:
            client.append(folder, raw, msg_time=when)
    finally:
        client.logout()


def service_config(target: Path, account: ImapAccount, sink: SmtpSink | None, **settings: str) -> Path:
    """The example configuration pointed at these servers. The daily cap per address is lifted:
    a benchmark sends one unit far more acknowledgements a day than the office's default allows,
    and a capped acknowledgement is deferred to midnight instead of being delivered."""
    smtp_url = f"smtp://{sink.host}:{sink.port}" if sink else None
    settings.setdefault("max_per_address_per_day", "1000000")
    os.environ[PASSWORD_ENV] = account.password  # so that load_config() works in this process too
    return make_config(target, account.url(), smtp_url, **settings)


# --- the daemon as a child ----------------------------------------------------------------------


@dataclass
class Child:
    """A finished child: exit code, wall seconds, CPU seconds (user + system, from wait4)."""

    code: int
    seconds: float
    log: str
    cpu_seconds: float


def daemon_argv(config: Path, *args: str, now: str | None = None, events: Path | None = None,
                profile: Path | None = None) -> list[str]:
    """`python -m daemon.cli --config DIR [--now TS] ARGS`, through the probe when events are
    wanted, under cProfile (writing to `profile`) when asked."""
    head = [sys.executable] + (["-m", "cProfile", "-o", str(profile)] if profile else [])
    head += [str(PROBE), str(events)] if events else ["-m", "daemon.cli"]
    return head + ["--config", str(config)] + (["--now", now] if now else []) + list(args)


def daemon_env(account: ImapAccount) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env[PASSWORD_ENV] = account.password
    return env


def start_daemon(config: Path, account: ImapAccount, *args: str, now: str | None = None,
                 events: Path | None = None, profile: Path | None = None) -> subprocess.Popen:
    log = open(config.parent / "daemon.log", "ab")
    try:
        return subprocess.Popen(daemon_argv(config, *args, now=now, events=events, profile=profile), cwd=ROOT,
                                env=daemon_env(account), stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def reap(proc: subprocess.Popen, started: float, timeout: float = 900) -> Child:
    """Wait for proc with wait4, so that its own CPU time is known (not the sum of all children)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.005)
    seconds = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    log_path = Path(proc.args[proc.args.index("--config") + 1]).parent / "daemon.log"
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    return Child(proc.returncode, seconds, log, usage.ru_utime + usage.ru_stime)


def run_once(config: Path, account: ImapAccount, *, now: str | None = None, events: Path | None = None,
             profile: Path | None = None) -> Child:
    started = time.monotonic()
    proc = start_daemon(config, account, "run", "--once", now=now, events=events, profile=profile)
    return reap(proc, started)


@dataclass(frozen=True)
class Event:
    name: str
    at: float  # time.monotonic() in the daemon: the same clock as this process's
    cpu: float  # the daemon's time.process_time()
    detail: str


def read_events(path: Path) -> list[Event]:
    """The lines written by bench/_probe.py."""
    out = []
    if path.exists():
        for line in path.read_text().splitlines():
            name, when, cpu, *rest = line.split(" ", 3)
            out.append(Event(name, float(when), float(cpu), rest[0] if rest else ""))
    return out


def peak_rss_mb(events: list[Event]) -> float:
    """The daemon's own peak RSS (VmHWM at exit, reported by bench/_probe.py), in MB (MiB)."""
    found = [e for e in events if e.name == "peak-rss"]
    return int(found[-1].detail) / 1024 if found else float("nan")


def reader_peak_rss_mb(events: list[Event]) -> float:
    """The read-ahead reader's peak RSS (daemon/intake/read_ahead.py), in MB; 0 when none ran."""
    return max((int(e.detail or 0) / 1024 for e in events if e.name == "reader-close-end"), default=0.0)


def phase_seconds(events: list[Event], name: str, cpu: bool = False) -> float:
    """Total wall (or CPU) seconds between each NAME-begin and the NAME-end that follows it."""
    total, begun = 0.0, None
    for e in events:
        if e.name == f"{name}-begin":
            begun = e
        elif e.name == f"{name}-end" and begun is not None:
            total += (e.cpu - begun.cpu) if cpu else (e.at - begun.at)
            begun = None
    return total


# --- realistic mail -----------------------------------------------------------------------------


def units() -> list:
    """The campaign's units, as configured (28 in the example of Tháp Mười)."""
    return [CONFIG.unit(uid) for uid in CAMPAIGN.unit_ids]


@dataclass(frozen=True)
class Doc:
    unit_id: str
    filename: str
    data: bytes
    ctype: str


def _soffice_convert(docs: list[tuple[str, bytes]], target: str) -> dict[str, bytes]:
    """Convert several files in one LibreOffice run (one start-up for all)."""
    work = Path(tempfile.mkdtemp(prefix="tonghop-bench-lo-"))
    try:
        for name, data in docs:
            (work / name).write_bytes(data)
        profile = work / "profile"
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                        "--convert-to", target, "--outdir", str(work / "out")] + [str(work / n) for n, _ in docs],
                       capture_output=True, timeout=600, check=False)
        suffix = "." + target.split(":")[0]
        return {name: (work / "out" / (Path(name).stem + suffix)).read_bytes()
                for name, _ in docs if (work / "out" / (Path(name).stem + suffix)).exists()}
    finally:
        shutil.rmtree(work, ignore_errors=True)


@functools.lru_cache(maxsize=4)  # one set per process for the same arguments (the smoke test runs all three)
def document_pool(docx_count: int = 36, pdf_count: int = 6, doc_count: int = 0) -> dict[str, list[Doc]]:
    """A few dozen generated documents to reuse across messages, by kind:
    - "docx": reports (BC) and plans (KH) of the campaign's units, the three header layouts;
    - "xlsx": the campaign's figures form filled in by a unit;
    - "pdf": some of those reports exported to PDF by LibreOffice (a text layer, as units send);
    - "doc": some exported to Word 97 (.doc), which tonghop reads through LibreOffice.
    Each document belongs to one unit: a message that carries it comes from that unit."""
    pool: dict[str, list[Doc]] = {"docx": [], "xlsx": [], "pdf": [], "doc": []}
    us = units()
    headers = ("table", "paragraphs", "stacked")
    for i in range(docx_count):
        unit = us[i % len(us)]
        kind = "BC" if (i // len(us)) % 2 == 0 else "KH"
        data = samples.report_docx(samples.sample_unit(unit), 2024, kind=kind, header=headers[i % 3])
        word = "Báo cáo" if kind == "BC" else "Kế hoạch"
        pool["docx"].append(Doc(unit.id, f"{word} công tác dân vận năm 2024 - {unit.name}.docx", data, DOCX))
    for i, unit in enumerate(us[:8]):
        values = {ind.code: (i + 1) * (k + 3) for k, ind in enumerate(samples.DAN_VAN_INDICATORS)}
        pool["xlsx"].append(Doc(unit.id, f"Biểu số liệu dân vận 2024 - {unit.name}.xlsx",
                                samples.form_xlsx(values=values, unit_name=unit.name), XLSX))
    for count, kind, target, ctype in ((pdf_count, "pdf", "pdf", PDF), (doc_count, "doc", "doc:MS Word 97", DOC)):
        chosen = [d for d in pool["docx"]][:count]
        if not chosen:
            continue
        names = {f"d{k}.docx": d for k, d in enumerate(chosen)}
        converted = _soffice_convert([(n, d.data) for n, d in names.items()], target)
        for name, data in converted.items():
            d = names[name]
            pool[kind].append(Doc(d.unit_id, d.filename[:-5] + "." + kind, data, ctype))
    return pool


def _zipped(docs: list[Doc]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for d in docs:
            z.writestr(d.filename, d.data)
    return out.getvalue()


def mix_for(i: int, pool: dict[str, list[Doc]]) -> list[Doc]:
    """The attachments of message i, a mix like the office's mailbox: mostly one .docx report or
    plan; some with the figures form (.xlsx); some PDF; some plan and report together; a zip now
    and then; a Word 97 .doc when the pool has them (one in 25)."""
    docx = pool["docx"]
    first = docx[i % len(docx)]
    same_unit = [d for d in docx if d.unit_id == first.unit_id and d is not first]
    slot = i % 20
    if pool["doc"] and i % 25 == 12:
        return [next((d for d in pool["doc"] if d.unit_id == first.unit_id), pool["doc"][i % len(pool["doc"])])]
    if slot in (3, 13, 17) and pool["pdf"]:
        return [pool["pdf"][i % len(pool["pdf"])]]
    if slot in (5, 15, 9):
        form = next((x for x in pool["xlsx"] if x.unit_id == first.unit_id), None)
        return [first] + ([form] if form else [])
    if slot == 7 and same_unit:
        return [first, same_unit[0]]
    if slot == 11:
        name = first.filename.rsplit(".", 1)[0] + ".zip"
        return [Doc(first.unit_id, name, _zipped([first] + same_unit[:1]), ZIP)]
    return [first]


def unit_message(i: int, docs: list[Doc], sent: dt.datetime) -> bytes:
    """Message i from the unit the documents belong to; unique by its Message-ID, Date and subject."""
    unit = CONFIG.unit(docs[0].unit_id)
    files = [(d.filename, d.data, d.ctype) for d in docs]
    subject = f"{unit.name} gửi văn bản công tác dân vận năm 2024 (lần {i + 1})"
    body = (f"Kính gửi Phòng Nội vụ huyện Tháp Mười,\n\n{unit.name} gửi kèm văn bản về công tác dân "
            f"vận năm 2024 để tổng hợp.\n\nTrân trọng.\nVăn thư {unit.name}\n")
    return samples.unit_mail(unit.emails[0], OFFICE, subject, body, sent, files)


def backlog(n: int, pool: dict[str, list[Doc]], start: dt.datetime) -> list[tuple[bytes, dt.datetime]]:
    """n unit messages with arrival times a few minutes apart from start."""
    out = []
    for i in range(n):
        when = start + dt.timedelta(minutes=7 * i)
        out.append((unit_message(i, mix_for(i, pool), when - dt.timedelta(seconds=40)), when))
    return out


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 100)) - 1))
    return ordered[k]
