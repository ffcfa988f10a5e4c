"""The quick start's example outputs are what ``make run`` prints (issue 12).

The summary block, the luck block and the levers block under "`make run` prints a summary
such as" come from ``msp-sim run configs/baseline.toml``: each of their lines
must be among what it prints. (Every ``$ msp-sim`` block is checked by
``test_readme_examples.py``.)
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(text: str) -> list[str]:
    """The fenced code blocks of ``text``, in order."""
    blocks, current = [], None
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current) + "\n")
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_quick_start_output_is_make_runs(make_run_printed):
    """(``make_run_printed``: tests/conftest.py, one run shared with
    test_readme_examples.py.)"""
    start = README.index("`make run` prints a summary such as")
    blocks = _blocks(README[start:start + 4000])[:3]
    assert len(blocks) == 3 and "P(MRR >= $100,000 by month 60)" in blocks[0]
    for line in "".join(blocks).splitlines():
        assert line in make_run_printed, line
