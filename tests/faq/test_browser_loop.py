"""Issue 34 in headless Chromium: the support team fixes the bank from the unanswered list (assign,
dismiss, add), the customer view (no scores, safe markdown, a polite no-answer), the widget embedded
in a page of another origin, and the Chinese interface."""

import httpx
import pytest

from conftest import TOKEN, served
from test_browser import ask, browser, chromium, find, finds, open_page, unlock, wait_for  # noqa: F401 (browser)

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def loop_server(bank, tmp_path):
    from samesense.faq.serve import create_app
    from samesense.faq.unanswered import UnansweredLog

    with UnansweredLog(tmp_path / "bank.faq.unanswered") as log:
        with served(create_app(bank, TOKEN, unanswered=log)) as url:
            yield url


def logged(url, *questions):
    for question in questions:
        httpx.post(url + "/ask", json={"question": question})
    return httpx.get(url + "/unanswered", headers=AUTH).json()


def unanswered_rows(driver):
    return {row.get_attribute("data-question"): row for row in finds(driver, "#unanswered tbody tr")}


def test_assign_dismiss_and_add_from_the_unanswered_list(browser, loop_server, bank):
    assert logged(loop_server, "forgotten pin code", "asdf qwer", "do you ship abroad")["total"] == 3
    open_page(browser, loop_server)
    unlock(browser, TOKEN)
    rows = wait_for(browser, lambda d: len(unanswered_rows(d)) == 3 and unanswered_rows(d))

    # assign: the nearest entries are offered first, the pin entry among them
    choice = rows["forgotten pin code"].find_element("css selector", "select.assign-to")
    options = [o.get_attribute("value") for o in choice.find_elements("css selector", "option")]
    assert options[0] == "1" and options[-1] == ""  # nearest first, then "another entry, by id"
    rows["forgotten pin code"].find_element("css selector", "button.assign").click()
    wait_for(browser, lambda d: "forgotten pin code" not in unanswered_rows(d))
    assert "forgotten pin code" in bank.get(1).paraphrases
    assert "i forgot my pin code" in bank.get(1).paraphrases  # the others kept
    assert httpx.post(loop_server + "/ask", json={"question": "forgotten pin code"}).json()["entry_id"] == 1

    unanswered_rows(browser)["asdf qwer"].find_element("css selector", "button.dismiss").click()
    wait_for(browser, lambda d: set(unanswered_rows(d)) == {"do you ship abroad"})
    assert "Dismissed" in find(browser, "#admin-status").text

    unanswered_rows(browser)["do you ship abroad"].find_element("css selector", "button.add-entry").click()
    assert find(browser, "#entry-question").get_attribute("value") == "do you ship abroad"
    find(browser, "#entry-answer").send_keys("Yes, to the EU.")
    find(browser, "#save-entry").click()
    wait_for(browser, lambda d: not unanswered_rows(d) and len(finds(d, "#entries tbody tr")) == 4)
    assert httpx.post(loop_server + "/ask", json={"question": "do you ship abroad"}).json()["answer"] == "Yes, to the EU."
    handled = httpx.get(loop_server + "/unanswered", params={"status": "all"}, headers=AUTH).json()["questions"]
    assert sorted(q["status"] for q in handled) == ["added", "assigned", "dismissed"]  # kept, with their status


