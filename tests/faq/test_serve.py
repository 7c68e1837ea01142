import json

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from samesense.faq.serve import Limits, create_app

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
    assert listed["total"] == 4 and [e["id"] for e in listed["entries"]] == [new["id"]]

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
    (b'{"question": ""}', {}, 422, "question: empty"),
    (b'{"question": "   "}', {}, 422, "question: empty"),
    (json.dumps({"question": "x" * 201}).encode(), {}, 422, "longer than 200 characters"),
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
    assert client.get("/static/app.js").status_code == 200
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
