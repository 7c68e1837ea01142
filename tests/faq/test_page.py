"""Issue 34: the pages a support team can show customers: who may embed the widget (its framing
policy and CORS, strict unless origins are named), and the interface's language setting. The pages
themselves are tried in Chromium (test_browser.py)."""

import pytest
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


def test_the_page_language_is_a_setting_the_page_reads(bank):
    with TestClient(create_app(bank, None, page_language="zh")) as c:
        assert c.get("/config").json()["page_language"] == "zh"
    with pytest.raises(SamesenseError, match="page language 'fr'"):
        create_app(bank, None, page_language="fr")
