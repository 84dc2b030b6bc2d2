"""Helpers to run the real daemon against the test servers: a config folder pointing at them,
and the daemon as a child process (so it can be killed for real)."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "config"
PASSWORD_ENV = "TONGHOP_TEST_IMAP_PASSWORD"


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.1, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def make_config(target: Path, mailbox_url: str, smtp_url: str | None = None, **settings: str) -> Path:
    """Copy the example config to target and point it at the given mailbox and SMTP server."""
    cfg = target / "config"
    shutil.copytree(EXAMPLE, cfg)
    shutil.copytree(EXAMPLE.parent / "templates", target / "templates")
    text = (cfg / "settings.toml").read_text(encoding="utf-8")
    mailbox_lines = f'url = "{mailbox_url}"'
    if not mailbox_url.startswith("maildir:"):
        mailbox_lines += f'\npassword_env = "{PASSWORD_ENV}"'
    text = text.replace('url = "maildir:../var/maildir"', mailbox_lines)
    if smtp_url:
        text = text.replace('url = "dir:../var/outbox"', f'url = "{smtp_url}"')
    for key, value in settings.items():  # e.g. poll_seconds="1"
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert n, key
    (cfg / "settings.toml").write_text(text, encoding="utf-8")
    return cfg


class Daemon:
    """`tonghop run` as a child process."""

    def __init__(self, config: Path, password: str | None = None, *, now: str | None = None, env: dict | None = None):
        self.config, self.password, self.now, self.extra_env = config, password, now, env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = config.parent / "daemon.log"

    def command(self, *args: str) -> list[str]:
        base = [sys.executable, "-m", "daemon.cli", "--config", str(self.config)]
        if self.now:
            base += ["--now", self.now]
        return base + list(args)

    def env(self) -> dict:
        env = dict(os.environ, **self.extra_env)
        if self.password is not None:
            env[PASSWORD_ENV] = self.password
        return env

    def start(self, **extra_env: str) -> "Daemon":
        env = dict(self.env(), **extra_env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command("run"), env=env, stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def wait(self, timeout: float = 30) -> int:
        return self.proc.wait(timeout)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait(5)
        return self.proc.returncode if self.proc else None

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(self.command(*args), env=self.env(), capture_output=True, text=True, timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(f"{args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def messages(self) -> list[dict]:
        return json.loads(self.run("messages", "--json").stdout)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
