"""The web desk in a real browser: Debian's headless chromium through chromedriver (selenium),
against the app served by waitress on a loopback port, over the ledger the real demo filled.
A clerk logs in, reads the board, tells the desk who sent the message in review, and downloads
the draft; the board and the review queue fit a phone's width (390 px)."""
from __future__ import annotations

import time
import zipfile

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from daemon.web.app import create_app
from web_fixtures import Served, browser_login, chromium, demo_desk


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    config, clock, result = demo_desk(tmp_path_factory.mktemp("browser") / "demo")
    served = Served(create_app(config, clock))
    yield config, result, served
    served.close()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(downloads):
    driver = chromium(1280, 900, downloads)
    yield driver
    driver.quit()


def test_a_clerk_logs_in_confirms_a_sender_and_downloads_the_draft(desk, driver, downloads):
    config, result, served = desk
    browser_login(driver, served.url)
    assert "Bảng theo dõi" in driver.title
    assert config.campaigns[0].title in driver.find_element(By.TAG_NAME, "h1").text
    assert "chưa nộp" in driver.find_element(By.CSS_SELECTOR, ".cards").text

    msg_id = result.store.messages("review")[0]["id"]
    driver.find_element(By.LINK_TEXT, "Cần xem xét").click()
    card = driver.find_element(By.ID, f"thu-{msg_id}")
    assert "UBND xã Tân Kiều" in card.text
    form = card.find_element(By.CSS_SELECTOR, "form[action$='/don-vi']")
    Select(form.find_element(By.NAME, "unit")).select_by_visible_text("UBND xã Tân Kiều")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".notice"))
    assert result.store.message(msg_id)["status"] == "recorded"
    assert result.store.message(msg_id)["unit_id"] == "xa-tan-kieu"
    assert "Không có thư nào cần xem xét" in driver.page_source

    driver.find_element(By.LINK_TEXT, "Dự thảo").click()
    driver.find_element(By.PARTIAL_LINK_TEXT, "Dự thảo (.docx)").click()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done = [p for p in downloads.glob("*.docx")]
        if done and not list(downloads.glob("*.crdownload")):
            break
        time.sleep(0.2)
    assert done, "the draft was not downloaded"
    assert "word/document.xml" in zipfile.ZipFile(done[0]).namelist()


def test_the_pages_fit_a_phone(desk):
    _, _, served = desk
    phone = chromium(390, 844)
    try:
        browser_login(phone, served.url)
        for path in ("/", "/xem-xet", "/thu", "/du-thao", "/thu-gui"):
            phone.get(served.url + path)
            width = phone.execute_script("return document.documentElement.scrollWidth")
            assert width <= 390, f"{path}: the page is {width} px wide on a 390 px phone"
        phone.get(served.url + "/")
        cell = phone.find_element(By.CSS_SELECTOR, "table.board td.cell")
        assert cell.is_displayed() and cell.size["width"] > 300  # one card per unit, not a squeezed table
    finally:
        phone.quit()
