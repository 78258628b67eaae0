"""The cut-over variants: one per ``cut_over`` value the config accepts."""

from __future__ import annotations

from django_ghost.engine.config import CUT_OVER_ALGORITHMS
from django_ghost.engine.cutover.attempts import Attempt
from django_ghost.engine.cutover.cutover import VARIANTS


def test_cutover_variants__config_algorithms__each_has_an_attempt_class() -> None:
    assert sorted(VARIANTS) == sorted(CUT_OVER_ALGORITHMS)
    assert all(issubclass(variant, Attempt) for variant in VARIANTS.values())
