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


class Served:
    """The desk's app served by waitress on a loopback port, in a thread (what `tonghop web` runs)."""

    def __init__(self, app):
        import threading

        from waitress import create_server

        self.server = create_server(app, host="127.0.0.1", port=0, threads=4, ident="tonghop")
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.close()
        self.thread.join(5)


def chromium(width: int = 1280, height: int = 900, downloads: Path | None = None):
    """Debian's chromium, headless, through its chromedriver (selenium)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--lang=vi", "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    if downloads is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                                  "download.prompt_for_download": False,
                                                  "safebrowsing.enabled": True})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    phone_width(driver, width, height)
    return driver


def phone_width(driver, width: int, height: int) -> None:
    """A window is at least 500 px wide, even headless: a phone's viewport is emulated instead
    (what the developer tools' device mode does), with a phone's touch and mobile flags."""
    if width < 500:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})


def browser_login(driver, url: str, name: str = "hoa") -> None:
    from selenium.webdriver.common.by import By

    driver.get(url + "/dang-nhap")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORDS[name])
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(lambda d: "/dang-nhap" not in d.current_url)
