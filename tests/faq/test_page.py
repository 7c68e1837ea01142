"""Issue 34: the pages a support team can show customers: who may embed the widget (its framing
policy and CORS, strict unless origins are named), and the interface's language, which the server
chooses from each request's Accept-Language, for the customer pages and the support team's /admin
alike. The pages themselves are tried in Chromium (test_browser.py, test_browser_loop.py)."""

import json
import re

import pytest
from conftest import TOKEN
from fastapi.testclient import TestClient

from samesense.errors import SamesenseError
from samesense.faq.serve import create_app

SITE = "https://help.example.com"


def test_by_default_no_page_may_frame_any_page_and_there_is_no_cors(bank):
    with TestClient(create_app(bank, None)) as c:
        for path in ("/", "/widget", "/admin"):
            r = c.get(path, headers={"Origin": SITE})
            assert r.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in r.headers["content-security-policy"]
            assert "access-control-allow-origin" not in r.headers
        preflight = c.options("/ask", headers={"Origin": SITE, "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in preflight.headers


def test_embed_origins_may_frame_the_widget_alone_and_call_the_api(bank):
    with TestClient(create_app(bank, None, embed_origins=[SITE])) as c:
        widget = c.get("/widget")
        assert "x-frame-options" not in widget.headers
        assert f"frame-ancestors {SITE}" in widget.headers["content-security-policy"]
        assert 'id="question"' in widget.text
        assert c.get("/").headers["x-frame-options"] == "DENY" and c.get("/admin").headers["x-frame-options"] == "DENY"
        preflight = c.options("/ask", headers={"Origin": SITE, "Access-Control-Request-Method": "POST",
                                               "Access-Control-Request-Headers": "content-type"})
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == SITE
        asked = c.post("/ask", json={"question": "when are you open"}, headers={"Origin": SITE})
        assert asked.json()["answered"] and asked.headers["access-control-allow-origin"] == SITE
        other = c.post("/ask", json={"question": "when are you open"}, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize("origin", ["https://help.example.com/", "*", "help.example.com", "https://*.example.com",
                                    "https://help.example.com/faq"])
def test_an_embed_origin_that_is_not_one_is_refused_in_one_line(bank, origin):
    with pytest.raises(SamesenseError, match="expected scheme://host"):
        create_app(bank, None, embed_origins=[origin])


def test_the_page_language_setting_is_checked(bank):
    with pytest.raises(SamesenseError, match="page language 'fr'"):
        create_app(bank, None, page_language="fr")


CHINESE_H1 = "<h1>提问</h1>"


@pytest.mark.parametrize("header, chosen", [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("zh-TW", "zh"), ("zh", "zh"), ("ZH_cn", "zh"), ("zh-Hant-HK", "zh"),
    ("zh-CN, en;q=0.5", "zh"),  # the best q is Chinese (werkzeug's best_match alone would say en: an exact en)
    ("en;q=0.5, zh-CN;q=0.9", "zh"), ("en-US,en;q=0.9", "en"), ("fr-FR, de", "en"), ("fr, zh;q=0.3", "zh"),
    ("zh;q=0, en", "en"), ("zh, en", "zh"), ("en, zh", "en"), ("*", "en"), ("", "en"),
    # malformed: what cannot be read counts for nothing, never an error
    (";;;", "en"), ("zh;q=abc", "en"), ("zh;q=1e400", "en"), (";q=1, zh", "zh"), ("q=0.5", "en"), (",,,zh,,", "zh"),
    ("x" * 4000 + ", zh", "zh"), (b"\xe9\xff\x00zh", "en"), (b"\xe9, zh-CN", "zh"),
])
def test_the_server_chooses_the_language_from_accept_language(bank, header, chosen):
    with TestClient(create_app(bank, None)) as c:
        for path in ("/", "/widget", "/admin"):  # one rule for every page
            page = c.get(path, headers={"Accept-Language": header})
            assert page.status_code == 200 and page.headers["vary"] == "Accept-Language"
            assert (f'<html lang="{"zh-CN" if chosen == "zh" else "en"}">' in page.text) and (CHINESE_H1 in page.text) == (chosen == "zh")
        config = c.get("/config", headers={"Accept-Language": header})
        assert config.status_code == 200 and config.headers["vary"] == "Accept-Language"
        assert config.json()["page_language"] == chosen and config.json()["page_language_setting"] == "auto"


def test_without_the_header_the_page_is_english_and_the_strings_go_with_it(bank):
    with TestClient(create_app(bank, None)) as c:
        english = c.get("/")
        assert '<html lang="en">' in english.text and "<h1>Ask a question</h1>" in english.text
        assert 'placeholder="Type your question"' in english.text
        chinese = c.get("/", headers={"Accept-Language": "zh-CN"}).text
        # the strings the script shows later come in the page, in its language (JSON: non-ASCII escaped)
        assert '"noAnswer": "\\u62b1\\u6b49' in chinese and "Sorry" not in chinese
        assert "<title>FAQ</title>" in english.text and "<title>常见问题</title>" in chinese  # the tab's name too
        assert c.get("/config").json()["page_language"] == "en"


def test_an_explicit_setting_overrides_the_header_and_lang_overrides_both(bank):
    with TestClient(create_app(bank, None, page_language="en")) as c:
        assert CHINESE_H1 not in c.get("/", headers={"Accept-Language": "zh-CN"}).text
        assert c.get("/config", headers={"Accept-Language": "zh-CN"}).json()["page_language"] == "en"
        assert CHINESE_H1 in c.get("/?lang=zh", headers={"Accept-Language": "en"}).text
    with TestClient(create_app(bank, None, page_language="zh")) as c:
        assert CHINESE_H1 in c.get("/", headers={"Accept-Language": "en-GB"}).text
        assert c.get("/config").json()["page_language"] == "zh"
        assert c.get("/config?lang=en").json()["page_language"] == "en"
        assert "<h1>Ask a question</h1>" in c.get("/widget?lang=en").text
        for odd in ("fr", "", "zh" * 40, "<script>"):  # a ?lang the pages do not have: as if not given
            assert CHINESE_H1 in c.get("/", params={"lang": odd}).text


def visible_text(html: str) -> str:
    """What the page shows before its script runs: the HTML less its scripts, comments and tags."""
    return re.sub(r"<[^>]*>", " ", re.sub(r"<script.*?</script>|<!--.*?-->", " ", html, flags=re.DOTALL))


def interface_strings(html: str) -> dict:
    return json.loads(re.search(r'<script id="interface-strings" type="application/json">(.*?)</script>', html, re.DOTALL)[1])


def test_the_admin_page_comes_in_the_chosen_language_with_its_scripts_strings(bank):
    from samesense.faq.page_strings import ADMIN

    with TestClient(create_app(bank, TOKEN)) as c:
        english = c.get("/admin")
        assert english.status_code == 200 and english.headers["vary"] == "Accept-Language"
        assert '<html lang="en">' in english.text and '<summary id="admin-summary">Admin: add, edit' in english.text
        assert interface_strings(english.text) == ADMIN["en"]
        chinese = c.get("/admin", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
        assert '<html lang="zh-CN">' in chinese.text and chinese.headers["vary"] == "Accept-Language"
        assert '<button id="unlock" type="submit">解锁</button>' in chinese.text
        assert 'placeholder="问题或答案中的文字"' in chinese.text
        # every word shown is Chinese (the product's name aside); the script's strings come with the page
        assert not re.search(r"[A-Za-z]", visible_text(chinese.text).replace("samesense", ""))
        assert interface_strings(chinese.text) == ADMIN["zh"]
        assert '<html lang="en">' in c.get("/admin?lang=en", headers={"Accept-Language": "zh-CN"}).text
        # the API's own messages are not the page's: they stay as they are
        assert c.get("/unanswered", headers={"Accept-Language": "zh-CN"}).json()["detail"].isascii()
    with TestClient(create_app(bank, TOKEN, page_language="zh")) as c:  # the server's setting, as for /
        assert CHINESE_H1 in c.get("/admin", headers={"Accept-Language": "en-GB"}).text
        assert "<h1>Ask a question</h1>" in c.get("/admin?lang=en").text


def test_the_widget_is_compact_from_the_server_and_the_page_is_not(bank):
    with TestClient(create_app(bank, None)) as c:
        assert '<body class="customer widget">' in c.get("/widget").text
        assert '<body class="customer">' in c.get("/").text


def test_a_read_only_server_shows_its_log_to_the_token_alone_and_takes_no_action_on_it(bank, tmp_path):
    from samesense.faq.unanswered import UnansweredLog

    auth = {"Authorization": f"Bearer {TOKEN}"}
    with UnansweredLog(tmp_path / "bank.faq.unanswered") as log:
        with TestClient(create_app(bank, TOKEN, read_only=True, unanswered=log)) as c:
            c.post("/ask", json={"question": "zebra giraffe"})
            config = c.get("/config").json()
            assert (config["writable"], config["has_token"]) == (False, True)  # the page offers the token form
            assert c.get("/unanswered").status_code == 401
            assert c.get("/unanswered", headers=auth).json()["total"] == 1
            assign = c.post("/unanswered/assign", json={"question": "zebra giraffe", "entry_id": 1}, headers=auth)
            assert assign.status_code == 403 and len(bank.get(1).paraphrases) == 1
        with TestClient(create_app(bank, None, unanswered=log)) as c:  # no token: the log is nobody's to read here
            assert c.get("/config").json()["has_token"] is False
            assert c.get("/unanswered", headers=auth).status_code == 403
