"""The weekly pilot assessment: human review of verdicts, the report, and synthetic pilot databases.

``periods`` picks the time window, ``load`` reads the SQLite database into DuckDB, ``queries``
computes one figure per function, ``assess`` assembles the ``Report`` model, ``render`` turns
it into Markdown/HTML, ``review`` records human verdicts, ``synthetic`` fakes a pilot.
"""
