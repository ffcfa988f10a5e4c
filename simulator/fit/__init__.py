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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import Config, config_from_dict
from ..config.schema import SECTIONS, param_specs
from ..formatting import has_control, printable
from ..version import package_version
from .config_table import config_data
from .estimate import FitResult, Fitted, fit_records
from .records import clients_of, deals_of, pnl_of, tickets_of
from .tables import ReadOptions, read_column_map, read_table

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
    "customers.price_escalator": "clients with several agreement rows per client",
    "projects.per_customer_year": "pnl and clients",
    "sales.cycle_months": "pipeline with close dates",
    "tickets.proactive_hours_per_endpoint": "tickets and clients (calibrated on the replay)",
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
    options: ReadOptions | None = None,
) -> dict[str, Any]:
    """The records of the given files, checked (``clients``, ``deals``, ``tickets``,
    ``pnl``, ``work``: time entries on no ticket; each ``None`` when its file is not
    given), their file names (``sources``) and the readers' ``warnings`` (future dates,
    title rows, left-out ticket types, a file of exactly 5,000 rows).

    Raises
    ------
    ConfigError
        A file cannot be read, or a row or column is wrong.
    """
    column_map = read_column_map(columns)
    options = options or ReadOptions()
    out: dict[str, Any] = {"clients": None, "deals": None, "tickets": None, "pnl": None,
                           "work": None, "sources": {}, "warnings": []}
    if clients is not None:
        table = read_table(clients, "clients", column_map, options)
        out["clients"], out["sources"]["clients"] = clients_of(table), table.name
        out["warnings"] += table.warnings
    if pipeline is not None:
        table = read_table(pipeline, "pipeline", column_map, options)
        out["deals"], out["sources"]["pipeline"] = deals_of(table), table.name
        out["warnings"] += table.warnings
    if tickets is not None:
        table = read_table(tickets, "tickets", column_map, options)
        out["tickets"], out["work"] = tickets_of(table, out["clients"])
        out["sources"]["tickets"] = table.name
        out["warnings"] += table.warnings
        names = {t.resource for t in out["tickets"]} | {w.resource for w in out["work"]}
        if owner is not None and owner not in names:
            raise table.error(None, "resource", owner, "`owner` names no resource of the "
                              "tickets; allowed: one of " + ", ".join(sorted(names)[:8]))
    if pnl is not None:
        table = read_table(pnl, "pnl", column_map, options)
        out["pnl"], out["sources"]["pnl"] = pnl_of(table), table.name
        out["warnings"] += table.warnings
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
    options: ReadOptions | None = None,
    base: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    calibrate: bool = True,
) -> FitResult:
    """Read and fit a business's exports (each optional): :func:`fit_business` of
    :func:`read_records`.

    Raises
    ------
    ConfigError
        A file cannot be read, or a row or column is wrong (one line naming the
        file, the row and the column).
    """
    records = read_records(clients, pipeline, tickets, pnl, owner=owner, columns=columns,
                           options=options)
    return fit_business(records, owner=owner, as_of=as_of, selling_hours=selling_hours,
                        base=base, overrides=overrides, calibrate=calibrate)


def fit_business(
    records: Mapping[str, Any],
    *,
    owner: str | None = None,
    as_of: datetime.date | None = None,
    selling_hours: float | None = None,
    base: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    calibrate: bool = True,
    replay_months: int = 24,
) -> FitResult:
    """Fit the records column by column (:func:`~.estimate.fit_records`), calibrate
    the business as a whole against its own history and check the replay
    (:mod:`.calibrate`). ``base`` (a config table, ``--config``) gives the values the
    fit does not; ``overrides`` (``--set``) are held as given, never fitted.

    Raises
    ------
    ValueError
        ``as_of`` is before the records begin.
    """
    from .calibrate import calibrate as calibrate_business
    from .calibrate import replay_check

    defaults = config_from_dict(dict(base or {}), source="--config")

    def mean(key: str) -> float:  # a default's value, or its distribution's mean
        value = defaults.get(key)
        return float(value.mean()) if hasattr(value, "mean") else float(value)

    hours = mean("staff.owner_sales_hours_per_month") if selling_hours is None \
        else selling_hours
    result = fit_records(records.get("clients"), records.get("deals"), records.get("tickets"),
                         records.get("pnl"), sources=records.get("sources", {}),
                         owner=owner, as_of=as_of, selling_hours=hours,
                         work=records.get("work"), project_size=mean("projects.size"),
                         endpoints_per_seat=mean("customers.endpoints_per_seat"),
                         per_employee_overhead=mean("finance.overhead_per_employee_month"),
                         per_customer_overhead=mean("finance.overhead_per_customer_month"),
                         product_spend_per_seat_year=mean(
                             "projects.product_spend_per_seat_year"),
                         project_revenue_per_customer_year=mean("projects.per_customer_year")
                         * mean("projects.size"))
    result.warnings[:0] = list(records.get("warnings", ()))
    held = dict(overrides or {})
    result.fitted = [f for f in result.fitted if f.key not in held]
    result.base = dict(base or {})
    result.held = held
    if calibrate and records.get("clients"):
        data = {**records, "owner": owner}
        if as_of is not None:
            from .history import records_until

            cut = records_until(records.get("clients"), records.get("deals"),
                                records.get("tickets"), records.get("pnl"),
                                records.get("work"), as_of)
            data.update(zip(("clients", "deals", "tickets", "pnl", "work"), cut, strict=True))
        result = calibrate_business(result, data, base=base, overrides=held,
                                    months=replay_months)
        result.replay = replay_check(result, data, base=base, overrides=held,
                                     months=replay_months)
        if result.replay is not None:
            result.warnings += result.replay.disagreements
    return result


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, str):  # a TOML basic string: control characters as \\uXXXX
        return '"' + "".join(
            f"\\u{ord(c):04x}" if has_control(c) else c
            for c in value.replace("\\", "\\\\").replace('"', '\\"')) + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()
                                  and abs(value) < 1e15):
        return str(int(value))
    return repr(float(value))


