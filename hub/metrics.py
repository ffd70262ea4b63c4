"""Prometheus metrics of one hub app (its own registry; with several workers, prometheus_client's
multiprocess mode aggregates them when PROMETHEUS_MULTIPROC_DIR is set, as `hub serve --workers` does)."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Histogram("hub_request_seconds", "GraphQL request latency by operation name",
                                  ["operation"], buckets=LATENCY_BUCKETS, registry=r)
        self.errors = Counter("hub_graphql_errors_total", "GraphQL errors by extensions.code", ["code"], registry=r)
        self.http = Counter("hub_http_responses_total", "HTTP responses by route and status", ["route", "status"], registry=r)
        self.source_seconds = Histogram("hub_source_query_seconds", "Statement latency per source", ["source"],
                                        buckets=LATENCY_BUCKETS, registry=r)
        self.source_errors = Counter("hub_source_errors_total", "Failed statements per source", ["source"], registry=r)
        self.circuit_open = Gauge("hub_source_circuit_open", "1 while a source's circuit breaker is open", ["source"],
                                  registry=r, multiprocess_mode="max")
        self.pool_in_use = Gauge("hub_pool_connections_in_use", "Checked-out connections per database", ["database"],
                                 registry=r, multiprocess_mode="livesum")
        self.audit_queue = Gauge("hub_audit_queue_depth", "Audit entries waiting to be written", registry=r,
                                 multiprocess_mode="livesum")
        self.tokens = Counter("hub_tokens_total", "Tokens issued and refused, by outcome and reason", ["outcome", "reason"],
                              registry=r)
        self.executions = Counter("hub_graphql_executions_total", "Operations by execution path (compiled or reference)",
                                  ["path"], registry=r)
        self.rate_limited = Counter("hub_rate_limited_total", "Requests refused by a rate limit", ["limit"], registry=r)

    def observe_source(self, source: str, seconds: float, ok: bool) -> None:
        self.source_seconds.labels(source).observe(seconds)
        if not ok:
            self.source_errors.labels(source).inc()

    def breaker_changed(self, source: str, state) -> None:
        self.circuit_open.labels(source).set(1 if state == "open" else 0)

    def render(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
