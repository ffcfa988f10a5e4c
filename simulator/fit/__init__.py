"""Your MSP from your own data: ``msp-sim fit`` (:func:`fit_files`).

:mod:`.tables` reads the exports (CSV or XLSX, native columns or common PSA
headers), :mod:`.records` checks them row by row, :mod:`.estimate` fits each
rate's posterior, and :func:`config_text` writes a complete config with a
comment on every fitted value (the file, the count behind it, the estimate)
and a line for every value the data could not give (the calibrated default
applies). ``docs/fit.md`` documents the formats.
"""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path
from typing import Any

from ..config import Config, config_from_dict
from ..config.schema import SECTIONS, param_specs
from ..version import package_version
from .estimate import FitResult, Fitted, fit_records
from .records import clients_of, deals_of, pnl_of, tickets_of
from .tables import read_column_map, read_table

__all__ = ["FITTABLE", "NOT_IN_EXPORTS", "FitResult", "Fitted", "config_text", "fit_files",
           "fit_summary",
           "read_records"]

FITTABLE: dict[str, str] = {
    "start.customers": "clients",
    "start.book": "clients",
    "customers.endpoints_per_seat": "clients with endpoints",
    "start.techs": "tickets",
    "start.legacy_product_revenue": "pnl",
    "start.legacy_project_revenue": "pnl",
    "sales.meetings_per_selling_hour": "pipeline",
    "sales.proposal_rate": "pipeline",
    "sales.close_rate": "pipeline",
    "customers.seats": "clients",
    "customers.price_per_seat": "clients",
    "churn.annual_rate": "clients",
    "tickets.per_endpoint_reactive": "tickets and clients",
    "tickets.hours_reactive": "tickets",
    "staff.escalation_share": "tickets with --owner",
    "finance.overhead_per_month": "pnl",
}
"""Every key a fit can give, and the data it needs."""

NOT_IN_EXPORTS: dict[str, str] = {
    "start.cash": "your bank balance today",
    "finance.credit_limit": "your bank line",
    "staff.tech_cost_per_month": "a technician's fully loaded cost from payroll",
    "staff.hire_lag_months": "months from deciding to hire to a technician's first day",
    "staff.hire_cash_months": "months of a hire's cost you want covered before hiring",
    "finance.owner_pay_per_month": "what the business pays you a month",
    "staff.owner_hours_per_month": "your own hours a month (your timesheet)",
}
"""Keys of the business no export gives: a fit keeps their defaults, lists them under
``not_fitted`` in fit.json and in the fitted config, with what to measure."""


def read_records(
    clients: str | Path | None = None,
    pipeline: str | Path | None = None,
    tickets: str | Path | None = None,
    pnl: str | Path | None = None,
    *,
    owner: str | None = None,
    columns: str | Path | None = None,
) -> dict[str, Any]:
    """The records of the given files, checked (``clients``, ``deals``, ``tickets``,
    ``pnl``; each ``None`` when its file is not given) and their file names (``sources``).

    Raises
    ------
    ConfigError
        A file cannot be read, or a row or column is wrong.
    """
    column_map = read_column_map(columns)
    out: dict[str, Any] = {"clients": None, "deals": None, "tickets": None, "pnl": None,
                           "sources": {}}
    if clients is not None:
        table = read_table(clients, "clients", column_map)
        out["clients"], out["sources"]["clients"] = clients_of(table), table.name
    if pipeline is not None:
        table = read_table(pipeline, "pipeline", column_map)
        out["deals"], out["sources"]["pipeline"] = deals_of(table), table.name
    if tickets is not None:
        table = read_table(tickets, "tickets", column_map)
        out["tickets"], out["sources"]["tickets"] = tickets_of(table, out["clients"]), table.name
        if owner is not None and owner not in {t.resource for t in out["tickets"]}:
            raise table.error(None, "resource", owner, "--owner names no resource of the "
                              "tickets; allowed: one of " + ", ".join(
                                  sorted({t.resource for t in out["tickets"]})[:8]))
    if pnl is not None:
        table = read_table(pnl, "pnl", column_map)
        out["pnl"], out["sources"]["pnl"] = pnl_of(table), table.name
    return out


def fit_files(
    clients: str | Path | None = None,
    pipeline: str | Path | None = None,
    tickets: str | Path | None = None,
    pnl: str | Path | None = None,
    *,
    owner: str | None = None,
    columns: str | Path | None = None,
    as_of: datetime.date | None = None,
    selling_hours: float | None = None,
) -> FitResult:
    """Read and fit a business's exports (each optional).

    Raises
    ------
    ConfigError
        A file cannot be read, or a row or column is wrong (one line naming the
        file, the row and the column).
    """
    records = read_records(clients, pipeline, tickets, pnl, owner=owner, columns=columns)
    defaults = config_from_dict({})
    def mean(key: str) -> float:  # a default's value, or its distribution's mean
        value = defaults.get(key)
        return float(value.mean()) if hasattr(value, "mean") else float(value)

    hours = mean("staff.owner_sales_hours_per_month") if selling_hours is None \
        else selling_hours
    return fit_records(records["clients"], records["deals"], records["tickets"],
                       records["pnl"], sources=records["sources"],
                       owner=owner, as_of=as_of, selling_hours=hours,
                       endpoints_per_seat=mean("customers.endpoints_per_seat"),
                       per_employee_overhead=mean("finance.overhead_per_employee_month"),
                       per_customer_overhead=mean("finance.overhead_per_customer_month"),
                       product_spend_per_seat_year=mean("projects.product_spend_per_seat_year"),
                       project_revenue_per_customer_year=mean("projects.per_customer_year")
                       * mean("projects.size"))


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()
                                  and abs(value) < 1e15):
        return str(int(value))
    return repr(float(value))


