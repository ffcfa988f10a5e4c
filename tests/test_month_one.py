"""Month 1 against a steady state: the check ``validate`` and ``run`` print (issue 26)."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

import simulator
from simulator.cli import main
from simulator.config.loader import config_from_dict
from simulator.config.schema import param_specs
from simulator.config.starter import starter_toml
from simulator.month_one import month_one

# six technicians (840 usable hours) asked for ~1,130 (model v3): 30 clients of ~26 seats,
# 948 endpoints: 830 reactive hours (0.875 x 1 h) + 190 proactive (0.2 h) + 280 project
# hours ($33.6k at $120) - the owner's 166 h of escalations (0.2 x 830)
OVERLOADED = {"start": {"customers": 30, "techs": 6, "cash": 100_000,
                        "legacy_product_revenue": 30_000, "legacy_project_revenue": 20_000}}


def _steady() -> dict:
    return tomllib.loads(starter_toml())


def _toml(data: dict) -> str:
    start = data["start"]
    return "[start]\n" + "".join(f"{k} = {v}\n" for k, v in start.items()) + "\n"


def test_an_overloaded_month_one_is_named_in_words():
    config = config_from_dict(OVERLOADED)
    check = month_one(config)
    # six technicians at the expected usable hours (uncertain by default, issue 24)
    capacity = 6 * config.staff.tech_hours_per_month.mean()
    assert not check.steady
    assert 1_050 < check.work_hours < 1_250
    assert check.capacity_hours == pytest.approx(capacity)
    line = check.line()
    assert line.startswith("warning: month 1 is far from a steady state")
    assert "\n" not in line
    assert f"against {capacity:,.0f}" in line and "left undone" in line
    assert f"keeps {check.selling_hours:,.0f} of the 40 hours" in line


def test_a_steady_month_one_gives_no_warning():
    check = month_one(config_from_dict(_steady()))
    assert check.steady and not check.problems
    assert "warning" not in check.line() and "close to a steady state" in check.line()
    assert 0.55 < check.utilization < 1.15 and check.unserved_share == 0
    assert check.selling_hours == 40 and check.pretax_profit > 0


def test_idle_technicians_and_a_loss_are_far_from_steady():
    data = _steady()
    data["start"]["techs"] = 12
    check = month_one(config_from_dict(data))
    assert any("idle" in p for p in check.problems)
    assert any("loses" in p and "P&L" in p for p in check.problems)


def test_a_business_without_customers_has_no_steady_state_to_check():
    check = month_one(simulator.load_config("configs/startup.toml"))
    assert check.steady and "no customers yet" in check.line()


@pytest.mark.parametrize("data", [OVERLOADED, "steady"], ids=["overloaded", "steady"])
def test_the_check_is_the_engines_month_one(data):
    """The check's figures are the model's month-1 accounting at the expected values: with
    every per-path input fixed at its mean, the engine's month-1 means agree (tolerances
    cover tickets' and projects' noise, quits and the bonus pool's kink)."""
    data = _steady() if data == "steady" else data
    config = config_from_dict(data)
    means: dict = {}
    for key in param_specs(per_unit=False):
        value = config.get(key)
        if not isinstance(value, int | float):
            section, name = key.split(".", 1)
            mean = value.mean()  # an integer key at its nearest integer
            means.setdefault(section, {})[name] = (
                round(mean) if param_specs()[key].integer else mean)
    config = config_from_dict({**data, **{s: {**data.get(s, {}), **v} for s, v in
                                          means.items()}})
    check = month_one(config)
    result = simulator.simulate(config.model_copy(update={"simulation": config.simulation.
                                                          model_copy(update={"months": 1})}),
                                n_paths=4000, progress=False)
    assert result.mean("utilization")[1] == pytest.approx(check.utilization, rel=0.04)
    # the median: a lumpy project (a $20k project is 167 technician hours) overflows onto
    # the owner in some months, which pulls the mean of his selling hours down
    median = result.quantiles((0.5,), ["owner_sales_hours"])["owner_sales_hours"][0, 1]
    assert median == pytest.approx(check.selling_hours, abs=3)
    assert result.mean("unserved_share")[1] == pytest.approx(check.unserved_share, abs=0.03)
    revenue = sum(result.mean(f"revenue_{k}")[1]
                  for k in ("managed", "cloud", "projects", "products"))
    assert revenue == pytest.approx(check.revenue, rel=0.03)
    assert result.mean("pretax_profit")[1] == pytest.approx(check.pretax_profit,
                                                            abs=0.03 * check.revenue)
    assert np.isfinite(check.pretax_profit)


def test_validate_and_run_say_it_in_one_line(tmp_path, capsys):
    over = tmp_path / "over.toml"
    over.write_text(_toml(OVERLOADED), encoding="utf-8")
    steady = tmp_path / "steady.toml"
    steady.write_text(starter_toml(), encoding="utf-8")
    assert main(["validate", str(over)]) == 0
    out = capsys.readouterr().out
    assert sum(line.startswith("warning: month 1") for line in out.splitlines()) == 1
    assert main(["validate", str(steady)]) == 0
    out = capsys.readouterr().out
    assert "warning" not in out and "month 1 is close to a steady state" in out
    for path, warned in ((over, 1), (steady, 0)):
        code = main(["run", str(path), "--paths", "50", "--months", "3", "--no-levers",
                     "--no-progress", "--out", str(tmp_path / path.stem)])
        err = capsys.readouterr().err
        assert code == 0
        assert sum(line.startswith("warning: month 1") for line in err.splitlines()) == warned
