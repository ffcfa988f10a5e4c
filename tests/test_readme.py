"""The README's example outputs are what the commands print (issue 12).

Each README code block that starts with ``$ msp-sim ...`` is run (with
``--out`` in a temporary directory and no progress bar) and must print the
block's lines, in order (a line ``...`` stands for any lines). The quick
start's summary and lever blocks come from ``make run`` (``msp-sim run
configs/baseline.toml``): each of their lines must be among what it prints.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from simulator.cli import main

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


COMMANDS = [b for b in _blocks(README) if b.startswith("$ msp-sim run ")]


def _run(argv: list[str], tmp_path: Path, capsys, monkeypatch) -> list[str]:
    monkeypatch.chdir(ROOT)
    assert main([*argv, "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("block", COMMANDS, ids=[b.splitlines()[0] for b in COMMANDS])
def test_readme_command_prints_what_the_readme_shows(block, tmp_path, capsys, monkeypatch):
    first, *shown = block.rstrip("\n").splitlines()
    printed = _run(shlex.split(first)[2:], tmp_path, capsys, monkeypatch)
    if "..." not in shown:
        assert printed[:len(shown)] == shown
        return
    # "..." stands for any lines: the others must be printed, in this order
    rest = iter(printed)
    for line in shown:
        if line != "...":
            assert any(p == line for p in rest), line


def test_quick_start_output_is_make_runs(tmp_path, capsys, monkeypatch):
    start = README.index("`make run` prints a summary such as")
    blocks = _blocks(README[start:start + 3000])[:2]
    assert len(blocks) == 2 and "P(MRR >= $100,000 by month 60)" in blocks[0]
    printed = _run(["run", "configs/baseline.toml"], tmp_path, capsys, monkeypatch)
    for line in "".join(blocks).splitlines():
        assert line in printed, line
