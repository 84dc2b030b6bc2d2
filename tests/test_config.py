"""Configuration: the example loads; every mistake names the file and key, in Vietnamese, exit 2."""
import shutil
from datetime import datetime, time
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.config import ConfigError
from daemon.config_toml import load_config

EXAMPLE = Path(__file__).resolve().parent.parent / "config"


@pytest.fixture
def cfg(tmp_path):
    target = tmp_path / "config"
    shutil.copytree(EXAMPLE, target)
    shutil.copytree(EXAMPLE.parent / "templates", tmp_path / "templates")
    return target


def problems_of(path) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(path)
    return err.value.problems


def test_example_config_is_the_seed_case():
    config = load_config(EXAMPLE)
    kinds = {k: sum(1 for u in config.units if u.kind == k) for k in ("town", "commune", "department", "service_unit")}
    assert kinds == {"town": 1, "commune": 12, "department": 12, "service_unit": 4}
    campaign = config.campaign("dan-van")
    assert [r.id for r in campaign.requirements] == ["ke-hoach", "bao-cao"]
    assert "phong-noi-vu" not in campaign.unit_ids and len(campaign.unit_ids) == 28
    tz = config.office.timezone
    deadline = campaign.deadline(campaign.requirement("bao-cao"), "2024", tz)
    assert deadline == datetime(2024, 10, 20, 0, 0, tzinfo=tz)
    assert campaign.cycle_of(datetime(2024, 10, 25, tzinfo=tz), tz) == "2024"
    assert campaign.cycle_of(datetime(2025, 1, 2, tzinfo=tz), tz) == "2025"
    assert config.unit_for_address("UBND.MyHoa@ThapMuoi.example").id == "xa-my-hoa"
    assert config.mailbox.scheme == "maildir" and config.smtp.scheme == "dir"


def test_every_key_of_the_example_is_commented():
    for path in [EXAMPLE / "settings.toml", EXAMPLE / "campaigns" / "dan-van.toml"]:
        lines = path.read_text(encoding="utf-8").splitlines()
        seen = set()
        for i, line in enumerate(lines):
            key = line.split("=")[0].strip()
            if "=" in line and not line.lstrip().startswith("#") and not line.startswith("[") and key not in seen:
                seen.add(key)
                above = lines[i - 1].strip()
                assert above.startswith("#") or above.startswith("["), f"{path.name}:{i + 1} {line!r} has no comment"


def test_errors_name_file_key_and_problem(cfg):
    s = (cfg / "settings.toml").read_text(encoding="utf-8")
    s = s.replace('url = "maildir:../var/maildir"', 'url = "pop3://x@y/INBOX"')
    s = s.replace('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Mars/Olympus"')
    s = s.replace("batch_size = 20", 'batch_size = "hai mươi"')
    (cfg / "settings.toml").write_text(s + '\n[typo]\nx = 1\n', encoding="utf-8")
    u = (cfg / "units.toml").read_text(encoding="utf-8")
    u = u.replace('emails = ["tuphap@thapmuoi.example"]', 'emails = ["ubnd.thanhloi@thapmuoi.example"]')
    u = u.replace('kind = "town"', 'kind = "thi-tran"')
    (cfg / "units.toml").write_text(u, encoding="utf-8")
    c = (cfg / "campaigns" / "dan-van.toml").read_text(encoding="utf-8")
    c = c.replace('exclude_units = ["phong-noi-vu"]', 'exclude_units = ["phong-khong-co"]')
    c = c.replace('deadline = "10-20"', 'deadline = "10-32"', 1)
    (cfg / "campaigns" / "dan-van.toml").write_text(c, encoding="utf-8")
    problems = problems_of(cfg)
    joined = "\n".join(problems)
    assert "settings.toml: khóa «mailbox.url»: địa chỉ «pop3://x@y/INBOX» không hợp lệ" in joined
    assert "khóa «office.timezone»: múi giờ «Mars/Olympus» không tồn tại" in joined
    assert "khóa «mailbox.batch_size»: phải là số nguyên" in joined
    assert "khóa «typo»: không có khóa này" in joined
    assert "units.toml: khóa «unit[" in joined and "đã khai báo cho đơn vị «xa-thanh-loi»" in joined
    assert "«thi-tran» không hợp lệ" in joined
    assert "campaigns/dan-van.toml: khóa «exclude_units»: đơn vị «phong-khong-co» không có trong units.toml" in joined
    assert "campaigns/dan-van.toml: khóa «requirement[1].deadline»: ngày «10-32» không hợp lệ" in joined


