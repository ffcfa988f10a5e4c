"""Issue 28 (reliability v3): the hostile cases outside the record readers, each with a
negative control."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.cli import main
from simulator.config import load_config


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    from simulator.fit.synthetic import history, write_csv

    folder = tmp_path_factory.mktemp("records")
    return write_csv(history(np.random.default_rng(2026), months=24), folder)


# 4. fit without --clients


def test_fit_without_clients_writes_a_config_that_loads(records, tmp_path, capsys):
    args = ["fit", "--pipeline", str(records["pipeline"]), "--tickets",
            str(records["tickets"]), "--pnl", str(records["pnl"]), "--owner", "Owner"]
    assert main([*args, "--out", str(tmp_path / "mine.toml"),
                 "--report", str(tmp_path / "fit")]) == 0, capsys.readouterr().err
    text = (tmp_path / "mine.toml").read_text()
    assert "# book: not fitted (needs clients); the calibrated default (empty)" in text
    load_config(tmp_path / "mine.toml")
    assert (tmp_path / "fit" / "fit.json").exists()
    # never write before everything can be written: an --out that cannot be written
    # leaves no report behind
    (tmp_path / "afile").write_text("")
    rc = main([*args, "--out", str(tmp_path / "afile" / "mine.toml"),
               "--report", str(tmp_path / "fit2")])
    err = capsys.readouterr().err
    assert rc == 2 and "afile" in err and "internal error" not in err
    assert not (tmp_path / "fit2").exists()
