"""The analysis commands on the command line: compare, goal, sensitivity, run --paths auto.

In-process (``simulator.cli.main``) to keep the suite quick; each mistake
must give exit status 2, one ``error:`` line naming the flag or file, the key
or value and what is allowed, and leave the output directory untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.toml"
SMALL = ["--paths", "200", "--months", "12", "--no-progress"]
SENTINEL = "a file of the user's\n"


@pytest.fixture
def user_dir(tmp_path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text(SENTINEL, encoding="utf-8")
    return out


def untouched(out: Path) -> bool:
    return ([p.name for p in out.iterdir()] == ["notes.txt"]
            and (out / "notes.txt").read_text(encoding="utf-8") == SENTINEL)


def one_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert len(errors) == 1, err
    return errors[0]


# -- run --paths auto --------------------------------------------------------------


def test_run_paths_auto(tmp_path, capsys):
    out = tmp_path / "auto"
    # a small lever scan (its default is 10,000 paths): the scan after an auto run, cheaply
    code = main(["run", str(BASELINE), "--paths", "auto", "--tolerance", "0.02", "--months",
                 "24", "--out", str(out), "--no-progress", "--no-save-paths",
                 "--lever-paths", "200"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    conv = summary["convergence"]
    assert conv["converged"] and conv["tolerance"] == 0.02
    assert conv["trace"][-1]["half_width"] < 0.02
    assert summary["n_paths"] == conv["trace"][-1]["paths"]
    assert "paths auto:" in captured.out and "below the tolerance 0.02" in captured.out


@pytest.mark.parametrize(("args", "words"), [
    (["--paths", "500", "--tolerance", "0.01"], ["--tolerance", "without --paths auto"]),
    (["--max-paths", "500"], ["--max-paths", "without --paths auto"]),
    (["--paths", "auto", "--tolerance", "0.7"], ["--tolerance", "got 0.7", "0 < value < 0.5"]),
    (["--paths", "auto", "--max-paths", "0"], ["--max-paths", "got 0", "1 <= value"]),
    (["--paths", "auto", "--set", "simulation.sampling=lhs"],
     ['simulation.sampling = "lhs"', '"random" or "sobol"']),
    (["--paths", "many"], ["--paths", "'auto'", "'many'"]),
])
def test_run_auto_mistakes(user_dir, capsys, args, words):
    code = main(["run", str(BASELINE), "--out", str(user_dir), "--months", "12",
                 "--no-progress", *args])
    err = capsys.readouterr().err
    assert code == 2, err
    line = err if "'many'" in words else one_error(err)
    for w in words:
        assert w in line, (w, err)
    assert untouched(user_dir)


# -- compare ----------------------------------------------------------------------


def test_compare_configs(tmp_path, capsys):
    standardized = tmp_path / "standardized.toml"
    standardized.write_text(BASELINE.read_text(encoding="utf-8").replace(
        "enabled = false", "enabled = true"), encoding="utf-8")
    out = tmp_path / "cmp"
    # a threshold some paths break within the 12 months, so the log-rank test has events
    code = main(["compare", str(BASELINE), str(standardized), "--out", str(out), "--seed", "3",
                 "--set", "simulation.threshold_mrr=60000", *SMALL])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in data["scenarios"]] == ["baseline", "standardized"]
    assert data["n_paths"] == 200 and data["seed"] == 3 and data["months"] == 12
    assert set(data["scenarios"][0]["p_break_by"]) == {"12"}
    assert isinstance(data["logrank_p"], float)
    assert {p.name for p in out.iterdir()} == {"comparison.json", "report.html", "p_break.png",
                                               "mrr_fan.png", "results.xlsx"}
    assert "baseline" in captured.out and "log-rank p" in captured.out


def test_compare_scenario_file_with_names(tmp_path, capsys):
    scen = tmp_path / "levers.toml"
    scen.write_text(f'base = "{BASELINE.as_posix()}"\n'
                    '[[scenario]]\nname = "as is"\n'
                    '[[scenario]]\nname = "aligned"\nset = {{ "alignment.enabled" = true }}\n'
                    .replace("{{", "{").replace("}}", "}"), encoding="utf-8")
    out = tmp_path / "lev"
    code = main(["compare", str(scen), "--name", "A", "--name", "B", "--out", str(out), *SMALL])
    assert code == 0, capsys.readouterr().err
    data = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in data["scenarios"]] == ["A", "B"]


@pytest.mark.parametrize(("args", "words"), [
    ([], ["one config is not a comparison", "two or more"]),
    (["SCEN"], ["scenario file cannot be combined"]),
    (["SELF", "--name", "x"], ["--name", "1 names for 2 scenarios"]),
    (["SELF", "--name", "x", "--name", "x"], ['duplicate scenario name "x"', "--name"]),
    (["SELF", "--set", "churn.annual_rate=2"], ["churn.annual_rate = 2", "0 <= value < 1"]),
    (["SELF", "--paths", "0"], ["simulation.paths = 0", "out of range"]),
    (["SELF", "--chunk-size", "0"], ["--chunk-size", "integer >= 1"]),
])
def test_compare_mistakes(tmp_path, user_dir, capsys, args, words):
    scen = tmp_path / "s.toml"
    scen.write_text(f'base = "{BASELINE.as_posix()}"\n[[scenario]]\nname = "a"\n'
                    '[[scenario]]\nname = "b"\n', encoding="utf-8")
    extra = [str(scen) if a == "SCEN" else str(BASELINE) if a == "SELF" else a for a in args]
    code = main(["compare", str(BASELINE), *extra, "--out", str(user_dir), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2, err
    line = one_error(err)
    for w in words:
        assert w in line, (w, err)
    assert untouched(user_dir)


def test_compare_refuses_foreign_out_dir(tmp_path, user_dir, capsys):
    code = main(["compare", str(BASELINE), str(BASELINE), "--name", "a", "--name", "b",
                 "--out", str(user_dir), *SMALL])
    err = capsys.readouterr().err
    assert code == 2 and "notes.txt" in one_error(err)
    assert untouched(user_dir)


# -- goal -------------------------------------------------------------------------


def test_goal(tmp_path, capsys):
    from simulator.api import simulate
    from simulator.config import load_config

    # The target: halfway between the median MRR at month 12 at either end of the
    # range (the same 200 paths), so the answer lies strictly inside it.
    def median_at(churn: float) -> float:
        cfg = load_config(BASELINE, overrides={"churn.annual_rate": churn,
                                               "simulation.months": 12})
        run = simulate(cfg, n_paths=200, seed=cfg.simulation.seed, progress=False)
        return float(np.quantile(run["mrr"][:, 12], 0.5))

    best, worst = median_at(0.08), median_at(0.15)
    assert best > worst
    target = (best + worst) / 2
    out = tmp_path / "goal"
    code = main(["goal", str(BASELINE), "--vary", "churn.annual_rate", "--target",
                 f"mrr_p50_12>={target:.2f}", "--out", str(out), *SMALL])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads((out / "goal.json").read_text(encoding="utf-8"))
    assert data["parameter"] == "churn.annual_rate"
    assert data["direction"] == "decreasing" and data["range"] == [0.08, 0.15]
    ends = {e["value"]: e["estimate"] for e in data["evaluations"]}
    assert ends[0.08] == pytest.approx(best, rel=1e-12)
    assert ends[0.15] == pytest.approx(worst, rel=1e-12)
    assert 0.08 < data["value"] < 0.15 and not data["at_range_end"]
    assert data["achieved"] >= round(target, 2)
    assert data["achieved"] == pytest.approx(median_at(data["value"]), rel=1e-12)
    assert data["ci95"][0] <= data["achieved"] <= data["ci95"][1]
    assert data["evaluations"] and all(set(e) == {"value", "estimate", "ci95", "met"}
                                       for e in data["evaluations"])
    assert {p.name for p in out.iterdir()} == {"goal.json", "goal.png", "goal.html"}
    assert "churn.annual_rate = " in captured.out


@pytest.mark.parametrize(("args", "code", "words"), [
    (["--vary", "sales.meeting_per_selling_hour", "--target", "p_break_by_12>=0.5"], 2,
     ["--vary: sales.meeting_per_selling_hour", "did you mean sales.meetings_per_selling_hour"]),
    (["--vary", "sales.reps", "--target", "p_break_by_24>=0.5"], 2,
     ["--target", "month 24", "0..12"]),
    (["--vary", "sales.reps", "--target", "p_break>=0.5"], 2, ["--target", "bad quantity"]),
    (["--vary", "churn.annual_rate", "--target", "p_break_by_12>=0.5", "--range", "0.1:2"],
     2, ["--range: churn.annual_rate", "got 0.1:2", "0 <= value < 1"]),
    (["--vary", "churn.annual_rate", "--target", "p_break_by_12>=0.5", "--xtol", "0"], 2,
     ["--xtol", "a number > 0"]),
])
def test_goal_mistakes(user_dir, capsys, args, code, words):
    got = main(["goal", str(BASELINE), *args, "--out", str(user_dir), *SMALL])
    err = capsys.readouterr().err
    assert got == code, err
    line = one_error(err)
    for w in words:
        assert w in line, (w, err)
    assert untouched(user_dir)


def test_goal_unreachable_exits_1_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "new" / "goal"
    # A range wide enough that churn's effect on the outcome, and so the
    # direction the target lies in, is unmistakable with 200 paths (a first touch of
    # the threshold: within 12 months a six-month sustained break is out of reach).
    got = main(["goal", str(BASELINE), "--vary", "churn.annual_rate", "--target",
                "p_break_by_12>=0.99", "--range", "0.05:0.9", "--set",
                "simulation.sustain_months=1", "--out", str(out), *SMALL])
    line = one_error(capsys.readouterr().err)
    assert got == 1
    for w in ["not reached", "at 0.05 and", "at 0.9", "try a --range reaching below 0.05",
              "nothing written"]:
        assert w in line, (w, line)
    assert not (tmp_path / "new").exists()


def test_goal_requires_vary_and_target(capsys):
    assert main(["goal", str(BASELINE), "--target", "p_break_by_12>=0.5"]) == 2
    assert "--vary" in capsys.readouterr().err


# -- sensitivity (the command; the analysis is tested in test_sensitivity) ------------


def test_sensitivity_command(tmp_path, capsys):
    pytest.importorskip("simulator.analysis.sensitivity")
    out = tmp_path / "sens"
    code = main(["sensitivity", str(BASELINE), "--months", "12", "--n-base", "8",
                 "--paths-per-point", "2", "--tornado-paths", "20", "--parameter",
                 "churn.annual_rate", "--parameter", "sales.meetings_per_selling_hour",
                 "--out", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads((out / "sensitivity.json").read_text(encoding="utf-8"))
    assert data


@pytest.mark.parametrize(("args", "words"), [
    (["--n-base", "10"], ["--n-base", "got 10", "power of 2"]),
    (["--outcome", "profit"], ["--outcome", '"profit"', "p_break_by_horizon"]),
    (["--parameter", "start.techs"], ["--parameter", '"start.techs"', "churn.annual_rate"]),
    (["--tornado-paths", "0"], ["--tornado-paths", "integer >= 1"]),
])
def test_sensitivity_mistakes(user_dir, capsys, args, words):
    pytest.importorskip("simulator.analysis.sensitivity")
    code = main(["sensitivity", str(BASELINE), *args, "--out", str(user_dir), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2, err
    line = one_error(err)
    for w in words:
        assert w in line, (w, err)
    assert untouched(user_dir)


def test_library_parameters_are_shown_as_flags():
    """The library names parameters (an error's source, or backquoted in its text); the
    command line shows each as its flag, and leaves other backquoted words alone."""
    from simulator.cli.flags import as_flags, with_flags
    from simulator.config import ConfigError

    assert with_flags("widen `range`; see `msp-sim run`") == "widen --range; see `msp-sim run`"
    exc = ConfigError("range", [("churn.annual_rate", 0.5, "out of range; allowed: `range` "
                                                           "LO:HI or `names`")])
    assert as_flags(exc) == ("--range: churn.annual_rate = 0.5: out of range; allowed: "
                             "--range LO:HI or --name")
    assert str(exc).startswith("range: churn.annual_rate = 0.5")
