"""The shipped configs as code: ``shipped_config("standardized")`` needs no file.

Each config of ``configs/`` is the baseline business (``msp-sim init``'s
starter, :data:`simulator.config.starter.BASELINE_START`) with a few keys
changed; :data:`SHIPPED` lists those keys, so a notebook copied anywhere can
build any of them (``tests/test_shipped.py`` checks each against its file).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .loader import config_from_dict
from .schema import Config
from .starter import BASELINE_START

__all__ = ["SHIPPED", "shipped_config"]

SHIPPED: dict[str, dict[str, Any]] = {
    "baseline": {},
    "standardized": {"alignment.enabled": True},
    "sales_engine": {"sales.reps": 1, "sales.rep_washout_share": 0.0,
                     "sales.rep_productivity": 1.0, "sales.rep_ramp_months": 5.0},
    "reactive_plateau": {"staff.hire_above": 1.2, "start.maintenance_debt": 0.25},
    "full_solution": {"cloud.adoption": 1.0, "staff.hire_above": 1.2,
                      "start.maintenance_debt": 0.25,
                      "projects.onboarding_fee_per_seat": 150.0,
                      "projects.per_customer_year": 2.0},
    "hybrid_stage1": {"start.customers": 5, "start.techs": 6, "start.cash": 150_000,
                      "start.legacy_product_revenue": 72_000,
                      "start.legacy_project_revenue": 55_000},
    "hybrid_stage2": {"start.customers": 14, "start.techs": 7, "start.cash": 150_000,
                      "start.legacy_product_revenue": 37_000,
                      "start.legacy_project_revenue": 54_000},
    "hybrid_stage3": {"start.customers": 26, "start.techs": 7, "start.cash": 150_000,
                      "start.legacy_product_revenue": 26_000,
                      "start.legacy_project_revenue": 25_000},
    "startup": {"start.customers": 0, "start.techs": 0, "start.cash": 50_000,
                "start.legacy_product_revenue": 0, "start.legacy_project_revenue": 0,
                "finance.overhead_per_month": 2000.0, "finance.owner_pay_per_month": 4000.0,
                "sales.meetings_per_selling_hour": {"dist": "uniform", "low": 0.05,
                                                    "high": 0.08}},
}
"""Config name (the file's stem in ``configs/``) -> the keys it changes from the baseline."""


def shipped_config(name: str, overrides: Mapping[str, Any] | None = None) -> Config:
    """A shipped config (``"baseline"``, ``"standardized"``, ...), plus ``overrides``.

    Raises
    ------
    KeyError
        ``name`` is not a shipped config (the message lists them).
    ConfigError
        An override is invalid.
    """
    if name not in SHIPPED:
        raise KeyError(f"no shipped config {name!r}; shipped: {', '.join(SHIPPED)}")
    data = {"start": {key: value for key, (value, _meaning) in BASELINE_START.items()}}
    return config_from_dict(data, source=f"shipped config {name!r}",
                            overrides={**SHIPPED[name], **(overrides or {})})
