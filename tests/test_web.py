"""The web desk through Flask's test client, over a ledger the real demo filled: logging in and
out, the CSRF token, the read-only role, the login rate limit, every page in Vietnamese, the
downloads (the archived .eml, the unit's file, the draft), and the review actions through
daemon.desk."""
from __future__ import annotations

import io
import re
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from daemon.config_toml import load_config, read_accounts
from daemon.records import sha256_of
from daemon.web.accounts import LoginLimiter, hash_password, set_password, verify_password
from daemon.web.app import create_app
from web_fixtures import PASSWORDS, csrf_of, demo_desk, log_in

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    return demo_desk(tmp_path_factory.mktemp("web") / "demo")


@pytest.fixture
def app(desk):
    config, clock, _ = desk
    tick = [1000.0]
    app = create_app(config, clock, monotonic=lambda: tick[0])
    app.tick = tick
    return app


@pytest.fixture
def clerk(app):
    client = app.test_client()
    assert log_in(client, "hoa").status_code == 302
    return client


@pytest.fixture
def reader(app):
    client = app.test_client()
    assert log_in(client, "lanhdao").status_code == 302
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def review_id(desk) -> int:
    _, _, result = desk
    rows = result.store.messages("review")
    assert rows, "the demo leaves one message from an unknown address in review"
    return rows[0]["id"]


# --- logging in ------------------------------------------------------------------------------------

