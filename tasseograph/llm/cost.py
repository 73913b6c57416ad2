"""Estimated cost of a call from the config's price table (US dollars per million tokens)."""

from __future__ import annotations

from collections.abc import Mapping

from tasseograph.config import PriceTable
from tasseograph.llm._base import Usage


def estimate_cost(usage: Usage, model: str, prices: Mapping[str, PriceTable]) -> float:
    """Unknown model → 0.0: a missing price must not fail a verdict. Cache rates default to input."""
    price = prices.get(model)
    if price is None:
        return 0.0
    cache_read = price.cache_read_per_mtok if price.cache_read_per_mtok is not None else price.input_per_mtok
    cache_write = (price.cache_write_per_mtok if price.cache_write_per_mtok is not None
                   else price.input_per_mtok)
    total = (usage.input_tokens * price.input_per_mtok
             + usage.output_tokens * price.output_per_mtok
             + usage.cache_read_tokens * cache_read
             + usage.cache_write_tokens * cache_write)
    return round(total / 1_000_000, 8)
