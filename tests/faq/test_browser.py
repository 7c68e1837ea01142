"""The web page end to end in headless Chromium (Debian's chromium and chromium-driver)."""

import os
import shutil
import tempfile
from pathlib import Path

import httpx
import pytest

from conftest import TOKEN

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1200,1000"]


@pytest.fixture
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            pytest.fail("CI needs Debian's chromium and chromium-driver (.ci/run installs them)")
        pytest.skip("needs /usr/bin/chromium and /usr/bin/chromedriver: apt-get install chromium chromium-driver")
    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never try to download a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="samesense-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in CHROMIUM_ARGS + [f"--user-data-dir={profile}"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console: CSP violations land there
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, condition, timeout=10):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def find(driver, css):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)


def finds(driver, css):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def ask(driver, question):
    box = find(driver, "#question")
    box.clear()
    box.send_keys(question)
    find(driver, "#ask-button").click()


def test_ask_and_admin_in_the_page(browser, live_server, bank, tmp_path):
    bank.set_settings(threshold=0.7)
    browser.get(live_server + "/")
    assert browser.title == "samesense FAQ"

    ask(browser, "when are you open")
    answer = wait_for(browser, lambda d: finds(d, "#answer"))[0]
    assert answer.text == "Monday to Friday, 9 to 5."
    scores = [float(td.text) for td in finds(browser, "#candidates td.score")]
    assert scores and scores[0] == pytest.approx(1.0, abs=1e-3) and scores == sorted(scores, reverse=True)

    ask(browser, "zebra giraffe")
    wait_for(browser, lambda d: finds(d, "#no-answer"))
    assert find(browser, "#no-answer").text == "No confident answer"
    assert "below threshold" in find(browser, "#answer-box .reason").text
    assert finds(browser, "#candidates td.score")  # the candidates and their scores are still shown

    ask(browser, "   ")  # the box is required: nothing is sent, the old result stays
    # admin: unlock with the token, add, edit and delete an entry
    find(browser, "#admin summary").click()
    find(browser, "#token").send_keys(TOKEN)
    find(browser, "#unlock").click()
    wait_for(browser, lambda d: len(finds(d, "#entries tbody tr")) == 3)

    find(browser, "#entry-question").send_keys("do you deliver on saturdays")
    find(browser, "#entry-answer").send_keys("Yes, until noon.")
    find(browser, "#entry-paraphrases").send_keys("saturday delivery")
    find(browser, "#save-entry").click()
    wait_for(browser, lambda d: len(finds(d, "#entries tbody tr")) == 4)
    added = httpx.get(live_server + "/faq", params={"contains": "saturday"}).json()["entries"]
    assert [e["paraphrases"] for e in added] == [["saturday delivery"]]
    entry_id = added[0]["id"]

    ask(browser, "saturday delivery")
    wait_for(browser, lambda d: finds(d, "#answer") and find(d, "#answer").text == "Yes, until noon.")

    find(browser, f'#entries tr[data-id="{entry_id}"] button.edit').click()
    assert find(browser, "#entry-question").get_attribute("value") == "do you deliver on saturdays"
    find(browser, "#entry-answer").clear()
    find(browser, "#entry-answer").send_keys("Yes, until 1 pm.")
    find(browser, "#save-entry").click()
    wait_for(browser, lambda d: "Saved entry" in find(d, "#admin-status").text)
    assert httpx.get(f"{live_server}/faq/{entry_id}").json()["answer"] == "Yes, until 1 pm."

    find(browser, f'#entries tr[data-id="{entry_id}"] button.delete').click()
    wait_for(browser, lambda d: len(finds(d, "#entries tbody tr")) == 3)
    assert httpx.get(f"{live_server}/faq/{entry_id}").status_code == 404
    browser.save_screenshot(str(tmp_path / "page.png"))

    # a wrong token: the page says why the write failed
    browser.execute_script("sessionStorage.clear()")
    find(browser, "#token").clear()
    find(browser, "#token").send_keys("wrong")
    find(browser, "#unlock").click()
    find(browser, "#entry-question").send_keys("q")
    find(browser, "#entry-answer").send_keys("a")
    find(browser, "#save-entry").click()
    wait_for(browser, lambda d: "Bearer" in find(d, "#admin-status").text)
    assert bank.store.count()[0] == 3


def policy_violations(driver) -> list[str]:
    """The console's Content-Security-Policy complaints since the last call."""
    return [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]


def test_the_page_works_within_its_content_security_policy(browser, live_server):
    browser.get(live_server + "/")
    ask(browser, "when are you open")
    assert wait_for(browser, lambda d: finds(d, "#answer"))[0].text == "Monday to Friday, 9 to 5."
    assert find(browser, "header h1").value_of_css_property("font-family")  # the style sheet applies
    assert policy_violations(browser) == []


def test_the_api_docs_render_within_their_content_security_policy(browser, live_server):
    browser.get(live_server + "/docs")
    operations = wait_for(browser, lambda d: finds(d, ".opblock-summary"), timeout=30)
    assert len(operations) == 8
    assert finds(browser, "button.authorize")  # the bearer scheme: Swagger UI's Authorize button
    assert policy_violations(browser) == []

    browser.get(live_server + "/redoc")
    wait_for(browser, lambda d: "answer a question or abstain" in d.find_element("tag name", "body").text, timeout=30)
    # ReDoc's "powered by" logo comes from its CDN: blocked, as it is with no internet; nothing else is
    assert [v for v in policy_violations(browser) if "https://cdn.redoc.ly/" not in v] == []