def _value(f: Fitted) -> Any:
    """The value as written: integers rounded, a distribution given the key's bounds."""
    spec = param_specs().get(f.key)
    if spec is not None and spec.integer and not isinstance(f.value, dict):
        return int(round(f.value))
    if isinstance(f.value, list):
        return f.value
    if isinstance(f.value, dict):
        table = {k: (_round(v) if isinstance(v, float) else v) for k, v in f.value.items()}
        if table["dist"] in ("lognormal", "normal") and spec is not None:
            low = spec.ge if spec.ge is not None else spec.gt
            high = spec.le if spec.le is not None else spec.lt
            if low is not None:
                table["low"] = max(float(table.get("low", low)), float(low))
            if high is not None:
                table["high"] = min(float(table.get("high", high)), float(high))
        return table
    return round(float(f.value), 2) if isinstance(f.value, float) else f.value


def _round(x: float) -> float:
    """Six significant digits: the config stays readable and the fit is unchanged."""
    return float(f"{x:.6g}")


def config_data(result: FitResult) -> dict[str, dict[str, Any]]:
    """The fitted values as a config table (``{"section": {"key": value}}``)."""
    data: dict[str, dict[str, Any]] = {
        "simulation": {"start_date": result.as_of.replace(day=1)}}
    for f in result.fitted:
        section, name = f.key.split(".", 1)
        data.setdefault(section, {})[name] = _value(f)
    return data


def config_text(result: FitResult) -> str:
    """A complete config of the fitted business, a comment on every value."""
    files = ", ".join(result.files.values()) or "no files"
    lines = [
        f"# My MSP, fitted by `msp-sim fit` (msp-sim {package_version()}) from {files},",
        f"# as of {result.as_of.isoformat()}. Each fitted value says where it comes from;",
        "# values your data could not give keep the calibrated default (docs/calibration.md)",
        "# and are listed as not fitted. Check it with `msp-sim validate`, run it with",
        "# `msp-sim run`.",
    ]
    data = config_data(result)
    by_key = {f.key: f for f in result.fitted}
    defaults = config_from_dict({})
    for section in SECTIONS:
        fitted = dict(data.get(section, {}))
        book = fitted.pop("book", None) if section == "start" else None
        missing = [k for k, need in FITTABLE.items() if k.startswith(section + ".")
                   and k not in by_key]
        kept = [k for k in NOT_IN_EXPORTS if k.startswith(section + ".")]
        if not fitted and not missing and not kept:
            continue
        lines += ["", f"[{section}]"]
        for name, value in fitted.items():
            key = f"{section}.{name}"
            note = by_key[key].comment if key in by_key else \
                "month 0 = the as-of month: reports name months by the calendar"
            lines.append(f"{name} = {_toml(value)}  # {note}")
        for key in missing:
            default = defaults.get(key)
            shown = default.describe() if hasattr(default, "describe") else _toml(default)
            lines.append(f"# {key.split('.', 1)[1]}: not fitted (needs {FITTABLE[key]}); "
                         f"the calibrated default {shown} applies")
        for key in kept:
            default = defaults.get(key)
            shown = default.describe() if hasattr(default, "describe") else _toml(default)
            lines.append(f"# {key.split('.', 1)[1]}: not fitted (no export gives it: "
                         f"{NOT_IN_EXPORTS[key]}); the default {shown} applies: set yours")
        if book:
            lines += ["", f"# today's book, exactly ({by_key['start.book'].comment}): each "
                          "client's seats, fee ($/month) and months into its contract"]
            for client in book:
                lines += ["[[start.book]]"] + [f"{k} = {_toml(v)}" for k, v in client.items()]
    return "\n".join(lines) + "\n"


def fitted_config(result: FitResult, source: str = "fit") -> Config:
    """The fitted config, validated as any config."""
    return config_from_dict(config_data(result), source=source)


def fit_summary(result: FitResult) -> dict[str, Any]:
    """``fit.json``: every fitted value with its interval, count and source; warnings."""
    def num(x: float) -> float | None:
        return float(x) if math.isfinite(x) else None

    return {
        "as_of": result.as_of.isoformat(),
        "files": result.files,
        "fitted": [{"key": f.key, "value": f.value, "estimate": num(f.estimate),
                    "interval90": [num(f.interval90[0]), num(f.interval90[1])],
                    "count": f.count, "source": f.source, "comment": f.comment}
                   for f in result.fitted],
        "not_fitted": {**{k: f"needs {need}" for k, need in FITTABLE.items()
                          if result.get(k) is None},
                       **{k: f"no export gives it ({what}): the default applies"
                          for k, what in NOT_IN_EXPORTS.items()}},
        "warnings": list(result.warnings),
        "version": package_version(),
    }


def fit_json(result: FitResult) -> str:
    """:func:`fit_summary` as JSON text."""
    return json.dumps(fit_summary(result), indent=2, allow_nan=False) + "\n"
