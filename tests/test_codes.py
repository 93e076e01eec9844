"""Another tool's codes as qualcode ids and colours (``qualcode.exchange.codes``)."""

from __future__ import annotations

from qualcode.exchange.codes import code_ids, refi_color, slug
from qualcode.exchange.refi import RefiCode


def test_a_label_becomes_a_typeable_id() -> None:
    assert slug("1. Oltás típusa") == "c_1_oltas_tipusa"
    assert slug("Työn jakaminen") == "tyon_jakaminen"
    assert slug("???") == "code"


def test_ids_are_unique_and_reuse_what_the_project_has() -> None:
    codes = [RefiCode(guid="a", name="Funding"), RefiCode(guid="b", name="funding")]
    assert code_ids(codes) == {"a": "funding", "b": "funding_2"}
    assert code_ids(codes, taken={"funding"}) == {"a": "funding_2", "b": "funding_3"}
    assert code_ids(codes, reuse={"b": "money"}) == {"a": "funding", "b": "money"}


def test_only_hex_colours_are_kept() -> None:
    assert refi_color("#AABBCC") == "#aabbcc"
    assert refi_color("red") is None and refi_color(None) is None
