"""Store queries for the exchange stage."""

from __future__ import annotations

from qualcode.store.base import StoreBase


class ExchangeStore(StoreBase):
    pass
