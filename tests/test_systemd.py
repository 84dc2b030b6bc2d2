"""tonghop under systemd: the unit files' options, their `systemd-analyze security` score, the
sd_notify datagrams a real `tonghop run` sends (READY, STATUS, WATCHDOG, RELOADING, STOPPING) and
its log lines in journald's form (a syslog priority on every line, no timestamp).

This machine's PID 1 is not systemd, so the service is not run under systemd itself: the test plays
systemd's part with a real notify socket and a real journal stream (a file whose dev:ino is in
JOURNAL_STREAM), which is all the service sees of it."""
from __future__ import annotations

import io
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from daemon import logs
from daemon.systemd import Notifier
from service import Daemon, make_config, wait_until

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNITS = sorted(DEPLOY.glob("*.service"))

HARDENING = {
    "NoNewPrivileges": "true", "ProtectSystem": "strict", "ProtectHome": "true", "PrivateTmp": "true",
    "PrivateDevices": "true", "ProtectKernelTunables": "true", "ProtectKernelModules": "true",
    "ProtectKernelLogs": "true", "ProtectControlGroups": "true", "ProtectClock": "true",
    "ProtectHostname": "true", "RestrictRealtime": "true", "RestrictSUIDSGID": "true",
    "LockPersonality": "true", "SystemCallArchitectures": "native", "UMask": "0077",
    "CapabilityBoundingSet": "",
}


def unit_options(path: Path) -> dict[str, list[str]]:
    """key -> every value given in [Service] (systemd allows a key more than once)."""
    options: dict[str, list[str]] = {}
    section = None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, _, value = line.partition("=")
            options.setdefault(key.strip(), []).append(value.strip())
    return options


def test_the_units_are_there():
    assert DEPLOY / "tonghop.service" in UNITS


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_is_hardened_and_does_not_retry_a_bad_config(unit):
    opts = unit_options(unit)
    for key, value in HARDENING.items():
        assert opts.get(key) == [value], f"{unit.name}: {key}={value}"
    assert "@system-service" in opts["SystemCallFilter"]
    assert set(opts["RestrictAddressFamilies"][0].split()) <= {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert "2" in opts["RestartPreventExitStatus"][0].split()  # exit 2: bad config, restarting cannot help
    assert opts["StateDirectory"] == ["tonghop"] and opts["ConfigurationDirectory"] == ["tonghop"]


def test_daemon_unit_tells_systemd_when_it_is_ready_and_alive():
    opts = unit_options(DEPLOY / "tonghop.service")
    assert opts["Type"] == ["notify"] and opts["NotifyAccess"] == ["main"]
    assert int(opts["WatchdogSec"][0]) >= 60
    assert opts["ExecStart"][0].endswith("tonghop run")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is part of systemd, "
                    "installed with Debian's base system; without it there is no score to compute")
@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_security_exposure_at_most_2(unit):
    out = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(unit)],
                         capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for \S+: ([\d.]+)", out.stdout + out.stderr)
    assert found, out.stdout + out.stderr
    assert float(found.group(1)) <= 2.0, out.stdout


# --- the notify protocol ---------------------------------------------------------------------------


def receive(sock: socket.socket, want: str, timeout: float = 30.0) -> list[str]:
    """Datagrams until one has the field `want`; returns all fields seen."""
    seen: list[str] = []
    sock.settimeout(timeout)
    while True:
        fields = sock.recv(4096).decode().split("\n")
        seen += fields
        if want in fields or any(f.startswith(want) for f in fields):
            return seen


def test_notifier_outside_systemd_is_silent():
    n = Notifier(environ={})
    n.ready("x"), n.status("y"), n.watchdog(), n.stopping()
    assert not n.active


def test_watchdog_is_rate_limited_and_only_for_our_pid(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "n.sock"))
    clock = iter([0.0, 0.1, 0.2, 2.0])
    n = Notifier(environ={"NOTIFY_SOCKET": str(tmp_path / "n.sock"), "WATCHDOG_USEC": "3000000"},
                 monotonic=lambda: next(clock))
    for _ in range(4):
        n.watchdog()
    sock.settimeout(0.5)
    assert [sock.recv(100), sock.recv(100)] == [b"WATCHDOG=1", b"WATCHDOG=1"]  # at 0.0 and 2.0 only
    with pytest.raises(socket.timeout):
        sock.recv(100)
    other = Notifier(environ={"NOTIFY_SOCKET": "x", "WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "1"})
    assert other.watchdog_every is None  # the watchdog is for another process


def test_run_speaks_sd_notify_and_logs_for_journald(tmp_path):
    cfg = make_config(tmp_path, "maildir:../var/maildir", poll_seconds="1")
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    daemon = Daemon(cfg)
    daemon.log_path.touch()
    st = os.stat(daemon.log_path)
    daemon.start(NOTIFY_SOCKET=str(path), WATCHDOG_USEC="900000", JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
    try:
        fields = receive(sock, "READY=1")
        status = next(f for f in fields if f.startswith("STATUS="))
        assert "Đang theo dõi" in status, fields
        receive(sock, "WATCHDOG=1", timeout=5)
        receive(sock, "WATCHDOG=1", timeout=5)  # and again: it pings while waiting for mail

        # A broken config on reload: RELOADING=1, an error line for `journalctl -p err`, still running.
        (cfg / "settings.toml").write_text("[office\n", encoding="utf-8")
        daemon.signal(signal.SIGHUP)
        receive(sock, "RELOADING=1", timeout=10)
        receive(sock, "READY=1", timeout=10)
        wait_until(lambda: "<3>" in daemon.log_text(), what="an error line")
    finally:
        code = daemon.stop()
    assert "STOPPING=1" in receive(sock, "STOPPING=1", timeout=5)
    assert code == 0
    lines = [line for line in daemon.log_text().splitlines() if line]
    assert lines and all(re.match(r"<[2-7]>", line) for line in lines), lines
    assert not any(re.match(r"<\d>\d{4}-\d\d-\d\d", line) for line in lines)  # journald adds the time
    errors = [line for line in lines if line.startswith("<3>")]
    assert any("Cấu hình mới có lỗi" in line for line in errors), errors
    assert any(line.startswith("<6>Đang theo dõi") for line in lines), lines


def test_terminal_log_has_time_and_vietnamese_level_and_every_traceback_line_prefixed():
    buf = io.StringIO()
    logs.setup(logging.INFO, stream=buf, environ={})
    logging.getLogger("tonghop").error("hộp thư lỗi")
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d LỖI hộp thư lỗi", buf.getvalue())

    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logs.JournalFormatter("%(message)s"))
    try:
        raise ValueError("hỏng")
    except ValueError:
        record = logging.LogRecord("tonghop", logging.ERROR, __file__, 1, "việc lỗi", None, __import__("sys").exc_info())
    text = handler.format(record)
    assert text.count("\n") >= 2 and all(line.startswith("<3>") for line in text.splitlines())
    logging.getLogger().handlers.clear()
