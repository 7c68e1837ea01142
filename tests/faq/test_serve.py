import json

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from samesense.errors import SamesenseError
from samesense.faq.choices import FALLBACK_TEXT
from samesense.faq.guard import check_allowed_hosts, default_allowed_hosts
from samesense.faq.serve import Limits, create_app, serve

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(bank):
    with TestClient(create_app(bank, TOKEN, Limits(max_body_bytes=4096, max_question_chars=200))) as c:
        yield c


def test_ask_answers_and_abstains(client, bank):
    r = client.post("/ask", json={"question": "when are you open"})
    assert r.status_code == 200
    body = r.json()
    assert body["answered"] and body["answer"] == "Monday to Friday, 9 to 5."
    assert body["matched_question"] == "when are you open" and body["candidates"][0]["score"] == pytest.approx(1)
    bank.set_settings(threshold=0.99)
    body = client.post("/ask", json={"question": "open", "k": 2}).json()
    assert not body["answered"] and body["reason"].startswith("below threshold")
    assert len(body["candidates"]) == 2 and body["answer"] is None


def test_a_question_below_the_threshold_gets_did_you_mean_once_suggest_allows_it(client, bank):
    bank.set_settings(threshold=0.99)
    assert client.post("/ask", json={"question": "when are you open please"}).json()["did_you_mean"] == []
    assert client.get("/healthz").json()["suggest"] == 1.0  # off
    bank.set_settings(suggest=0.5)  # as `faq set --suggest 0.5` would (test_faq_cli.py)
    assert client.get("/healthz").json()["suggest"] == 0.5
    body = client.post("/ask", json={"question": "when are you open please"}).json()
    assert not body["answered"] and body["reason"].startswith("below threshold")
    assert [c["question"] for c in body["did_you_mean"]] == ["when are you open"]
    assert client.post("/ask", json={"question": "zebra"}).json()["did_you_mean"] == []  # nothing reaches 0.5


def test_crud_needs_the_token(client):
    entry = {"question": "do you ship abroad", "answer": "Yes, to the EU.", "paraphrases": ["international shipping"],
             "tags": ["shipping"]}
    assert client.post("/faq", json=entry).status_code == 401
    assert client.post("/faq", json=entry, headers={"Authorization": "Bearer wrong"}).status_code == 401
    r = client.post("/faq", json=entry, headers=AUTH)
    assert r.status_code == 201
    new = r.json()
    assert new["paraphrases"] == ["international shipping"] and new["tags"] == ["shipping"]
    assert client.get(f"/faq/{new['id']}").json()["question"] == "do you ship abroad"
    assert client.post("/ask", json={"question": "international shipping"}).json()["entry_id"] == new["id"]

    assert client.put(f"/faq/{new['id']}", json={"answer": "Yes, worldwide."}).status_code == 401
    r = client.put(f"/faq/{new['id']}", json={"answer": "Yes, worldwide."}, headers=AUTH)
    assert r.status_code == 200 and r.json()["answer"] == "Yes, worldwide." and r.json()["paraphrases"]
    listed = client.get("/faq", params={"contains": "worldwide"}).json()
    assert listed["total"] == 1 and [e["id"] for e in listed["entries"]] == [new["id"]]

    assert client.delete(f"/faq/{new['id']}").status_code == 401
    assert client.delete(f"/faq/{new['id']}", headers=AUTH).status_code == 204
    assert client.get(f"/faq/{new['id']}").status_code == 404
    assert client.delete(f"/faq/{new['id']}", headers=AUTH).status_code == 404
    assert client.put("/faq/999", json={"answer": "x"}, headers=AUTH).status_code == 404


def test_read_only_server_refuses_writes(bank):
    with TestClient(create_app(bank, None)) as c:
        r = c.post("/faq", json={"question": "q", "answer": "a"}, headers=AUTH)
        assert r.status_code == 403 and "read-only" in r.json()["detail"]
        assert c.get("/healthz").json()["writable"] is False