def test_every_page_needs_a_login_and_the_login_page_is_vietnamese(app):
    client = app.test_client()
    for path in ("/", "/thu", "/thu/1", "/xem-xet", "/du-thao", "/thu-gui", "/thu/1.eml"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.startswith("/dang-nhap"), path
    page = text(client.get("/dang-nhap"))
    assert "Đăng nhập bàn làm việc" in page and "Mật khẩu" in page and 'lang="vi"' in page


def test_a_wrong_password_is_refused_and_the_right_one_opens_the_board(app):
    client = app.test_client()
    wrong = log_in(client, "hoa", "sai-mat-khau")
    assert wrong.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng" in text(wrong)
    assert log_in(client, "khong-co-ai", "x").status_code == 401
    ok = log_in(client, "hoa")
    assert ok.status_code == 302 and ok.location == "/"
    board = text(client.get("/"))
    assert "Bảng theo dõi" in board and "hoa (cán bộ xử lý)" in board


def test_the_session_cookie_is_httponly_and_samesite_and_secure_when_configured(desk):
    config, clock, _ = desk
    response = log_in(create_app(config, clock).test_client(), "hoa")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    from dataclasses import replace

    secure = replace(config, web=replace(config.web, secure_cookies=True))
    cookie = log_in(create_app(secure, clock).test_client(), "hoa").headers["Set-Cookie"]
    assert "Secure" in cookie


def test_logging_out_ends_the_session(clerk):
    token = csrf_of(text(clerk.get("/")))
    assert clerk.post("/dang-xuat", data={"csrf": token}).status_code == 302
    assert clerk.get("/").status_code == 302


def test_after_login_the_clerk_returns_to_the_page_asked_but_never_to_another_site(app):
    client = app.test_client()
    token = csrf_of(text(client.get("/dang-nhap?next=/thu")))
    response = client.post("/dang-nhap", data={"csrf": token, "name": "hoa", "password": PASSWORDS["hoa"], "next": "/thu"})
    assert response.location == "/thu"
    client = app.test_client()
    token = csrf_of(text(client.get("/dang-nhap")))
    response = client.post("/dang-nhap", data={"csrf": token, "name": "hoa", "password": PASSWORDS["hoa"],
                                               "next": "//evil.example/x"})
    assert response.location == "/"


def test_five_failures_in_five_minutes_make_the_login_wait(app):
    client = app.test_client()
    for _ in range(5):
        assert log_in(client, "hoa", "doan-thu").status_code == 401
    blocked = log_in(client, "hoa")  # even the right password waits
    assert blocked.status_code == 429 and "Vui lòng chờ 5 phút" in text(blocked)
    assert log_in(client, "lanhdao").status_code == 302  # another name is not blocked
    app.tick[0] += 301
    assert log_in(app.test_client(), "hoa").status_code == 302


def test_the_limiter_forgets_failures_older_than_its_window():
    limiter = LoginLimiter(limit=2, window=60)
    limiter.failed("hoa", "10.0.0.1", 0)
    limiter.failed("hoa", "10.0.0.1", 30)
    assert limiter.wait_seconds("hoa", "10.0.0.1", 31) == 29
    assert limiter.wait_seconds("hoa", "10.0.0.2", 31) == 0
    assert limiter.wait_seconds("HOA", "10.0.0.1", 61) == 0


def test_a_changed_password_ends_older_sessions(desk, tmp_path):
    config, clock, _ = desk
    from dataclasses import replace

    accounts = tmp_path / "accounts.toml"
    accounts.write_text(config.web.accounts_file.read_text(encoding="utf-8"), encoding="utf-8")
    mine = replace(config, web=replace(config.web, accounts_file=accounts))
    client = create_app(mine, clock).test_client()
    assert log_in(client, "hoa").status_code == 302 and client.get("/").status_code == 200
    set_password(accounts, "hoa", hash_password("mat-khau-moi-2", n=2 ** 10))
    assert client.get("/").status_code == 302


# --- CSRF and roles --------------------------------------------------------------------------------

def test_a_post_without_the_sessions_token_is_refused(clerk, desk):
    msg_id = review_id(desk)
    for data in ({}, {"csrf": "gia-mao"}):
        response = clerk.post(f"/thu/{msg_id}/bo-qua", data=data)
        assert response.status_code == 400 and "mã xác thực" in text(response)
    assert desk[2].store.message(msg_id)["status"] == "review"


def test_the_readonly_role_sees_everything_and_cannot_act(reader, desk):
    msg_id = review_id(desk)
    page = text(reader.get("/xem-xet"))
    assert "Tài khoản chỉ xem" in page and "Xác nhận đơn vị" not in page
    token = csrf_of(page)
    for path, data in ((f"/thu/{msg_id}/bo-qua", {}), (f"/thu/{msg_id}/don-vi", {"unit": "xa-tan-kieu"}),
                       ("/du-thao/viet", {"campaign": "dan-van"})):
        response = reader.post(path, data={"csrf": token, **data})
        assert response.status_code == 403 and "Không có quyền thao tác" in text(response), path
    assert desk[2].store.message(msg_id)["status"] == "review"
    assert "Viết dự thảo" not in text(reader.get("/du-thao"))


# --- the pages ---------------------------------------------------------------------------------

def test_the_board_shows_each_unit_per_requirement_with_counts_and_deadlines(clerk, desk):
    config, clock, result = desk
    page = text(clerk.get("/"))
    campaign = config.campaigns[0]
    assert campaign.title in page and "Hạn nộp" in page and "đúng hạn" in page
    for unit_id in campaign.unit_ids[:5]:
        assert config.unit(unit_id).name in page
    from daemon.status import status_document

    doc = status_document(config, result.store.submissions(), clock.now(), campaign.id)["campaigns"][0]
    missing = sum(1 for u in doc["units"] for s in u["submissions"].values() if s["status"] == "missing")
    assert f"<b>{missing}</b> chưa nộp" in page
    late = text(clerk.get("/?filter=late"))
    late_units = [u for u in doc["units"] if any(s["status"] == "late" for s in u["submissions"].values())]
    on_time_only = [u for u in doc["units"] if all(s["status"] == "on_time" for s in u["submissions"].values())]
    assert late_units and all(u["name"] in late for u in late_units)
    assert on_time_only and all(f">{u['name']}</a>" not in late for u in on_time_only)
    assert "Không có đơn vị nào khớp" in text(clerk.get("/?q=khong-co-don-vi-nay"))


def test_the_unit_page_lists_its_addresses_versions_facts_and_mail(clerk, desk):
    config, _, result = desk
    row = next(r for r in result.store.submissions() if r["doc_number"])
    unit = config.unit(row["unit_id"])
    page = text(clerk.get(f"/don-vi/{unit.id}"))
    assert unit.name in page and unit.emails[0] in page and row["doc_number"] in page
    assert f"/thu/{row['message']}/tep/" in page and "thư báo đã nhận" in page
    assert clerk.get("/don-vi/khong-co").status_code == 404


def test_messages_are_listed_filtered_and_searched(clerk, desk):
    _, _, result = desk
    page = text(clerk.get("/thu"))
    assert "Thư đến" in page and "đã ghi nhận" in page
    review = text(clerk.get("/thu?status=review"))
    assert "1 thư" in review and "vanphongxatankieu@gmail.example" in review
    found = text(clerk.get("/thu?q=vanphongxatankieu"))
    assert "1 thư" in found
    one = result.store.messages("recorded")[0]
    detail = text(clerk.get(f"/thu/{one['id']}"))
    assert "Tải thư gốc (.eml)" in detail and one["reason"] in detail


def test_review_drafts_and_outbox_pages(clerk, desk):
    review = text(clerk.get("/xem-xet"))
    assert "Thư cần xem xét" in review and "Xác nhận đơn vị" in review and "Không phải báo cáo" in review
    drafts = text(clerk.get("/du-thao"))
    assert "Dự thảo báo cáo tổng hợp" in drafts and "Dự thảo (.docx)" in drafts and "Ghi chú" in drafts
    outbox = text(clerk.get("/thu-gui"))
    assert "Thư gửi đi" in outbox and "đã gửi" in outbox and "thư nhắc" in outbox
    assert "đã gửi" in text(clerk.get("/thu-gui?status=sent"))


def test_pages_are_paginated(clerk):
    first = text(clerk.get("/thu-gui"))
    assert "Trang 1/" in first and "Trang sau" in first
    second = text(clerk.get("/thu-gui?page=2"))
    assert "Trang 2/" in second and "Trang trước" in second


# --- downloads ---------------------------------------------------------------------------------

def test_the_original_message_and_its_file_download_as_they_arrived(clerk, desk):
    _, _, result = desk
    row = next(r for r in result.store.submissions() if (r["filename"] or "").endswith(".docx"))
    msg = result.store.message(row["message"])
    eml = clerk.get(f"/thu/{msg['id']}.eml")
    assert eml.status_code == 200 and sha256_of(eml.data) == msg["sha256"]
    assert "attachment" in eml.headers["Content-Disposition"]
    att = next(a for a in result.store.attachments_of(msg["id"]) if a["filename"] == row["filename"])
    got = clerk.get(f"/thu/{msg['id']}/tep/{att['seq']}")
    assert got.status_code == 200 and sha256_of(got.data) == att["sha256"]
    assert "word/document.xml" in zipfile.ZipFile(io.BytesIO(got.data)).namelist()


def test_every_draft_version_downloads_as_docx_xlsx_and_notes(clerk, desk):
    _, _, result = desk
    drafts = result.store.drafts()
    assert len(drafts) >= 2
    for d in drafts:
        docx = clerk.get(f"/du-thao/{d['id']}/docx")
        assert docx.status_code == 200 and "word/document.xml" in zipfile.ZipFile(io.BytesIO(docx.data)).namelist()
        xlsx = clerk.get(f"/du-thao/{d['id']}/xlsx")
        assert "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(xlsx.data)).namelist()
        assert clerk.get(f"/du-thao/{d['id']}/ghi-chu").status_code == 200
    assert clerk.get("/du-thao/9999/docx").status_code == 404
    assert clerk.get(f"/du-thao/{drafts[0]['id']}/..%2Fsettings").status_code == 404


def test_an_outgoing_mail_downloads_as_eml(clerk, desk):
    _, _, result = desk
    rows, _ = result.store.outbox_page(status="sent", limit=1)
    got = clerk.get(f"/thu-gui/{rows[0]['id']}.eml")
    assert got.status_code == 200 and got.data == result.store.mail_bytes(rows[0]["id"])


# --- accounts and configuration ------------------------------------------------------------------

def test_set_password_from_the_command_line_writes_a_hash_never_the_password(tmp_path):
    import shutil

    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    cmd = [sys.executable, "-m", "daemon.cli", "--config", str(tmp_path / "config"), "web"]
    done = subprocess.run(cmd + ["--set-password", "thu-ky", "--role", "readonly"], input="mat-khau-thu-ky\n",
                          capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Đã tạo tài khoản «thu-ky»" in done.stdout
    written = (tmp_path / "config" / "accounts.toml").read_text(encoding="utf-8")
    assert "mat-khau-thu-ky" not in written and written.startswith("# Tài khoản")  # comments kept
    accounts, problems = read_accounts(tmp_path / "config" / "accounts.toml")
    mine = {a.name: a for a in accounts}["thu-ky"]
    assert not problems and mine.role == "readonly" and verify_password("mat-khau-thu-ky", mine.password)
    short = subprocess.run(cmd + ["--set-password", "hoa"], input="ngan\n", capture_output=True, text=True, cwd=ROOT,
                           timeout=60)
    assert short.returncode == 2 and "ít nhất 8 ký tự" in short.stderr


def test_check_config_refuses_a_plain_text_password_and_unknown_web_keys(tmp_path):
    import shutil

    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    accounts = tmp_path / "config" / "accounts.toml"
    accounts.write_text('[[account]]\nname = "hoa"\nrole = "chu-tich"\n\n[[account]]\nname = "lan"\npassword = "123456"\n',
                        encoding="utf-8")
    cmd = [sys.executable, "-m", "daemon.cli", "--config", str(tmp_path / "config"), "check-config"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert "«chu-tich» không hợp lệ" in done.stderr and "không phải mã băm scrypt" in done.stderr
    settings = tmp_path / "config" / "settings.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("port = 8088", "port = 8088\ncong = 1"), encoding="utf-8")
    with pytest.raises(Exception) as exc:
        load_config(tmp_path / "config")
    assert "web.cong" in str(exc.value.problems)


def test_the_example_accounts_file_is_valid_and_holds_no_password():
    accounts, problems = read_accounts(ROOT / "config" / "accounts.toml")
    assert not problems and {a.role for a in accounts} == {"clerk", "readonly"}
    assert all(a.password is None for a in accounts)


def test_web_refuses_to_start_without_any_password(tmp_path):
    import shutil

    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    done = subprocess.run([sys.executable, "-m", "daemon.cli", "--config", str(tmp_path / "config"), "web"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "Chưa có tài khoản nào đặt mật khẩu" in done.stderr


def test_the_session_key_is_created_private_once(desk):
    config, _, _ = desk
    path = config.web.secret_file
    assert path.is_file() and oct(path.stat().st_mode & 0o777) == "0o600"
    from daemon.web.accounts import session_key

    assert session_key(path) == session_key(path) and len(session_key(path)) >= 32


# --- the review actions, through daemon.desk (these change the module's ledger: they run last) ----

def test_this_sender_is_unit_x_records_the_message_and_remembers_the_address(clerk, desk):
    _, _, result = desk
    msg_id = review_id(desk)
    token = csrf_of(text(clerk.get("/xem-xet")))
    response = clerk.post(f"/thu/{msg_id}/don-vi", data={"csrf": token, "unit": "xa-tan-kieu", "remember": "1",
                                                         "back": "/xem-xet"})
    assert response.status_code == 302 and response.location == "/xem-xet"
    row = result.store.message(msg_id)
    assert row["status"] == "recorded" and row["unit_id"] == "xa-tan-kieu"
    queue = text(clerk.get("/xem-xet"))
    assert "Không có thư nào cần xem xét" in queue and "notice ok" in queue
    detail = text(clerk.get(f"/thu/{msg_id}"))
    assert "hoa: xác nhận người gửi là đơn vị" in detail and "đã ghi nhận" in detail
    unit_page = text(clerk.get("/don-vi/xa-tan-kieu"))
    assert f"/thu/{msg_id}" in unit_page


def test_not_a_submission_ignores_a_message_and_a_refused_action_says_why(clerk, desk):
    config, _, result = desk
    msg_id = result.store.messages("recorded")[0]["id"]
    token = csrf_of(text(clerk.get(f"/thu/{msg_id}")))
    clerk.post(f"/thu/{msg_id}/bo-qua", data={"csrf": token, "note": "thư gửi nhầm"})
    row = result.store.message(msg_id)
    assert row["status"] == "ignored" and "hoa" in row["reason"]
    assert "xác định không phải báo cáo (ghi chú: thư gửi nhầm)" in text(clerk.get(f"/thu/{msg_id}"))
    campaign = config.campaigns[0]
    clerk.post(f"/thu/{msg_id}/tep", data={"csrf": token, "seq": "99", "unit": campaign.unit_ids[0],
                                           "requirement": f"{campaign.id}/{campaign.requirements[0].id}"})
    page = text(clerk.get(f"/thu/{msg_id}"))
    assert "notice bad" in page and result.store.message(msg_id)["status"] == "ignored"
    assert clerk.post(f"/thu/{msg_id}/don-vi", data={"csrf": token, "unit": "khong-co"}).status_code == 400


def test_write_the_draft_now_makes_a_preview_to_download(clerk, desk):
    config, _, _ = desk
    token = csrf_of(text(clerk.get("/du-thao")))
    response = clerk.post("/du-thao/viet", data={"csrf": token, "campaign": config.campaigns[0].id, "cycle": "2024"})
    assert response.status_code == 302
    page = text(clerk.get("/du-thao"))
    assert "Bản xem trước viết theo yêu cầu" in page and "notice ok" in page
    link = re.search(r'href="(/du-thao/xem-truoc/\d+/0)"', page).group(1)
    docx = clerk.get(link)
    assert docx.status_code == 200 and "word/document.xml" in zipfile.ZipFile(io.BytesIO(docx.data)).namelist()
    assert clerk.get(link[:-1] + "7").status_code == 404
