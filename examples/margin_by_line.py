"""A shipped config's pooled P&L by line, year 1 against year 5, as an MSP analyst reads it.

    .venv/bin/python examples/margin_by_line.py full_solution 500 7

Every line is summed over paths and months of the year and divided by the year's pooled
revenue (the pooling of tests/test_model_v3.py's ``pooled_year``), so the lines add up to
the pooled pretax margin. Revenue and gross profit by line are the engine's outputs; the
operating costs are rebuilt from docs/model.md step 9 with each path's drawn parameters
(legacy products from their decline, service managers, overhead, marketing, the owner's
pay out of the cash at the start of the month, interest); what is left between them and
the engine's pretax profit is the bonus pool (and, where a config has them, the sales
reps' pay, which is not an output; in the month a path becomes insolvent its loss stays
recorded while its revenue lines read 0, so that month's loss lands there too;
tests/test_claims.py checks the rebuild). docs/calibration.md ("Margin rising with the
managed share, full_solution") quotes this script's output.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import simulator

ROOT = Path(__file__).resolve().parents[1]


def lines_by_month(res) -> dict[str, np.ndarray]:
    """Revenue, gross profit and operating costs per path and month ($)."""
    par = res.params

    def p(key: str) -> np.ndarray:
        return np.asarray(par[key], dtype=float)[:, None]

    months = res["mrr"].shape[1]
    t = np.arange(months)[None, :]
    open_ = np.ones_like(res["mrr"], dtype=bool)
    for i, m in enumerate(res.insolvency_month):
        if m >= 0:
            open_[i, m:] = False
    legacy = (p("start_legacy_product_revenue")
              * (1.0 - p("legacy_decline_annual")) ** (t / 12.0) * open_)
    out = {
        "revenue: managed services": res["revenue_managed"],
        "revenue: cloud commissions": res["revenue_cloud"],
        "revenue: projects and T&M": res["revenue_projects"],
        "revenue: legacy products": legacy,
        "revenue: clients' products": res["revenue_products"] - legacy,
    }
    revenue = sum(out.values())
    products_gp = (p("finance_product_margin_legacy") * legacy
                   + p("finance_product_margin_ms") * (res["revenue_products"] - legacy))
    gross = {
        "gross profit: managed services": res["gross_profit_managed"],
        "gross profit: projects": res["gross_profit_projects"],
        "gross profit: cloud": res["revenue_cloud"],
        "gross profit: products": products_gp,
    }
    out.update(gross)
    out["GROSS PROFIT"] = sum(gross.values())
    cash_before = np.concatenate([res["cash"][:, :1], res["cash"][:, :-1]], axis=1)
    employees = res["techs"] + res["managers"] + res["alignment_staff"]
    costs = {
        "cost: service managers": res["managers"] * p("staff_manager_cost_per_month"),
        "cost: overhead, fixed": p("finance_overhead_per_month") * open_,
        "cost: overhead per employee": p("finance_overhead_per_employee_month") * employees,
        "cost: overhead per client": p("finance_overhead_per_customer_month") * res["customers"],
        "cost: marketing": p("finance_marketing_share") * revenue,
        "cost: owner's pay": (np.minimum(p("finance_owner_pay_per_month"),
                                         np.maximum(cash_before, 0.0)) * open_),
        "cost: interest": (p("finance_credit_annual_rate") / 12.0
                           * np.maximum(-cash_before, 0.0) * open_),
    }
    out.update(costs)
    out["cost: bonus pool, reps (the rest)"] = (out["GROSS PROFIT"] - sum(costs.values())
                                          - res["pretax_profit"])
    out["PRETAX PROFIT"] = res["pretax_profit"]
    out["(technicians' pay, inside gross profit)"] = (res["techs"]
                                                      * p("staff_tech_cost_per_month"))
    out["_revenue"] = revenue
    return out


def main(argv: list[str]) -> None:
    name = argv[0] if argv else "full_solution"
    n_paths = int(argv[1]) if len(argv) > 1 else 500
    seed = int(argv[2]) if len(argv) > 2 else 7
    cfg = simulator.load_config(ROOT / "configs" / f"{name}.toml")
    res = simulator.simulate(cfg, n_paths=n_paths, seed=seed)
    lines = lines_by_month(res)

    def year(x: np.ndarray, y: int) -> float:
        return float(x[:, 12 * (y - 1) + 1:12 * y + 1].sum())

    r1, r5 = year(lines["_revenue"], 1), year(lines["_revenue"], 5)
    print(f"{name}, {n_paths} paths, seed {seed}: revenue ${r1 / 12 / n_paths:,.0f} -> "
          f"${r5 / 12 / n_paths:,.0f} a month (year 1 -> year 5)")
    print(f"{'line':42s} {'year 1':>10s} {'% rev':>7s} {'year 5':>10s} {'% rev':>7s} {'pp':>7s}")
    for key, x in lines.items():
        if key.startswith("_"):
            continue
        a, b = year(x, 1), year(x, 5)
        print(f"{key:42s} {a / 12 / n_paths:10,.0f} {a / r1:7.2%} {b / 12 / n_paths:10,.0f} "
              f"{b / r5:7.2%} {100 * (b / r5 - a / r1):+7.2f}")
    for line in ("managed", "projects"):
        gm = [year(res[f"gross_profit_{line}"], y) / year(res[f"revenue_{line}"], y)
              for y in (1, 5)]
        print(f"{line} gross margin: {gm[0]:.1%} -> {gm[1]:.1%}")


if __name__ == "__main__":
    main(sys.argv[1:])
