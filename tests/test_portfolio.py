"""msp-sim portfolio: many MSPs with common random numbers (issue 13, without a cluster)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simulator.analysis.portfolio import load_portfolio, portfolio
from simulator.api import simulate
from simulator.cli import main

openpyxl = pytest.importorskip("openpyxl")

HEADER = "msp,start.customers,start.techs,sales.reps\n"
BASE = "[simulation]\nmonths = 24\npaths = 300\nseed = 9\nthreshold_mrr = 60000\n"


@pytest.fixture
def files(tmp_path):
    base = tmp_path / "base.toml"
    base.write_text(BASE)
    shop = tmp_path / "shop.toml"
    shop.write_text(BASE + "[start]\ncustomers = 12\ntechs = 3\n")
    rows = [f"MSP {k:02d},{10 + k},{3 + k % 3},{k % 2}\n" for k in range(20)]
    path = tmp_path / "portfolio.csv"
    path.write_text(HEADER + "".join(rows))
    return {"base": base, "shop": shop, "portfolio": path}


def test_each_msp_is_its_own_simulation_and_the_count_sums(files):
    msps = load_portfolio(files["portfolio"], files["base"])
    assert [m.name for m in msps][:2] == ["MSP 00", "MSP 01"] and len(msps) == 20
    assert msps[3].config.start.customers == 13 and msps[3].config.sales.reps == 1
    result = portfolio(msps, n_paths=300)
    one = simulate(msps[3].config, n_paths=300, seed=9, progress=False, keep_paths=False)
    np.testing.assert_array_equal(result.p_break[3],
                                  one.time_to_threshold().cdf(np.arange(25)))
    data = result.to_dict()
    counts = data["portfolio"]
    assert counts["expected_breaking_by_month"][-1] == pytest.approx(result.p_break[:, -1].sum())
    low, high = counts["breaking_by_month_ci95"][-1]
    assert low <= counts["expected_breaking_by_month"][-1] <= high
    json.dumps(data, allow_nan=False)


def test_config_column_and_cli_outputs(files, tmp_path, capsys):
    files["portfolio"].write_text("msp,config,sales.reps\nA,shop.toml,\nB,shop.toml,1\n")
    out = tmp_path / "out"
    assert main(["portfolio", str(files["portfolio"]), "--paths", "200", "--levers",
                 "--out", str(out)]) == 0
    assert "expected past the threshold" in capsys.readouterr().out
    data = json.loads((out / "portfolio.json").read_text())
    assert [e["name"] for e in data["msps"]] == ["A", "B"] and data["levers"]
    book = openpyxl.load_workbook(out / "portfolio.xlsx")
    assert book.sheetnames == ["MSPs", "Portfolio", "Levers"]
    page = (out / "portfolio.html").read_text(encoding="utf-8")
    assert 'id="msps"' in page and 'id="levers"' in page


@pytest.mark.parametrize("text, where", [
    (HEADER.replace("sales.reps", "sales.repz") + "A,1,1,1\n",
     "column sales.repz"),
    (HEADER + "".join(f"M{k},10,3,0\n" for k in range(15)) + "Bad,ten,3,0\n",
     "row 17, column start.customers"),
    ("msp,config\nA,missing.toml\n", 'row 2, column config = "missing.toml": no such config'),
    (HEADER + "A,10,3,0\nA,12,3,0\n", 'row 3, column msp = "A": listed twice'),
    (HEADER + "A,-4,3,0\n", "row 2, column start.customers = -4"),
])
def test_bad_portfolio_is_one_clear_line(files, tmp_path, capsys, text, where):
    files["portfolio"].write_text(text)
    out = tmp_path / "out"
    assert main(["portfolio", str(files["portfolio"]), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert where in err and "portfolio.csv" in err, err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_resume_after_an_interrupt_equals_the_uninterrupted_run(files, tmp_path):
    msps = load_portfolio(files["portfolio"], files["base"])[:6]
    whole = portfolio(msps, n_paths=200, levers=True).to_dict()
    from simulator.output import Checkpoint

    checkpoint = Checkpoint(tmp_path / "checkpoint")

    def stop_after_three(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        portfolio(msps, n_paths=200, levers=True, checkpoint=checkpoint,
                  progress=stop_after_three)
    assert len(list(checkpoint.folder.glob("*.json"))) == 3
    seen = []
    resumed = portfolio(msps, n_paths=200, levers=True, checkpoint=checkpoint,
                        progress=lambda done, total: seen.append(done)).to_dict()
    assert seen == [4, 5, 6]  # only the three unfinished MSPs ran again
    assert json.dumps(resumed, sort_keys=True) == json.dumps(whole, sort_keys=True)


def test_count_quantiles_match_scipy_and_scale_to_many_msps():
    from scipy import stats

    from simulator.analysis import portfolio as module

    rng = np.random.default_rng(4)
    for n in (5, 30):
        p = rng.uniform(0, 1, n)
        p[:2] = (0.0, 1.0)
        exact = stats.poisson_binom(p).ppf([0.025, 0.5, 0.975])
        assert module.count_quantiles(p, [0.025, 0.5, 0.975]) == list(exact)
        # the convolution path, forced, gives scipy's answer too
        original = module.SCIPY_POISSON_BINOM_MAX
        module.SCIPY_POISSON_BINOM_MAX = 0
        try:
            assert module.count_quantiles(p, [0.025, 0.5, 0.975]) == list(exact)
        finally:
            module.SCIPY_POISSON_BINOM_MAX = original
    many = rng.uniform(0.2, 0.6, 1000)  # scipy's ppf fails past ~60 trials
    low, high = module.count_quantiles(many, [0.025, 0.975])
    mean, sd = many.sum(), np.sqrt(np.sum(many * (1 - many)))
    assert abs(low - (mean - 1.96 * sd)) < 2 and abs(high - (mean + 1.96 * sd)) < 2
