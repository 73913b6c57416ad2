"""The collector: HTTPS ingest, the seed's failure policy, verdicts stored exactly once.

Modules: ``store`` (the one SQLite writer), ``service`` (dedupe, rate-limit gate, concurrency
and retry policy, independent of HTTP), ``app`` (the FastAPI routes), ``serve`` (TLS, uvicorn,
the in-thread :class:`~tasseograph.collector.serve.BackgroundCollector`), ``cli`` (commands).
Importing this package loads nothing heavy; fastapi and uvicorn load in ``app`` and ``serve``.
"""