@pytest.mark.parametrize("body, headers, status, message", [
    (b'{"question": ""}', {}, 422, "question: String should have at least 1 character"),
    (b'{"question": "   "}', {}, 422, "question: empty"),
    (json.dumps({"question": "x" * 201}).encode(), {}, 422, "question: String should have at most 200 characters"),
    (json.dumps({"question": "x" * 1_000_000}).encode(), {}, 413, "larger than 4096 bytes"),
    (b'{"question": "pin"}', {"Content-Length": "999999"}, 413, "larger than 4096 bytes"),  # refused unread
    (b'{"question": "pin"}', {"Content-Length": "abc"}, 400, "bad Content-Length"),
    (b'{"question": "caf\xe9"}', {}, 400, "not valid UTF-8"),
    (b'{"question": 5}', {}, 422, "question: Input should be a valid string"),
    (b'{"question": ["a"]}', {}, 422, "question: Input should be a valid string"),
    (b'["how do i reset my pin"]', {}, 422, "body: Input should be a valid dictionary"),
    (b'{"question": "pin", "k": 0}', {}, 422, "k:"),
    (b'{"question": "pin", "extra": 1}', {}, 422, "extra"),
    (b'{"question": ', {}, 400, "malformed JSON"),
    (b'{}', {}, 422, "question: Field required"),
    (b'', {}, 422, "body: Field required"),
])
def test_bad_ask_requests_are_4xx_with_a_message(client, body, headers, status, message):
    r = client.post("/ask", content=body, headers={"Content-Type": "application/json", **headers})
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]


def test_a_chunked_body_without_length_is_limited_too(client):
    chunks = iter([b'{"question": "', b"x" * 3000, b"x" * 3000, b'"}'])
    r = client.post("/ask", content=chunks, headers={"Content-Type": "application/json"})
    assert r.request.headers.get("transfer-encoding") == "chunked" and "content-length" not in r.request.headers
    assert r.status_code == 413 and "larger than 4096 bytes" in r.json()["detail"]


def test_bad_entry_requests_are_4xx(client):
    for body, status in [({"question": "q"}, 422), ({"question": "q", "answer": " "}, 422),
                         ({"question": "q", "answer": "a", "paraphrases": "not a list"}, 422),
                         ({"question": "q", "answer": "a", "paraphrases": [""]}, 422),
                         ({"question": 1, "answer": "a"}, 422)]:
        r = client.post("/faq", json=body, headers=AUTH)
        assert r.status_code == status and r.json()["detail"], (body, r.text)
    assert client.get("/faq/notanumber").status_code == 422
    assert client.get("/faq", params={"limit": 0}).status_code == 422
    assert client.get("/nowhere").status_code == 404
    r = client.post("/ask", content=b"x" * 10, headers={"Content-Length": "abc"})
    assert r.status_code == 400