def test_a_read_only_server_shows_the_log_to_the_token_with_no_action(browser, bank, tmp_path):
    """The log holds customers' questions: behind the token, as on a writable server; nothing written."""
    from samesense.faq.serve import create_app
    from samesense.faq.unanswered import UnansweredLog

    with UnansweredLog(tmp_path / "read-only.unanswered") as log:
        with served(create_app(bank, TOKEN, read_only=True, unanswered=log)) as url:
            assert logged(url, "forgotten pin code", "Forgotten PIN code?", "asdf qwer")["total"] == 2
            open_page(browser, url)
            assert "read-only" in find(browser, "#admin summary").text
            unlock(browser, TOKEN)
            rows = wait_for(browser, lambda d: len(unanswered_rows(d)) == 2 and unanswered_rows(d))
            assert find(browser, "#unanswered-status").text.startswith("2 distinct questions, asked 3 times")
            pin = rows["Forgotten PIN code?"]  # the latest wording, asked twice, its nearest entries as text
            assert pin.find_element("css selector", "td.count").text == "2"
            assert pin.find_element("css selector", "td.nearest").text.startswith("#1 ")
            assert not finds(browser, "#unanswered button, #unanswered select, #unanswered input")
            assert not find(browser, "#entry-form").is_displayed() and not find(browser, "#entries").is_displayed()
            find(browser, "#refresh-unanswered").click()
            wait_for(browser, lambda d: len(unanswered_rows(d)) == 2)
            assert log.count(status="all") == log.count(status="open") == (2, 3)  # nothing handled, nothing written
            assert [e.id for e in bank.list_entries(0, 10)] == [1, 2, 3] and len(bank.get(1).paraphrases) == 1


def test_the_customer_view_shows_answers_safely_and_no_scores(browser, loop_server, bank):
    bank.set_settings(threshold=0.7)
    bank.add("how do i pay", "By card or transfer.\nDetails: [our payment page](https://example.com/pay) "
             "or https://example.com/help.\n<img src=x onerror=\"document.title='owned'\"> <script>alert(1)</script>")
    open_page(browser, loop_server, "/")
    ask(browser, "how do i pay")
    answer = wait_for(browser, lambda d: finds(d, "#answer"))[0]
    assert answer.text.splitlines()[:2] == ["By card or transfer.", "Details: our payment page or https://example.com/help."]
    links = {a.text: a.get_attribute("href") for a in answer.find_elements("css selector", "a")}
    assert links == {"our payment page": "https://example.com/pay", "https://example.com/help": "https://example.com/help"}
    assert not answer.find_elements("css selector", "img, script") and "<script>alert(1)</script>" in answer.text
    assert browser.title == "FAQ"  # the onerror never ran

    ask(browser, "zebra giraffe")  # nothing near: a polite message, no candidates, no scores
    wait_for(browser, lambda d: finds(d, "#no-answer"))
    assert find(browser, "#no-answer").text == "Sorry, we have no confident answer to that question."
    assert find(browser, "#fallback").text == "Please rephrase the question, or contact support."
    assert not finds(browser, "#candidates, td.score") and "0." not in find(browser, "#result").text

    bank.add("when are you open today", "Today: 9 to 5.")
    bank.set_settings(margin=0.1)  # two entries nearly as close: "did you mean", no answers shown
    ask(browser, "when are you open please")
    choices = wait_for(browser, lambda d: finds(d, "#choices button.choice"))
    assert [c.text for c in choices] == ["when are you open", "when are you open today"]
    assert "Monday" not in find(browser, "#result").text
    choices[0].click()
    assert wait_for(browser, lambda d: finds(d, "#answer"))[0].text == "Monday to Friday, 9 to 5."

    bank.set_settings(margin=0.02, threshold=0.95, suggest=0.5)  # below the threshold: choices once `suggest` allows
    ask(browser, "when are you open please")
    choices = wait_for(browser, lambda d: finds(d, "#choices button.choice"))
    assert [c.text for c in choices] == ["when are you open", "when are you open today"]
    assert find(browser, "#no-answer").is_displayed() and "0." not in find(browser, "#result").text


