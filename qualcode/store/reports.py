"""Store queries for the reports stage."""

from __future__ import annotations

from qualcode.store.base import StoreBase


class ReportStore(StoreBase):
    pass
