"""The host agent: reads the kernel log, ships each new line to the collector exactly once.

Imports only the standard library, httpx, pydantic, yaml and typer: hosts run nothing else.
"""
