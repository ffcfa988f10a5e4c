"""README's sample outputs are what the commands print.

Every fenced block of README.md that starts with ``$ msp-sim ...`` is run
(in a scratch directory, ``--out`` added) and the lines after the command
must be the lines printed (a ``...`` line stands for any lines, e.g. the
progress of ``--paths auto``; the final "simulated in ... wrote ..." line,
which holds a time and a path, is left out). The ``make run`` block must be
part of what ``msp-sim run configs/baseline.toml`` prints.

After a change that moves the numbers, regenerate the blocks from real runs::

    .venv/bin/python tests/test_readme_examples.py --update
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
_BLOCK = re.compile(r"```\n(\$ msp-sim [^\n]*)\n(.*?)```", re.S)
_MAKE_RUN = re.compile(r"`make run` prints a summary such as\n\n```\n(.*?)```", re.S)


def _scenario_file(text: str) -> str:
    """The README's scenario file (the toml block with ``[[scenario]]``)."""
    return next(b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "[[scenario]]" in b)


def _printed(command: str, scratch: Path) -> list[str]:
    from simulator import cli

    argv = shlex.split(command)[2:]  # after "$ msp-sim"
    out = scratch / f"out{len(list(scratch.glob('out*')))}"
    argv += ["--out", str(out), "--no-progress"]
    stdout, stderr = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(scratch)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = cli.main(argv)
    finally:
        os.chdir(cwd)
    assert code == 0, stderr.getvalue()
    lines = stdout.getvalue().rstrip("\n").split("\n")
    while lines and (not lines[-1].strip() or re.match(r"(simulated|searched) in ", lines[-1])):
        lines.pop()
    return lines


def _scratch(tmp: Path, text: str) -> Path:
    (tmp / "configs").symlink_to(ROOT / "configs")
    (tmp / "levers.toml").write_text(_scenario_file(text), encoding="utf-8")
    return tmp


def _matches(expected: list[str], printed: list[str]) -> bool:
    if "..." not in expected:
        return expected == printed
    cut = expected.index("...")
    head, tail = expected[:cut], expected[cut + 1:]
    return printed[:len(head)] == head and (not tail or printed[-len(tail):] == tail)


def _blocks() -> list[tuple[str, list[str]]]:
    text = README.read_text(encoding="utf-8")
    return [(cmd, body.rstrip("\n").split("\n")) for cmd, body in _BLOCK.findall(text)]


@pytest.mark.parametrize("command,expected", _blocks(), ids=lambda x: str(x)[:40])
def test_readme_block(tmp_path, command, expected):
    printed = _printed(command, _scratch(tmp_path, README.read_text(encoding="utf-8")))
    assert _matches(expected, printed), "\n".join(["README:", *expected, "printed:", *printed])


def test_make_run_block(make_run_printed):
    """(``make_run_printed``: tests/conftest.py, the one ``make run`` of the session.)"""
    block = _MAKE_RUN.search(README.read_text(encoding="utf-8")).group(1).rstrip("\n")
    for line in block.split("\n"):
        assert line in make_run_printed, (line, make_run_printed)


def test_matching_is_not_vacuous():
    """Negative control: a changed digit or a missing line does not match."""
    printed = ["a 42.3%", "b", "c"]
    assert _matches(["a 42.3%", "b", "c"], printed)
    assert _matches(["a 42.3%", "...", "c"], printed)
    assert not _matches(["a 42.4%", "b", "c"], printed)
    assert not _matches(["a 42.3%", "b"], printed)
    assert not _matches(["a 42.3%", "...", "d"], printed)
    assert len(_blocks()) >= 4


def _update() -> None:  # pragma: no cover - a maintenance tool
    import tempfile

    text = README.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = _scratch(Path(tmp), text)

        def block(match: re.Match) -> str:
            command, body = match.group(1), match.group(2)
            printed = _printed(command, scratch)
            old = body.rstrip("\n").split("\n")
            if "..." in old:
                cut = old.index("...")
                keep = len(old) - cut - 1
                new = printed[:cut] + ["..."] + (printed[-keep:] if keep else [])
            else:
                new = printed
            return "```\n" + command + "\n" + "\n".join(new) + "\n```"

        text = _BLOCK.sub(block, text)
        printed = _printed("$ msp-sim run configs/baseline.toml", scratch)
        summary = [li for li in printed if li.startswith(("P(MRR", "Median time", "P(insolv"))]
        text = _MAKE_RUN.sub(lambda m: "`make run` prints a summary such as\n\n```\n"
                             + "\n".join(summary) + "\n```", text)
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:] == ["--update"]:
        _update()
    else:
        sys.exit(pytest.main([__file__, "-q"]))