def test_passwords_only_from_env_or_file(cfg, monkeypatch):
    s = (cfg / "settings.toml").read_text(encoding="utf-8")
    s = s.replace('url = "maildir:../var/maildir"', 'url = "imaps://office@mail.example:993/INBOX"\npassword = "lo"')
    (cfg / "settings.toml").write_text(s, encoding="utf-8")
    assert any("không ghi mật khẩu trong tệp cấu hình" in p for p in problems_of(cfg))
    s = s.replace('password = "lo"', 'password_env = "TONGHOP_TEST_PW"')
    (cfg / "settings.toml").write_text(s, encoding="utf-8")
    monkeypatch.delenv("TONGHOP_TEST_PW", raising=False)
    assert any("biến môi trường TONGHOP_TEST_PW chưa được đặt" in p for p in problems_of(cfg))
    monkeypatch.setenv("TONGHOP_TEST_PW", "bí mật")
    config = load_config(cfg)
    assert config.mailbox_password == "bí mật"
    assert (config.mailbox.scheme, config.mailbox.host, config.mailbox.port, config.mailbox.user) == (
        "imaps", "mail.example", 993, "office")
    s = s.replace('password_env = "TONGHOP_TEST_PW"', 'password_file = "secret.txt"')
    (cfg / "settings.toml").write_text(s, encoding="utf-8")
    (cfg / "secret.txt").write_text("từ-tệp\n", encoding="utf-8")
    assert load_config(cfg).mailbox_password == "từ-tệp"


def test_vietnamese_folder_in_url(cfg):
    s = (cfg / "settings.toml").read_text(encoding="utf-8")
    s = s.replace('url = "maildir:../var/maildir"', 'url = "imap+starttls://nv@127.0.0.1:1143/H%E1%BB%99p%20th%C6%B0"\npassword_env = "HOME"')
    (cfg / "settings.toml").write_text(s, encoding="utf-8")
    m = load_config(cfg).mailbox
    assert (m.scheme, m.port, m.folder) == ("imap+starttls", 1143, "Hộp thư")


def test_check_config_prints_summary_and_exits_2_on_errors(cfg, capsys):
    assert main(["--config", str(cfg), "--now", "2024-10-01T08:00", "check-config"]) == 0
    out = capsys.readouterr().out
    assert "xã: 12" in out and "cơ quan chuyên môn: 12" in out and "đơn vị sự nghiệp: 4" in out
    assert "Chiến dịch «dan-van»" in out and "hạn nộp trước ngày 20/10/2024" in out
    (cfg / "units.toml").write_text("[[unit]]\nid = \"X Y\"\n", encoding="utf-8")
    assert main(["--config", str(cfg), "check-config"]) == 2
    err = capsys.readouterr().err
    assert "units.toml: khóa «unit[1].id»" in err and "units.toml: khóa «unit[1].emails»: bắt buộc" in err


def test_bad_now_is_a_usage_error(cfg, capsys):
    assert main(["--config", str(cfg), "--now", "hôm qua", "check-config"]) == 2
    assert "--now «hôm qua» không hợp lệ" in capsys.readouterr().err


def test_missing_config_folder(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "nope"), "check-config"]) == 2
    assert "không tìm thấy thư mục cấu hình" in capsys.readouterr().err.lower()


def test_check_config_renders_every_template_and_names_the_broken_one(cfg, capsys):
    assert main(["--config", str(cfg), "check-config"]) == 0
    capsys.readouterr()
    reminder = cfg.parent / "templates" / "email" / "reminder.txt"
    reminder.write_text(reminder.read_text(encoding="utf-8").replace("{{ unit }}", "{{ don_vi }}"), encoding="utf-8")
    ack = cfg.parent / "templates" / "email" / "ack.txt"
    ack.write_text(ack.read_text(encoding="utf-8").replace("{% endfor %}", "", 1), encoding="utf-8")
    assert main(["--config", str(cfg), "check-config"]) == 2
    err = capsys.readouterr().err
    assert "reminder.txt: dùng biến không có: 'don_vi' is undefined" in err
    assert "ack.txt: dòng" in err and "sai cú pháp mẫu" in err


