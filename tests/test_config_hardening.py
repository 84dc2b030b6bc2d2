"""Configuration mistakes that used to pass or crash (issue 15, items 4, 6, 7, 8, 9): each is now
refused by check-config with exit 2, naming the file and key in Vietnamese, never a traceback."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.config_toml import load_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config"
ARGS = ["--now", "2024-10-01T08:00", "check-config"]


@pytest.fixture
def cfg(tmp_path):
    target = tmp_path / "config"
    shutil.copytree(EXAMPLE, target)
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def cp1258(text: str) -> bytes:
    """What Windows writes for Vietnamese in code page 1258: a base letter, precomposed where the
    code page has it, and combining tone marks (Python's codec does not decompose by itself)."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", ch)
        for i, mark in enumerate(marks):
            try:
                out += (unicodedata.normalize("NFC", base + mark) + "".join(marks[:i] + marks[i + 1:])).encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        else:
            out += (base + "".join(marks)).encode("cp1258", "replace")
    return bytes(out)


ENCODE = {"cp1258": cp1258, "utf-16": lambda text: text.encode("utf-16")}


def check(cfg, capsys) -> tuple[int, str]:
    code = main(["--config", str(cfg), *ARGS])
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize("key, old, url", [
    ("mailbox.url", 'url = "maildir:../var/maildir"', "imaps://phongnoivu:Mk-b%C3%AD-m%E1%BA%ADt@mail.example/INBOX"),
    ("smtp.url", 'url = "dir:../var/outbox"', "smtps://phongnoivu:Mk-bí-mật@mail.example"),
    ("mailbox.url", 'url = "maildir:../var/maildir"', "pop3://phongnoivu:Mk-bí-mật@mail.example/INBOX"),
])
def test_a_password_in_a_url_is_refused_and_never_printed(cfg, capsys, monkeypatch, key, old, url):
    monkeypatch.setenv("TONGHOP_TEST_PW", "x")
    edit(cfg / "settings.toml", old, f'url = "{url}"\npassword_env = "TONGHOP_TEST_PW"')
    code, text = check(cfg, capsys)
    assert code == 2
    assert f"settings.toml: khóa «{key}»: không ghi mật khẩu trong địa chỉ" in text
    assert "Mk-b" not in text and "m%E1" not in text and "phongnoivu:***@mail.example" in text


def test_a_url_with_a_user_and_no_password_still_loads(cfg, monkeypatch):
    monkeypatch.setenv("TONGHOP_TEST_PW", "bí mật")
    edit(cfg / "settings.toml", 'url = "maildir:../var/maildir"',
         'url = "imaps://phong.noivu@mail.example/INBOX"\npassword_env = "TONGHOP_TEST_PW"')
    config = load_config(cfg)
    assert (config.mailbox.user, config.mailbox_password) == ("phong.noivu", "bí mật")


@pytest.mark.parametrize("key, old, new", [
    ("requirement[1].deadline", 'deadline = "10-20"', 'deadline = "02-29"'),
    ("opens", 'opens = "01-01"', 'opens = "02-29"'),
])
def test_a_yearly_leap_day_is_refused(cfg, capsys, key, old, new):
    campaign = cfg / "campaigns" / "dan-van.toml"
    edit(campaign, old, new)
    code, text = check(cfg, capsys)
    assert code == 2
    assert f"campaigns/dan-van.toml: khóa «{key}»: ngày «02-29» chỉ có trong năm nhuận" in text
    assert "Traceback" not in text


def test_a_one_off_leap_day_is_a_real_day(cfg):
    campaign = cfg / "campaigns" / "dan-van.toml"
    text = campaign.read_text(encoding="utf-8").replace('recurrence = "yearly"', 'recurrence = "once"')
    text = text.replace('opens = "01-01"', 'opens = "2028-01-01"').replace('deadline = "10-20"', 'deadline = "2028-02-29"')
    campaign.write_text(text, encoding="utf-8")
    config = load_config(cfg)
    assert "2028-02-29" in {r.deadline for r in config.campaign("dan-van").requirements}


def test_a_timezone_that_is_a_folder_of_the_database_is_a_clear_error(cfg, tmp_path):
    """ "Asia" is a folder of the tz database. With the tzdata package (what Python falls back to
    when the system has no /usr/share/zoneinfo) ZoneInfo opened the folder: IsADirectoryError, a
    traceback. A tzdata package with that shape is put on the path and the system database hidden."""
    fake = tmp_path / "fake"
    zone_dir = fake / "tzdata" / "zoneinfo" / "Asia"
    zone_dir.mkdir(parents=True)
    for init in (fake / "tzdata", fake / "tzdata" / "zoneinfo", zone_dir):
        (init / "__init__.py").write_text("")
    shutil.copy("/usr/share/zoneinfo/Asia/Ho_Chi_Minh", zone_dir / "Ho_Chi_Minh")
    edit(cfg / "settings.toml", 'timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia"')
    env = dict(os.environ, PYTHONPATH=str(fake), PYTHONTZPATH="")
    res = subprocess.run([sys.executable, "-m", "daemon.cli", "--config", str(cfg), *ARGS], env=env,
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 2, res.stderr
    assert "settings.toml: khóa «office.timezone»: múi giờ «Asia» không tồn tại" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("name", ["settings.toml", "units.toml", "campaigns/dan-van.toml"])
@pytest.mark.parametrize("encoding, said", [
    ("cp1258", "không phải mã UTF-8 (gặp byte lạ ở dòng"),
    ("utf-16", "mã UTF-16"),
])
def test_a_config_file_not_in_utf8_is_named(cfg, capsys, name, encoding, said):
    path = cfg / name
    path.write_bytes(ENCODE[encoding](path.read_text(encoding="utf-8")))
    code, text = check(cfg, capsys)
    assert code == 2 and "Traceback" not in text
    assert f"{Path(name).name}: tệp" in text and said in text and "lưu lại với mã UTF-8" in text


@pytest.mark.parametrize("name", ["settings.toml", "units.toml", "campaigns/dan-van.toml"])
def test_a_utf8_bom_is_accepted(cfg, capsys, name):
    path = cfg / name
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    code, text = check(cfg, capsys)
    assert code == 0, text
    assert "Chiến dịch «dan-van»" in text


def _imap_with_password_file(cfg, content: bytes) -> Path:
    edit(cfg / "settings.toml", 'url = "maildir:../var/maildir"',
         'url = "imaps://phongnoivu@mail.example/INBOX"\npassword_file = "mat-khau.txt"')
    secret = cfg / "mat-khau.txt"
    secret.write_bytes(content)
    return secret


@pytest.mark.parametrize("content, said", [
    (cp1258("mật khẩu\n"), "không phải mã UTF-8"),
    ("mật khẩu\n".encode("utf-16"), "mã UTF-16"),
])
def test_a_password_file_not_in_utf8_is_named(cfg, capsys, content, said):
    secret = _imap_with_password_file(cfg, content)
    code, text = check(cfg, capsys)
    assert code == 2 and "Traceback" not in text
    assert f"khóa «mailbox.password_file»: tệp mật khẩu {secret}: tệp" in text and said in text


def test_a_password_file_with_a_bom_reads_without_it(cfg):
    _imap_with_password_file(cfg, b"\xef\xbb\xbfm\xe1\xba\xadt-kh\xe1\xba\xa9u\r\n")
    assert load_config(cfg).mailbox_password == "mật-khẩu"


@pytest.mark.parametrize("content", [b"", b"\n  \n", b"\xef\xbb\xbf\r\n"])
def test_an_empty_password_file_is_refused_by_check_config_and_run(cfg, capsys, content):
    secret = _imap_with_password_file(cfg, content)
    code, text = check(cfg, capsys)
    assert code == 2
    assert f"khóa «mailbox.password_file»: tệp mật khẩu {secret} rỗng" in text
    assert main(["--config", str(cfg), "run", "--once"]) == 2
    assert "rỗng" in capsys.readouterr().err


def test_an_empty_password_env_is_refused(cfg, capsys, monkeypatch):
    monkeypatch.setenv("TONGHOP_TEST_PW", "")
    edit(cfg / "settings.toml", 'url = "dir:../var/outbox"',
         'url = "smtps://phongnoivu@mail.example"\npassword_env = "TONGHOP_TEST_PW"')
    code, text = check(cfg, capsys)
    assert code == 2 and "khóa «smtp.password_env»: biến môi trường TONGHOP_TEST_PW rỗng" in text


@pytest.mark.parametrize("encoding, said", [("cp1258", "không phải mã UTF-8"), ("utf-16", "mã UTF-16")])
def test_a_mail_template_not_in_utf8_is_named(cfg, capsys, encoding, said):
    reminder = cfg.parent / "templates" / "email" / "reminder.txt"
    reminder.write_bytes(ENCODE[encoding](reminder.read_text(encoding="utf-8")))
    code, text = check(cfg, capsys)
    assert code == 2 and "Traceback" not in text
    assert f"{reminder}: tệp" in text and said in text


def test_a_mail_template_with_a_bom_keeps_its_subject(cfg, capsys):
    from daemon.outgoing.notices import Renderer

    ack = cfg.parent / "templates" / "email" / "ack.txt"
    ack.write_bytes(b"\xef\xbb\xbf" + ack.read_bytes())
    code, text = check(cfg, capsys)
    assert code == 0, text
    reminder = cfg.parent / "templates" / "email" / "reminder.txt"
    reminder.write_bytes(b"\xef\xbb\xbfTi\xc3\xaau \xc4\x91\xe1\xbb\x81: Nh\xe1\xba\xafc {{ x }}\nN\xe1\xbb\x99i dung\n")
    subject, body, _ = Renderer(cfg.parent / "templates").render("reminder", {"x": "hạn"})
    assert subject == "Nhắc hạn" and body == "Nội dung\n"
