"""Store queries for the review stage."""

from __future__ import annotations

from qualcode.store.base import StoreBase


class ReviewStore(StoreBase):
    pass