def test_healthz_metrics_page_and_docs(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["entries"] == 3 and health["index"] == "flat"
    client.post("/ask", json={"question": "when are you open"})
    client.post("/ask", json={"question": "zebra"})
    client.post("/ask", json={"question": ""})
    text = client.get("/metrics").text
    assert 'samesense_requests_total{method="POST",route="/ask",status="200"} 2' in text
    assert 'samesense_requests_total{method="POST",route="/ask",status="422"} 1' in text
    assert 'samesense_request_seconds_count{route="/ask"} 3' in text
    assert 'samesense_asks_total{outcome="answered"} 1' in text
    assert "samesense_abstention_rate 0.5" in text
    page = client.get("/")
    assert page.status_code == 200 and 'id="question"' in page.text
    assert client.get("/static/customer.js").status_code == 200 and client.get("/static/admin.js").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/ask", "/faq", "/faq/{entry_id}", "/healthz", "/metrics"} <= set(spec["paths"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()  # works with no internet
    script = next(part.split('"')[1] for part in docs.text.split("<script src=")[1:] if "swagger" in part)
    assert client.get(script).status_code == 200


def metric(client, name: str, **labels) -> float:
    """A sample's value on /metrics (0 when the series is not there yet)."""
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_metrics_request_counters_go_up(client):
    ok = {"method": "POST", "route": "/ask", "status": "200"}
    missing = {"method": "GET", "route": "/faq/{entry_id}", "status": "404"}  # the route, not the id
    before = metric(client, "samesense_requests_total", **ok), metric(client, "samesense_request_seconds_count", route="/ask")
    for _ in range(3):
        client.post("/ask", json={"question": "when are you open"})
    client.get("/faq/998")
    client.get("/faq/999")
    client.post("/ask", content=b"x" * 5000, headers={"Content-Type": "application/json"})  # refused by the guard
    assert metric(client, "samesense_requests_total", **ok) == before[0] + 3
    assert metric(client, "samesense_request_seconds_count", route="/ask") == before[1] + 3
    assert metric(client, "samesense_requests_total", **missing) == 2
    assert metric(client, "samesense_requests_total", method="POST", route="unmatched", status="413") == 1
    assert metric(client, "samesense_asks_total", outcome="answered") == 3
    assert metric(client, "samesense_asks_total", outcome="abstained") == 0
    r = client.get("/metrics")
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    r = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert r.headers["content-type"].startswith("application/openmetrics-text") and r.text.endswith("# EOF\n")


def test_each_app_keeps_its_own_metrics(bank):
    with TestClient(create_app(bank, None)) as one, TestClient(create_app(bank, None)) as two:
        one.post("/ask", json={"question": "when are you open"})
        one.post("/ask", json={"question": "zebra"})
        assert metric(one, "samesense_requests_total", method="POST", route="/ask", status="200") == 2
        assert metric(one, "samesense_abstention_rate") == 0.5
        assert metric(two, "samesense_requests_total", method="POST", route="/ask", status="200") == 0
        assert metric(two, "samesense_abstention_rate") == 0.0


# -- hardening (issue 14) -------------------------------------------------------------------------

BEYOND_64_BITS = str(2**63)  # SQLite's integers are signed 64-bit


@pytest.mark.parametrize("method, url", [
    ("GET", f"/faq/{BEYOND_64_BITS}"), ("PUT", f"/faq/{BEYOND_64_BITS}"), ("DELETE", f"/faq/{BEYOND_64_BITS}"),
    ("GET", "/faq/-1"), ("GET", "/faq?offset=99999999999999999999"), ("GET", "/faq?offset=-1"),
])
def test_ids_and_offsets_out_of_range_are_422(client, method, url):
    r = client.request(method, url, json={"answer": "a"} if method == "PUT" else None, headers=AUTH)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(("path.entry_id: Input should be", "query.offset: Input should be"))


@pytest.mark.parametrize("entry", [
    {"question": "q", "answer": "a", "group": "\ud800"},  # a lone surrogate: no UTF-8, SQLite cannot store it
    {"question": "q\udfff", "answer": "a"},
    {"question": "q", "answer": "a", "tags": ["\ud800"]},
    {"question": "q", "answer": "a", "paraphrases": ["x\x00y"]},  # a control character
    {"question": "q", "answer": "a", "group": " "},
])
def test_texts_the_bank_refuses_are_422_not_500(client, entry):
    body = json.dumps(entry).encode()  # ensure_ascii: the surrogates travel as \ud800 escapes
    r = client.post("/faq", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"], r.text
    assert client.get("/faq").json()["total"] == 3


def test_a_fault_of_the_server_is_a_one_line_500(bank, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire at /secret/path")

    monkeypatch.setattr(bank, "list_entries", broken)
    with TestClient(create_app(bank, TOKEN), raise_server_exceptions=False) as c:
        r = c.get("/faq")
    assert r.status_code == 500 and r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": "internal server error; the server's log has the details"}
    assert metric(c, "samesense_requests_total", method="GET", route="/faq", status="500") == 1


def test_a_bank_error_from_a_route_is_4xx(bank, monkeypatch):
    def refuse(*args, **kwargs):
        raise SamesenseError("group 'x' already exists")

    monkeypatch.setattr(bank, "add", refuse)
    with TestClient(create_app(bank, TOKEN)) as c:
        r = c.post("/faq", json={"question": "q", "answer": "a", "group": "x"}, headers=AUTH)
    assert r.status_code == 422 and r.json() == {"detail": "group 'x' already exists"}


def series(client) -> set[tuple]:
    """Every series on /metrics: (sample name, labels)."""
    return {(sample.name, tuple(sorted(sample.labels.items())))
            for family in text_string_to_metric_families(client.get("/metrics").text) for sample in family.samples}


def test_metrics_series_stay_bounded_whatever_the_requests(client):
    def grow(n: int) -> None:
        for i in range(n):
            client.request(f"FOO{i}", "/ask")  # a new method name each time
            client.request("GET", f"/nowhere/{i}")  # a new path each time
            client.get(f"/faq/{1000 + i}")  # a new id each time

    grow(3)
    series(client)  # the scrape's own series
    before = series(client)
    grow(100)
    assert series(client) == before  # the counts grow, the series do not
    assert metric(client, "samesense_requests_total", method="other", route="/ask", status="405") == 103
    assert metric(client, "samesense_requests_total", method="GET", route="unmatched", status="404") == 103
    assert metric(client, "samesense_requests_total", method="GET", route="/faq/{entry_id}", status="404") == 103


def test_openapi_declares_errors_bounds_lengths_and_the_bearer_scheme(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["ErrorOut"]["properties"]["detail"]["type"] == "string"
    assert "HTTPValidationError" not in schemas  # FastAPI's own 422 body (detail: an array) is never sent
    ops = {(m, p): op for p, item in spec["paths"].items() for m, op in item.items()}
    documented = {key: set(op["responses"]) for key, op in ops.items()}
    assert documented[("post", "/ask")] == {"200", "400", "413", "422", "500", "503"}
    assert documented[("get", "/faq/{entry_id}")] == {"200", "400", "404", "413", "422", "500", "503"}
    assert documented[("post", "/faq")] == {"201", "400", "401", "403", "409", "413", "422", "500", "503"}
    assert documented[("put", "/faq/{entry_id}")] >= {"401", "403", "404", "422"}
    assert documented[("delete", "/faq/{entry_id}")] >= {"401", "403", "404", "422"}
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for op in ops.values():
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                assert response["content"] == error_body

    # the lengths are the server's limits (this client's: 200 characters a question)
    question = schemas["AskRequest"]["properties"]["question"]
    assert question["minLength"] == 1 and question["maxLength"] == 200
    entry = schemas["EntryIn"]["properties"]
    assert entry["answer"]["minLength"] == 1 and entry["answer"]["maxLength"] == Limits().max_answer_chars
    assert entry["tags"]["items"]["maxLength"] == Limits().max_tag_chars
    assert entry["tags"]["maxItems"] == Limits().max_tags
    assert entry["paraphrases"]["items"]["maxLength"] == 200
    assert client.post("/ask", json={"question": "x" * 201}).status_code == 422  # and enforced

    # ids and offsets within SQLite's signed 64 bits
    entry_id = ops[("get", "/faq/{entry_id}")]["parameters"][0]["schema"]
    assert entry_id["minimum"] == 1 and entry_id["maximum"] == 2**63 - 1
    offset = next(p for p in ops[("get", "/faq")]["parameters"] if p["name"] == "offset")["schema"]
    assert offset["minimum"] == 0 and offset["maximum"] == 2**63 - 1

    # the token is a security scheme (/docs shows Authorize), not a header parameter
    scheme = spec["components"]["securitySchemes"]["BearerToken"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer" and "SAMESENSE_TOKEN" in scheme["description"]
    for key in [("post", "/faq"), ("put", "/faq/{entry_id}"), ("delete", "/faq/{entry_id}")]:
        assert ops[key]["security"] == [{"BearerToken": []}]
        assert all(p["in"] != "header" for p in ops[key].get("parameters", []))
    assert "security" not in ops[("post", "/ask")]


def test_wrong_credentials_keep_their_own_messages(client):
    for headers in [{}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}, {"Authorization": "Bearer nope"}]:
        r = client.post("/faq", json={"question": "q", "answer": "a"}, headers=headers)
        assert r.status_code == 401 and r.json() == {"detail": "writes need the header Authorization: Bearer TOKEN"}
        assert r.headers["www-authenticate"] == "Bearer"


def test_healthz_shows_no_filesystem_paths(client, bank, tmp_path):
    bank.set_settings(calibration={"threshold": 0.7, "target_precision": 0.9, "precision": 0.91, "coverage": 0.8,
                                   "kind": "groups", "margin": 0.02, "n_in_scope": 10, "n_out_of_scope": 5,
                                   "files": [str(tmp_path / "groups.tsv")], "model_fingerprint": "f", "created": 1.0})
    r = client.get("/healthz")
    assert r.status_code == 200
    assert str(tmp_path) not in r.text and "/" not in json.dumps(r.json()).replace("\\/", "")
    health = r.json()
    assert health["bank"] == "bank.faq" and "model_path" not in health
    assert health["calibration"]["precision"] == 0.91 and "files" not in health["calibration"]


def test_healthz_follows_what_another_process_changed_in_the_bank(client, bank, tmp_path):
    """Issue 36: /healthz showed the threshold and model fingerprint it read last, until the next /ask."""
    from fakes import WordModel

    from samesense.faq import FaqBank

    before = client.get("/healthz").json()
    with FaqBank.open(tmp_path / "bank.faq", WordModel(fingerprint="fake-model-2")) as other:  # another process
        other.set_settings(threshold=0.91)
        other.add("do you ship abroad", "Yes.")
    health = client.get("/healthz").json()
    assert (health["threshold"], health["entries"]) == (0.91, before["entries"] + 1)
    assert health["model_fingerprint"] == "fake-model-2" != before["model_fingerprint"]


def test_head_answers_every_get_route_and_a_wrong_method_is_told_every_allowed_one(client):
    """Issue 36: HEAD on GET routes was a 405; OPTIONS (or any method a path does not take) was a 405
    whose Allow header named one route's methods (GET for /faq, which takes POST too)."""
    for path in ("/healthz", "/faq", "/faq/1", "/config", "/metrics", "/", "/openapi.json", "/unanswered"):
        get, head = client.get(path, headers=AUTH), client.head(path, headers=AUTH)
        assert head.status_code == get.status_code and head.content == b"", path
        assert head.headers["content-type"] == get.headers["content-type"], path
        assert head.headers["x-frame-options"] == "DENY" and "content-security-policy" in head.headers, path
    assert client.head("/faq/999").status_code == 404 and client.head("/nowhere").status_code == 404
    for method, path, allowed in [("OPTIONS", "/faq", {"GET", "HEAD", "POST"}),
                                  ("POST", "/faq/1", {"GET", "HEAD", "PUT", "PATCH", "DELETE"}),
                                  ("POST", "/healthz", {"GET", "HEAD"}), ("GET", "/ask", {"POST"}),
                                  ("OPTIONS", "/ask", {"POST"})]:
        r = client.request(method, path)
        assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == allowed, (method, path)
        assert r.json()["detail"].startswith(f"{method} is not allowed here") and r.headers["x-frame-options"] == "DENY"


def test_a_bank_locked_by_another_process_past_the_write_timeout_is_a_503_with_retry_after(client, bank, tmp_path):
    """Issue 36: it was a 500 ("database is locked"). The server is well; the bank is busy: come back."""
    import sqlite3

    bank.store._writer.execute("PRAGMA busy_timeout=50")  # the write timeout, short for the test
    other = sqlite3.connect(tmp_path / "bank.faq", isolation_level=None)  # another process's writer
    other.execute("BEGIN IMMEDIATE")
    try:
        r = client.post("/faq", json={"question": "do you ship abroad", "answer": "Yes."}, headers=AUTH)
        assert r.status_code == 503 and int(r.headers["retry-after"]) > 0
        assert r.json() == {"detail": "the bank is locked by another process's write; try again later"}
        assert r.headers["x-frame-options"] == "DENY"
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert client.post("/faq", json={"question": "do you ship abroad", "answer": "Yes."}, headers=AUTH).status_code \
        == 201
    spec = client.get("/openapi.json").json()
    assert all("503" in op["responses"] for item in spec["paths"].values() for op in item.values())


def test_a_question_or_group_another_entry_holds_is_a_409_and_changes_nothing(client, bank):
    """One question, one entry, on every way in: POST /faq (add) and PUT /faq/{id} (update, which
    added a question another entry held as a second copy) refuse it with 409 Conflict."""
    before = client.get("/faq").json()
    r = client.post("/faq", json={"question": "when are you open", "answer": "Never."}, headers=AUTH)
    assert r.status_code == 409 and r.json()["detail"] == ("question 'when are you open' already in entry 2: change "
                                                           "that entry instead")
    r = client.put("/faq/1", json={"paraphrases": ["i forgot my pin code", "when are you open"]}, headers=AUTH)
    assert r.status_code == 409 and "'when are you open' already in entry 2" in r.json()["detail"]
    assert client.get("/faq").json() == before
    ops = client.get("/openapi.json").json()["paths"]
    assert "409" in ops["/faq"]["post"]["responses"] and "409" in ops["/faq/{entry_id}"]["put"]["responses"]


def test_only_allowed_hosts_are_answered(bank):
    with TestClient(create_app(bank, None, allowed_hosts=["faq.example.com", "*.internal"])) as c:
        assert c.get("/healthz", headers={"Host": "faq.example.com"}).status_code == 200
        assert c.get("/healthz", headers={"Host": "faq.example.com:8000"}).status_code == 200
        assert c.get("/healthz", headers={"Host": "a.b.internal"}).status_code == 200
        r = c.get("/healthz", headers={"Host": "attacker.example"})
        assert r.status_code == 400 and r.text == "Invalid host header"
        assert r.headers["x-frame-options"] == "DENY"  # refusals carry the security headers too


def test_default_allowed_hosts_are_the_bound_address_and_localhost():
    assert default_allowed_hosts("127.0.0.1") == ["127.0.0.1", "localhost", "[::1]"]
    assert default_allowed_hosts("10.0.0.5") == ["10.0.0.5", "localhost", "127.0.0.1", "[::1]"]
    assert default_allowed_hosts("::1") == ["[::1]", "localhost", "127.0.0.1"]
    with pytest.raises(SamesenseError, match="Domain wildcard"):
        check_allowed_hosts(["faq.*.com"])  # refused at start, not at the first request


PAGE_HEADERS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


def csp(response) -> dict[str, str]:
    """The Content-Security-Policy header as {directive: sources}."""
    directives = response.headers["content-security-policy"].split(";")
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in directives)


@pytest.mark.parametrize("path", ["/", "/widget", "/admin", "/static/customer.js", "/faq", "/healthz", "/nowhere"])
def test_every_response_has_the_security_headers(client, path):
    r = client.get(path)
    assert {k: r.headers.get(k) for k in PAGE_HEADERS} == PAGE_HEADERS
    policy = csp(r)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"


def test_the_page_needs_no_inline_script_or_style(client):
    """The page's CSP allows scripts and styles from files only: the pages, as served in each language,
    must have none inline (the customer page's JSON block of strings is data: no browser runs it)."""
    from html.parser import HTMLParser

    found = []

    class Inline(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "style" or (tag == "script" and "src" not in attrs and attrs.get("type") != "application/json"):
                found.append(tag)
            found.extend(name for name in attrs if name == "style" or name.startswith("on"))

    for path, language in [("/", "en"), ("/", "zh"), ("/widget", "zh"), ("/admin", "en")]:
        Inline().feed(client.get(path, headers={"Accept-Language": language}).text)
    assert found == []


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_load_only_same_origin_files(client, path):
    import re

    r = client.get(path)
    assert r.status_code == 200 and {k: r.headers.get(k) for k in PAGE_HEADERS} == PAGE_HEADERS
    policy = csp(r)
    assert policy["frame-ancestors"] == "'none'" and policy["script-src"] == "'self' 'unsafe-inline'"
    assets = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)', r.text) + re.findall(r"url:\s*'([^']+)'", r.text)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_serve_refuses_a_short_token_before_loading_anything(tmp_path):
    with pytest.raises(SamesenseError, match="the token has 5 characters; use at least 16"):
        serve(str(tmp_path / "no-such.faq"), None, token="short")


def test_serve_help_documents_timeout_connections_and_hosts(capsys):
    from samesense.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for flag in ("--timeout SECONDS", "--max-connections N", "--allowed-host HOST", "at least 16 characters"):
        assert flag in text, flag


def test_a_short_token_stops_serve_with_one_line(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "SAMESENSE_TOKEN": "short"}
    proc = subprocess.run([sys.executable, "-m", "samesense.cli", "serve", str(tmp_path / "bank.faq")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("samesense: error: the token has 5 characters; use at least 16")


# -- the FAQ product (issue 13): /auth, /config, a read-only server with a token ------------------


def test_auth_says_whether_the_token_is_right(bank):
    with TestClient(create_app(bank, TOKEN)) as c:
        r = c.get("/auth", headers=AUTH)
        assert r.status_code == 204 and r.content == b""
        for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}]:
            r = c.get("/auth", headers=headers)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
            assert "Bearer TOKEN" in r.json()["detail"]
    with TestClient(create_app(bank, None)) as c:  # a server with no token has none to check
        assert c.get("/auth", headers=AUTH).status_code == 403


def test_config_tells_the_page_whether_it_may_write_and_the_fallback_text(bank):
    with TestClient(create_app(bank, TOKEN, fallback_text="Call us on 0800 123.")) as c:
        assert c.get("/config").json() == {"writable": True, "fallback_text": "Call us on 0800 123.",
                                           "fallback_is_default": False, "has_token": True, "page_language": "en",
                                           "page_language_setting": "auto"}
    for app in (create_app(bank, None), create_app(bank, TOKEN, read_only=True)):
        with TestClient(app) as c:
            config = c.get("/config").json()
            assert config["writable"] is False and config["fallback_text"] == FALLBACK_TEXT
            assert c.get("/healthz").json()["writable"] is False


def test_a_read_only_server_with_a_token_opens_unanswered_but_refuses_writes(bank):
    with TestClient(create_app(bank, TOKEN, read_only=True)) as c:
        r = c.post("/faq", json={"question": "q", "answer": "a"}, headers=AUTH)
        assert r.status_code == 403 and "read-only" in r.json()["detail"]
        assert c.delete("/faq/1", headers=AUTH).status_code == 403
        assert c.get("/auth", headers=AUTH).status_code == 204
        assert c.get("/unanswered", headers=AUTH).status_code == 200
        assert c.get("/unanswered").status_code == 401
    assert bank.count()[0] == 3


def test_openapi_declares_the_token_routes(client):
    spec = client.get("/openapi.json").json()
    ops = {(m, p): op for p, item in spec["paths"].items() for m, op in item.items()}
    for key in [("get", "/auth"), ("get", "/unanswered")]:
        assert ops[key]["security"] == [{"BearerToken": []}]
        assert {"401", "403"} <= set(ops[key]["responses"])
    assert set(ops[("get", "/auth")]["responses"]) == {"204", "400", "401", "403", "413", "500", "503"}
    limit = next(p for p in ops[("get", "/unanswered")]["parameters"] if p["name"] == "limit")["schema"]
    assert limit["minimum"] == 1 and limit["maximum"] == 1000
    assert "security" not in ops[("get", "/config")]


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001])
def test_a_fallback_text_empty_or_too_long_is_refused_before_loading_anything(tmp_path, text):
    with pytest.raises(SamesenseError, match="the fallback text must have 1 to 1000 characters"):
        serve(str(tmp_path / "no-such.faq"), None, fallback_text=text)
