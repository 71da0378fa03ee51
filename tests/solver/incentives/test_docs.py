"""docs/incentives.md's Python examples run, in order, in one namespace (their asserts hold)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "incentives.md"


def test_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 3
    exec(compile("\n\n".join(blocks), str(DOC), "exec"), {"__name__": "docs_incentives"})
