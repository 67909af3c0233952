"""Prometheus metrics of the serving app (`GET /metrics`, text exposition format).

Each app has its own collector registry, so several apps in one process (tests, a gunicorn
worker's reloads) never share or double-register series.  Under gunicorn with several workers
each worker answers with its own counts: scrape them one by one, or serve with `-w 1 --threads N`
(docs/serving.md).  Route labels are the URL rules (`/v1/models/<model:name>:generate`), never
the raw path, so a scanner trying random URLs cannot grow the series without bound.
"""
from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


class ServingMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("condgan_http_requests_total", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("condgan_http_request_duration_seconds", "time to answer a request",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.images = Counter("condgan_images_generated_total", "images drawn by the generators",
                              ["model"], registry=self.registry)
        self.batches = Histogram("condgan_generator_batch_images", "images per generator call "
                                 "(the micro-batcher's batches)", ["model"], buckets=BATCH_BUCKETS,
                                 registry=self.registry)
        self.models = Gauge("condgan_models_loaded", "models loaded and served",
                            registry=self.registry)
        self.jobs = Gauge("condgan_jobs", "training jobs by status", ["status"],
                          registry=self.registry)

    def generator_call(self, model: str, images: int) -> None:
        self.images.labels(model).inc(images)
        self.batches.labels(model).observe(images)

    def install(self, app: Flask, models_loaded, jobs_by_status=None) -> None:
        """Time every request, count it by route and status, and add `GET /metrics`;
        `jobs_by_status()` -> {status: count} when the app runs training jobs."""

        @app.before_request
        def start_clock():
            g.condgan_started = time.perf_counter()

        @app.after_request
        def count(response):
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            started = getattr(g, "condgan_started", None)
            if started is not None:
                self.latency.labels(route).observe(time.perf_counter() - started)
            self.requests.labels(request.method, route, str(response.status_code)).inc()
            return response

        @app.get("/metrics")
        def metrics():
            self.models.set(models_loaded())
            for status, count in (jobs_by_status() if jobs_by_status else {}).items():
                self.jobs.labels(status).set(count)
            return Response(generate_latest(self.registry), mimetype=CONTENT_TYPE_LATEST)
