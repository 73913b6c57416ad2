"""The eval harness: replay labelled corpora against prompt × model combinations and score them.

Modules: ``corpus`` (load/write labelled corpora), ``suite`` (what to run), ``runner``
(concurrency, retries, cache), ``metrics``/``summary`` (scores), ``report`` (md/html),
``compare`` (paired A/B statistics), ``pilot`` (reviewed pilot results → corpus), ``cli``.
Nothing heavy is imported here: ``tasseograph --help`` loads ``tasseograph.evals.cli``.
"""