def config_text(result: FitResult) -> str:
    """A complete config of the fitted business, a comment on every value."""
    files = printable(", ".join(result.files.values()) or "no files")  # comments: one line
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
        if not isinstance(data.get(section, {}), Mapping):
            continue
        fitted = dict(data.get(section, {}))
        book = fitted.pop("book", None) if section == "start" else None
        missing = [k for k, need in FITTABLE.items() if k.startswith(section + ".")
                   and k not in by_key and k not in result.held]
        kept = [k for k in NOT_IN_EXPORTS if k.startswith(section + ".")
                and k.split(".", 1)[1] not in fitted and k not in result.held]
        if not fitted and not missing and not kept:
            continue
        lines += ["", f"[{section}]"]
        for name, value in fitted.items():
            key = f"{section}.{name}"
            note = by_key[key].comment if key in by_key else \
                "held as given by --set" if key in result.held else \
                "from --config" if key != "simulation.start_date" else \
                "month 0 = the as-of month: reports name months by the calendar"
            lines.append(f"{name} = {_toml(value)}  # {printable(note)}")
        for key in missing:
            default = defaults.get(key)
            shown = (default.describe() if hasattr(default, "describe")
                     else "(empty)" if default in ((), []) else _toml(default))
            point = param_specs()[key].point if key in param_specs() else None
            if point is not None and hasattr(default, "describe"):  # issue 24
                shown = f"{point:g} (uncertain: {shown}, drawn per path)"
            lines.append(f"# {key.split('.', 1)[1]}: not fitted (needs {FITTABLE[key]}); "
                         f"the calibrated default {shown} applies")
        for key in kept:
            default = defaults.get(key)
            shown = default.describe() if hasattr(default, "describe") else _toml(default)
            lines.append(f"# {key.split('.', 1)[1]}: not fitted (no export gives it: "
                         f"{NOT_IN_EXPORTS[key]}); the default {shown} applies: set yours")
        if book:
            source = printable(by_key["start.book"].comment)
            lines += ["", f"# today's book, exactly ({source}): each "
                          "client's seats, fee ($/month) and months into its contract"]
            for client in book:
                lines += ["[[start.book]]"] + [f"{k} = {_toml(v)}" for k, v in client.items()]
    return "\n".join(lines) + "\n"


def fitted_config(result: FitResult, source: str = "fit") -> Config:
    """The fitted config, validated as any config."""
    return config_from_dict(config_data(result), source=source)


def _given(result: FitResult, key: str) -> bool:
    """``key`` was given by the user (``--set`` or ``--config``), not left to a default."""
    section, name = key.split(".", 1)
    given = result.base.get(section)
    return key in result.held or (isinstance(given, Mapping) and name in given)


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
                          if result.get(k) is None and not _given(result, k)},
                       **{k: f"no export gives it ({what}): the default applies"
                          for k, what in NOT_IN_EXPORTS.items() if not _given(result, k)}},
        "warnings": list(result.warnings),
        "replay": None if result.replay is None else result.replay.to_dict(),
        "version": package_version(),
    }


def fit_json(result: FitResult) -> str:
    """:func:`fit_summary` as JSON text."""
    return json.dumps(fit_summary(result), indent=2, allow_nan=False) + "\n"
