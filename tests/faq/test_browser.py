"""The web page end to end in headless Chromium (Debian's chromium and chromium-driver)."""

import os
import shutil
import tempfile
from pathlib import Path

import httpx
import pytest

from conftest import TOKEN, served

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1200,1000"]


@pytest.fixture
def browser():
    yield from chromium()


def chromium(prefs: dict | None = None):
    """Headless Chromium (`prefs`: its preferences, e.g. the languages it asks for)."""
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
    if prefs:
        options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, condition, timeout=10):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # a list the page is redrawing meanwhile: look again
    return WebDriverWait(driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: condition(d))


def dropdown(element):
    from selenium.webdriver.support.ui import Select

    return Select(element)


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


def open_page(driver, base_url, path="/admin"):
    """A page (the support team's by default), once it has read /config (which decides the admin
    section, the fallback text and the language)."""
    driver.get(base_url + path)
    wait_for(driver, lambda d: d.find_element("tag name", "body").get_attribute("data-config") == "loaded")


def test_ask_and_admin_in_the_page(browser, live_server, bank, tmp_path):
    bank.set_settings(threshold=0.7)
    open_page(browser, live_server)
    assert browser.title == "samesense FAQ: support team"

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
    unlock(browser, TOKEN)
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


def unlock(driver, token):
    """Open the admin section of the page (opened with open_page) and give it `token`."""
    if find(driver, "#admin").get_attribute("open") is None:
        find(driver, "#admin summary").click()
    find(driver, "#token").clear()
    find(driver, "#token").send_keys(token)
    find(driver, "#unlock").click()


def test_a_wrong_token_does_not_open_the_admin_panel(browser, live_server, bank):
    open_page(browser, live_server)
    unlock(browser, "wrong-token-of-some-length")
    wait_for(browser, lambda d: find(d, "#token-status").text == "Wrong token.")
    assert not find(browser, "#admin-body").is_displayed() and not find(browser, "#entry-form").is_displayed()
    assert browser.execute_script("return sessionStorage.getItem('samesense-token')") is None

    unlock(browser, TOKEN)  # the right one opens it
    wait_for(browser, lambda d: find(d, "#entry-form").is_displayed() and len(finds(d, "#entries tbody tr")) == 3)
    assert find(browser, "#token-status").text == ""
    assert bank.store.count()[0] == 3


@pytest.fixture
def product_server(bank, tmp_path):
    """A writable server with a fallback text of its own and an unanswered-questions log: yields
    its base URL."""
    from samesense.faq.serve import create_app
    from samesense.faq.unanswered import UnansweredLog

    with UnansweredLog(tmp_path / "bank.faq.unanswered") as log:
        with served(create_app(bank, TOKEN, fallback_text="Call us on 0800 123 456.", unanswered=log)) as url:
            yield url


def test_the_fallback_text_is_shown_under_no_confident_answer(browser, product_server):
    open_page(browser, product_server, "/")
    ask(browser, "zebra giraffe")
    wait_for(browser, lambda d: finds(d, "#no-answer"))
    assert find(browser, "#no-answer").text == "Sorry, we have no confident answer to that question."
    assert find(browser, "#answer-box #fallback").text == "Call us on 0800 123 456."
    ask(browser, "when are you open")
    wait_for(browser, lambda d: finds(d, "#answer"))
    assert not finds(browser, "#fallback")  # an answer needs no fallback


def test_the_unanswered_questions_show_in_the_admin_panel(browser, product_server):
    open_page(browser, product_server)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for asked, question in enumerate(("zebra giraffe", "Zebra, giraffe?"), 1):
        ask(browser, question)
        wait_for(browser, lambda d: httpx.get(product_server + "/unanswered", headers=auth).json()["asks"] == asked)
    unlock(browser, TOKEN)
    rows = wait_for(browser, lambda d: finds(d, "#unanswered tbody tr"))
    assert [td.text for td in rows[0].find_elements("css selector", "td")][:2] == ["2", "Zebra, giraffe?"]
    assert "1 distinct question, asked 2 times" in find(browser, "#unanswered-status").text
    rows[0].find_element("css selector", "button.add-entry").click()
    assert find(browser, "#entry-question").get_attribute("value") == "Zebra, giraffe?"


def test_the_entry_list_pages(browser, live_server, bank):
    for i in range(12):
        bank.add(f"extra question number {i:02d}", f"extra answer {i}")  # 15 entries in all
    open_page(browser, live_server)
    unlock(browser, TOKEN)
    wait_for(browser, lambda d: len(finds(d, "#entries tbody tr")) == 15)
    dropdown(find(browser, "#page-size")).select_by_visible_text("10")

    def page():
        return [row.get_attribute("data-id") for row in finds(browser, "#entries tbody tr")]

    first = wait_for(browser, lambda d: len(page()) == 10 and page())
    assert find(browser, "#page-range").text == "1–10 of 15"
    assert not find(browser, "#previous-page").is_enabled() and find(browser, "#next-page").is_enabled()
    find(browser, "#next-page").click()
    wait_for(browser, lambda d: find(d, "#page-range").text == "11–15 of 15")
    assert len(page()) == 5 and not set(page()) & set(first)
    assert find(browser, "#previous-page").is_enabled() and not find(browser, "#next-page").is_enabled()
    find(browser, "#previous-page").click()
    wait_for(browser, lambda d: page() == first)

    find(browser, "#filter").send_keys("extra question")  # a filter pages too, from its first page
    holding = '1–10 of 12 holding "extra question"'  # the entries the filter matches (issue 34: it said the bank's 15)
    wait_for(browser, lambda d: find(d, "#page-range").text == holding)
    assert find(browser, "#next-page").is_enabled()
    find(browser, "#next-page").click()
    wait_for(browser, lambda d: len(page()) == 2 and not find(d, "#next-page").is_enabled())


@pytest.fixture
def read_only_server(bank):
    from samesense.faq.serve import create_app

    with served(create_app(bank, None)) as url:
        yield url


def test_a_read_only_server_shows_no_admin_form(browser, read_only_server):
    open_page(browser, read_only_server)
    ask(browser, "when are you open")
    wait_for(browser, lambda d: finds(d, "#answer"))
    assert not find(browser, "#admin").is_displayed() and not find(browser, "#entry-form").is_displayed()
    assert not find(browser, "#token").is_displayed()


def policy_violations(driver) -> list[str]:
    """The console's Content-Security-Policy complaints since the last call."""
    return [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]


def test_the_page_works_within_its_content_security_policy(browser, live_server):
    for path in ("/", "/admin"):
        browser.get(live_server + path)
        ask(browser, "when are you open")
        assert wait_for(browser, lambda d: finds(d, "#answer"))[0].text == "Monday to Friday, 9 to 5."
        assert find(browser, "header h1").value_of_css_property("font-family")  # the style sheet applies
        assert policy_violations(browser) == []


def test_the_api_docs_render_within_their_content_security_policy(browser, live_server):
    browser.get(live_server + "/docs")
    operations = wait_for(browser, lambda d: finds(d, ".opblock-summary"), timeout=30)
    assert len(operations) == 15
    assert finds(browser, "button.authorize")  # the bearer scheme: Swagger UI's Authorize button
    assert policy_violations(browser) == []

    browser.get(live_server + "/redoc")
    wait_for(browser, lambda d: "answer a question or abstain" in d.find_element("tag name", "body").text, timeout=30)
    # ReDoc's "powered by" logo comes from its CDN: blocked, as it is with no internet; nothing else is
    assert [v for v in policy_violations(browser) if "https://cdn.redoc.ly/" not in v] == []
