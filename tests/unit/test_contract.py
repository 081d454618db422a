"""spanhouse.contract: one definition of the names both sides use, importable with nothing heavy."""

from __future__ import annotations

import subprocess
import sys

from spanhouse import contract
from spanhouse.collector.processors import genai, scores
from spanhouse.collector.processors.conventions import spanhouse as spanhouse_convention
from spanhouse.instrumentation import _attributes, _scores


def test_the_contract_imports_nothing() -> None:  # beyond the namespace package it sits in
    probe = (
        "import sys; before = set(sys.modules); import spanhouse.contract\n"
        "print(sorted(m for m in set(sys.modules) - before if m not in ('spanhouse', 'spanhouse.contract')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_both_sides_read_the_same_names() -> None:
    assert _attributes.STEP_KINDS is contract.STEP_KINDS is genai.STEP_KINDS
    assert spanhouse_convention.STEP_KINDS is contract.STEP_KINDS
    assert _attributes.RUN_ID == contract.RUN_ID and contract.RUN_ID in spanhouse_convention.KEYS
    assert _scores.SCORE_SPAN_NAME == scores.SCORE_SPAN_NAME == contract.SCORE_SPAN_NAME
    assert scores.VALUE == contract.SCORING_VALUE and _scores._PREFIX == contract.SCORING_PREFIX
    assert "chain" in contract.STEP_KINDS
