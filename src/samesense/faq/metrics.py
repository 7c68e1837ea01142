"""The service's Prometheus metrics (prometheus-client), and the ASGI middleware that times every
request for them (and for the access log, logs.py).

    samesense_requests_total{method, route, status}   counter
    samesense_request_seconds{route}                  histogram (latency quantiles: histogram_quantile)
    samesense_asks_total{outcome}                     counter: answered | abstained
    samesense_abstention_rate                         gauge: abstained / asked, worked out when scraped

Every label takes a bounded set of values, so that no client can grow /metrics: a method is one of
METHODS or "other", a route is a route's path template or "unmatched", a status is one the app sends.
Each app has its own CollectorRegistry, not the library's global one: several apps in one process
(the tests make many) would otherwise refuse to register the same names twice, or share counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, float("inf"))
OUTCOMES = ("answered", "abstained")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # HTTP's own; others: "other"
UNMATCHED = "unmatched"  # a path no route takes (and a request refused before routing)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("samesense_requests", "HTTP requests by method, route and status.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("samesense_request_seconds", "Request latency by route.", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.asks = Counter("samesense_asks", "Questions asked, by outcome.", ["outcome"], registry=self.registry)
        for outcome in OUTCOMES:
            self.asks.labels(outcome)  # both series from the start, at 0
        Gauge("samesense_abstention_rate", "Share of questions given no answer.",
              registry=self.registry).set_function(self.abstention_rate)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def observe_request(self, scope, status: int | None, seconds: float) -> None:
        """A RequestObservers observer: a request counted and timed, its labels bounded; none
        when the client left before any answer."""
        if status is not None:
            self.observe(method_label(scope["method"]), route_label(scope), status, seconds)

    def ask(self, answered: bool) -> None:
        self.asks.labels(OUTCOMES[0] if answered else OUTCOMES[1]).inc()

    def abstention_rate(self) -> float:
        counts = {s.labels["outcome"]: s.value for s in self.asks.collect()[0].samples if s.name.endswith("_total")}
        asked = sum(counts.values())
        return counts.get("abstained", 0.0) / asked if asked else 0.0

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """(body, content type): the Prometheus text format, or OpenMetrics when `accept` asks for it."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def route_label(scope) -> str:
    """The route's path template (an id in a path makes no series of its own), or UNMATCHED."""
    return getattr(scope.get("route"), "path", None) or UNMATCHED


class RequestObservers:
    """ASGI middleware: times every HTTP request and hands (scope, status, seconds) to each of
    `observers` (Metrics.observe_request, logs.log_request); status None when the client left
    before any answer. Plain ASGI: @app.middleware would run each request in a task of its own."""

    def __init__(self, app, observers: Sequence[Callable[[dict, int | None, float], None]]):
        self.app, self.observers = app, list(observers)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = None

        async def send_tracking(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            status = 500
            raise
        finally:
            seconds = time.perf_counter() - started
            for observe in self.observers:
                observe(scope, status, seconds)