def test_a_one_off_campaign_whose_deadline_passed_is_caught(cfg, capsys):
    path = cfg / "campaigns" / "dan-van.toml"
    text = path.read_text(encoding="utf-8").replace('recurrence = "yearly"', 'recurrence = "once"')
    text = text.replace('opens = "01-01"', 'opens = "2024-01-01"').replace('deadline = "10-20"', 'deadline = "2024-10-20"')
    path.write_text(text, encoding="utf-8")
    assert main(["--config", str(cfg), "--now", "2024-10-01T08:00", "check-config"]) == 0
    capsys.readouterr()
    assert main(["--config", str(cfg), "--now", "2025-03-01T08:00", "check-config"]) == 2
    assert "đã qua và chiến dịch chỉ diễn ra một lần" in capsys.readouterr().err


def test_connect_reports_an_unreachable_mailbox(cfg, capsys, monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    settings = cfg / "settings.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        'url = "maildir:../var/maildir"', f'url = "imap://nv@127.0.0.1:{port}/INBOX"\npassword_env = "TONGHOP_T"'),
        encoding="utf-8")
    monkeypatch.setenv("TONGHOP_T", "x")
    assert main(["--config", str(cfg), "check-config"]) == 0
    capsys.readouterr()
    assert main(["--config", str(cfg), "check-config", "--connect"]) == 2
    assert "khóa «mailbox.url»: không kết nối được hộp thư" in capsys.readouterr().err


def test_office_calendar_bad_dates_name_file_and_key(cfg, capsys):
    path = cfg / "settings.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("days_off = []", 'days_off = ["2025-01-24"]')
    text = text.replace("working_saturdays = [2024-05-04, 2025-04-26]", "working_saturdays = [2025-04-25]")
    path.write_text(text, encoding="utf-8")
    assert main(["--config", str(cfg), "check-config"]) == 2
    err = capsys.readouterr().err
    assert "settings.toml: khóa «office.days_off»: phải là danh sách ngày" in err
    assert "settings.toml: khóa «office.working_saturdays»: ngày 25/04/2025 không phải thứ Bảy" in err


def test_check_config_prints_the_next_12_months_days_off(cfg, capsys):
    assert main(["--config", str(cfg), "--now", "2024-12-02T08:00", "check-config"]) == 0
    out = capsys.readouterr().out
    assert "Ngày nghỉ và ngày làm bù trong 12 tháng tới (từ 02/12/2024)" in out
    assert "Thứ Tư 29/01/2025: Tết Nguyên Đán" in out  # names from the holidays package, in Vietnamese
    assert "Thứ Sáu 02/05/2025: Ngày nghỉ (thay cho ngày 26/04/2025)" in out  # the 30/4 bridge
    assert "Thứ Bảy 26/04/2025: ngày làm bù" in out  # the office's make-up Saturday
    assert "2024-09-02" not in out and "02/09/2024" not in out and "02/12/2025" not in out  # 12 months only


@pytest.mark.parametrize("section, line, typo, suggestion", [
    ("[mailbox]", "pol_seconds = 5", "mailbox.pol_seconds", "poll_seconds"),
    ("[mailbox]", "tls_verfy = false", "mailbox.tls_verfy", "tls_verify"),
    ("[storage]", 'paht = "/var/lib/tonghop"', "storage.paht", "path"),
    ("[smtp]", "timout_seconds = 5", "smtp.timout_seconds", "timeout_seconds"),
    ("[office]", 'timezon = "Asia/Ho_Chi_Minh"', "office.timezon", "timezone"),
    ("[notices]", "digest_att = \"07:00\"", "notices.digest_att", "digest_at"),
])
def test_every_settings_section_rejects_a_typo_and_suggests_the_key(cfg, section, line, typo, suggestion):
    text = (cfg / "settings.toml").read_text(encoding="utf-8")
    assert section in text
    (cfg / "settings.toml").write_text(text.replace(section, f"{section}\n{line}", 1), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert any(f"«{typo}»" in p and f"ý bạn là «{suggestion}»" in p for p in err.value.problems), err.value.problems


def test_a_misspelt_section_is_named_too(cfg):
    text = (cfg / "settings.toml").read_text(encoding="utf-8")
    (cfg / "settings.toml").write_text(text + "\n[mailbx]\nurl = \"x\"\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert any("«mailbx»" in p and "ý bạn là «mailbox»" in p for p in err.value.problems), err.value.problems


def test_password_keys_beside_a_maildir_are_not_typos(cfg):
    text = (cfg / "settings.toml").read_text(encoding="utf-8")
    (cfg / "settings.toml").write_text(text.replace("[mailbox]", '[mailbox]\npassword_env = "X"', 1), encoding="utf-8")
    load_config(cfg)  # maildir: the key is unused, not wrong