def host_app(page: dict):
    """Another site: a page (its HTML in page["html"], set once the widget's address is known) that
    frames the widget."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    return Starlette(routes=[Route("/", lambda request: HTMLResponse(page["html"]))])


@pytest.mark.parametrize("allowed", [True, False], ids=["allowed", "not-allowed"])
def test_the_widget_embedded_in_a_page_of_another_origin(browser, bank, allowed):
    from samesense.faq.serve import create_app

    page = {"html": ""}
    with served(host_app(page)) as host_url:
        origin = host_url.replace("127.0.0.1", "localhost")  # another origin: another host name and port
        app = create_app(bank, None, allowed_hosts=["127.0.0.1"], embed_origins=[origin] if allowed else [])
        with served(app) as faq_url:
            page["html"] = (f'<!doctype html><title>our help centre</title><h1>Help</h1>'
                            f'<iframe id="faq" src="{faq_url}/widget" width="600" height="400"></iframe>')
            browser.get(origin + "/")
            browser.switch_to.frame(wait_for(browser, lambda d: finds(d, "#faq"))[0])
            if not allowed:  # the default: framing refused, the frame holds no widget
                wait_for(browser, lambda d: d.execute_script("return document.readyState") == "complete")
                assert not finds(browser, "#question")
                return
            wait_for(browser, lambda d: d.find_element("tag name", "body").get_attribute("data-config") == "loaded")
            assert "widget" in find(browser, "body").get_attribute("class") and not find(browser, "header").is_displayed()
            ask(browser, "when are you open")
            assert wait_for(browser, lambda d: finds(d, "#answer"))[0].text == "Monday to Friday, 9 to 5."


@pytest.fixture
def chinese_browser():
    yield from chromium({"intl.accept_languages": "zh-CN,zh"})


def test_the_server_sends_the_chinese_interface_to_a_chinese_browser(chinese_browser, loop_server):
    open_page(chinese_browser, loop_server, "/")
    assert chinese_browser.execute_script("return navigator.language").startswith("zh")
    # no script translates the page any more (i18n.js chooses nothing): Chinese here is the server's choice
    assert find(chinese_browser, "h1").text == "提问" and find(chinese_browser, "#ask-button").text == "提问"
    assert find(chinese_browser, "#question").get_attribute("placeholder") == "请输入您的问题"
    assert find(chinese_browser, "html").get_attribute("lang") == "zh-CN"
    ask(chinese_browser, "zebra giraffe")
    wait_for(chinese_browser, lambda d: finds(d, "#no-answer"))
    assert find(chinese_browser, "#no-answer").text == "抱歉，我们没有把握回答这个问题。"
    assert find(chinese_browser, "#fallback").text == "请换一种说法，或联系客服。"  # the default fallback, translated
    said = chinese_browser.execute_async_script(  # what the server answers this browser's own request
        "fetch('/config').then((r) => r.json()).then((c) => arguments[0](c.page_language))")
    assert said == "zh"

    open_page(chinese_browser, loop_server, "/?lang=en")  # the page's address overrides the browser
    assert find(chinese_browser, "h1").text == "Ask a question"
    assert find(chinese_browser, "html").get_attribute("lang") == "en"

    # the support team's page, by the same rule: its headings, and the log's actions once the token opens it
    assert logged(loop_server, "forgotten pin code", "asdf qwer")["total"] == 3  # "zebra giraffe" above
    open_page(chinese_browser, loop_server, "/admin")
    assert find(chinese_browser, "html").get_attribute("lang") == "zh-CN" and find(chinese_browser, "h1").text == "提问"
    assert find(chinese_browser, "#admin summary").text == "管理：添加、编辑和删除条目"
    unlock(chinese_browser, TOKEN)
    rows = wait_for(chinese_browser, lambda d: len(unanswered_rows(d)) == 3 and unanswered_rows(d))
    assert find(chinese_browser, "#unanswered-heading").text == "未能回答的问题"
    assert find(chinese_browser, "#nearest-heading").text == "归入条目"
    assert find(chinese_browser, "#unanswered-status").text == "3 个不同的问题，共被问 3 次；问得最多的在前。"
    pin = rows["forgotten pin code"]
    assert pin.find_element("css selector", "button.assign").text == "归入"
    assert pin.find_element("css selector", "button.add-entry").text == "添加为条目"
    assert pin.find_elements("css selector", "select.assign-to option")[-1].text == "其他条目，按编号："
    assert find(chinese_browser, "#page-range").text == "1–3，共 3 条"
    assert find(chinese_browser, "#entries button.edit").text == "编辑"
    rows["asdf qwer"].find_element("css selector", "button.dismiss").click()
    wait_for(chinese_browser, lambda d: "asdf qwer" not in unanswered_rows(d))
    assert find(chinese_browser, "#admin-status").text == "已忽略“asdf qwer”。"
    assert unanswered_rows(chinese_browser)["zebra giraffe"].find_element("css selector", "button.dismiss").text == "忽略"
