"""The web desk's tests share this: a ledger filled by the real demo (real mail through the real
Runner: recorded, review, ignored messages, acknowledgements and reminders, two draft versions)
and two accounts written by the same code as `tonghop web --set-password`."""
from __future__ import annotations

import re
from pathlib import Path

from daemon.clock import Clock
from daemon.web.accounts import hash_password, set_password
from tonghop_demo import run as demo

PASSWORDS = {"hoa": "mat-khau-can-bo", "lanhdao": "mat-khau-lanh-dao"}


def demo_desk(folder: Path):
    """(config, clock, demo result) with the demo's ledger and both accounts given passwords."""
    result = demo.run(folder, echo=lambda *_: None)
    config = result.config
    for name, password in PASSWORDS.items():
        set_password(config.web.accounts_file, name, hash_password(password, n=2 ** 10))
    return config, Clock(result.now), result


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def log_in(client, name: str, password: str | None = None):
    token = csrf_of(client.get("/dang-nhap").get_data(as_text=True))
    return client.post("/dang-nhap", data={"csrf": token, "name": name, "password": password or PASSWORDS[name]})
