"""The starter config ``msp-sim init`` writes, and the all-assumptions scan.

:func:`starter_toml` is a commented TOML of the user's own business: the
``[start]`` values to fill in (with units), set to the baseline's so that the
file as written gives the baseline's answers, and every assumption listed,
commented out, with its default, plausible range and how to measure it.
:func:`assumptions_uncertain` turns every assumption the config does not set
into a uniform distribution over its plausible range (the flat version of the
default, which is triangular around the sourced value), for a sensitivity
analysis that cannot miss a hidden constant; what the config sets (the user's
file, ``--set``, ``msp-sim fit``'s output) it never touches (:func:`set_keys`).
"""

from __future__ import annotations

from typing import Any

from .distributions import UniformDist
from .schema import SECTIONS, Config, param_specs

__all__ = ["BASELINE_START", "FIRST_KEYS", "assumption_keys", "assumptions_uncertain",
           "set_keys", "starter_book", "starter_toml"]

BASELINE_START: dict[str, tuple[float, str]] = {
    "customers": (16, "managed-services customers today"),
    "techs": (5, "technicians on staff today"),
    "cash": (100_000, "cash in the bank today [$]"),
    "legacy_product_revenue": (30_000, "hardware and software resold to customers outside "
                                       "the managed book (the VAR line) [$/month]"),
    "legacy_project_revenue": (20_000, "projects and T&M for customers outside the managed "
                                       "book [$/month]"),
    "alignment_score": (0.0, "how standardized the book is today: 0 reactive .. 1 aligned"),
}
"""The baseline business's ``[start]`` (configs/baseline.toml): value, meaning."""


FIRST_KEYS: dict[str, str] = {
    "customers.price_per_seat": "what a new client pays per seat, all in (your price list)",
    "customers.seats": "seats of a new client (your last ten signings)",
    "churn.annual_rate": "share of managed clients lost in a year (your last two years)",
    "tickets.per_endpoint_reactive": "tickets per endpoint a month (PSA: tickets / endpoints)",
    "tickets.hours_reactive": "hours per ticket (PSA: time logged / tickets)",
    "staff.tech_cost_per_month": "a technician's fully loaded cost (payroll, taxes, benefits)",
    "staff.hire_lag_months": "months from deciding to hire to the technician's first day",
    "staff.hire_cash_months": "months of a hire's cost the bank and credit must cover before "
                              "you hire",
    "finance.credit_limit": "your bank line: the model stops the business when cash falls "
                            "below minus this",
}
"""The keys a coach asks for first, written out (at their defaults) in the starter, with
how to measure each."""


def assumption_keys() -> list[str]:
    """Every key with a sourced plausible range (an assumption), in schema order."""
    return [k for k, spec in param_specs().items() if spec.plausible is not None]


def _plausible(key: str) -> tuple[float, float]:
    plausible = param_specs()[key].plausible
    if plausible is None:  # pragma: no cover - assumption_keys() lists only these
        raise KeyError(f"{key} has no plausible range")
    return plausible


def set_keys(config: Config) -> set[str]:
    """The dotted keys ``config`` sets itself rather than leaving at the schema's default:
    those its file or ``--set`` gives (``msp-sim fit`` writes what it fitted into the
    file), or a Python update adds (pydantic's ``model_fields_set`` of each section)."""
    return {f"{section}.{name}" for section in SECTIONS
            for name in getattr(config, section).model_fields_set}


def assumptions_uncertain(config: Config) -> tuple[Config, list[str]]:
    """``config`` with every assumption it leaves at its default made uniform over its
    plausible range.

    Returns the new config and the keys it changed. A key the config sets, as a
    number (measured, or fitted by ``msp-sim fit``) or as a distribution, is never
    touched (:func:`set_keys`).
    """
    changed = []
    updates: dict[str, dict[str, Any]] = {}
    chosen = set_keys(config)
    for key in assumption_keys():
        if key in chosen:
            continue
        lo, hi = _plausible(key)
        section, name = key.split(".", 1)
        updates.setdefault(section, {})[name] = UniformDist(dist="uniform", low=lo, high=hi)
        changed.append(key)
    data = {section: getattr(config, section).model_copy(update=values)
            for section, values in updates.items()}
    return config.model_copy(update=data), changed


def _g(x: float) -> str:
    return f"{x:g}"


def _toml_value(value: Any) -> str:
    if isinstance(value, int | float):
        return _g(value)
    return "{ " + ", ".join(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {_g(v)}"
                            for k, v in value.model_dump(exclude_none=True).items()) + " }"


def _typical(key: str, value: Any) -> float:
    """A number, or the sourced value of an assumption left uncertain by default (else the
    distribution's mean)."""
    if isinstance(value, int | float):
        return float(value)
    point = param_specs()[key].point
    return point if point is not None else float(value.mean())


def _mean(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else float(value.mean())


def starter_book(config: Config | None = None) -> list[dict[str, Any]]:
    """The example book of the starter: the baseline's clients written out.

    ``start.customers`` clients whose seats are the seat distribution's quantiles at
    ``(k + 1/2) / customers``, each paying the mean price per seat, with contracts
    spread evenly over the contract term.
    """
    from .loader import config_from_dict

    if config is None:
        config = config_from_dict({"start": {k: v for k, (v, _m) in BASELINE_START.items()}})
    n = int(config.get("start.customers"))
    seats = config.customers.seats
    price = _mean(config.customers.price_per_seat)
    term = int(_typical("customers.contract_months", config.get("customers.contract_months")))
    book = []
    for k in range(n):
        q = (k + 0.5) / n
        s = max(1, round(float(seats) if isinstance(seats, int | float)
                         else float(seats.frozen().ppf(q))))
        book.append({"client": f"Client {k + 1}", "seats": s,
                     "monthly_fee": round(s * price), "contract_month": k * term // n})
    return book


def starter_toml() -> str:
    """The text of a starter config (see the module docstring)."""
    from .loader import config_from_dict

    defaults = config_from_dict({})
    book = starter_book()
    mrr = sum(c["monthly_fee"] for c in book)
    seats = sum(c["seats"] for c in book)
    base = config_from_dict({"start": {**{k: v for k, (v, _m) in BASELINE_START.items()
                                          if k != "customers"}, "book": book}})
    spend = _typical("projects.product_spend_per_seat_year",
                     base.get("projects.product_spend_per_seat_year"))
    per_year = _typical("projects.per_customer_year", base.get("projects.per_customer_year"))
    size = _mean(base.projects.size)
    lines = [
        "# My MSP: a starter config written by `msp-sim init`.",
        "# Fill in [start] and [[start.book]] with your business as it is today, then the",
        "# keys under \"measure these first\" in each section. As written it is the",
        "# baseline business (configs/baseline.toml) with its 16 clients written out.",
        "# Everything else is the calibrated average MSP (docs/calibration.md); the",
        "# assumptions are commented out: left out, each is drawn over its plausible",
        "# range, so every answer says how much they could move it. Measure yours and",
        "# uncomment the line with your value, or give a range,",
        "# e.g. { dist = \"uniform\", low = 0.1, high = 0.2 }.",
        "# Check it with `msp-sim validate FILE` (it also says whether month 1 is close",
        "# to a steady state), run it with `msp-sim run FILE`.",
        "",
        "[simulation]",
        "months = 60                  # horizon [months]",
        "paths = 10000                # Monte Carlo paths",
        "seed = 20261123              # run seed (any non-negative integer)",
        "threshold_mrr = 100000       # [$/month] the MRR you want to break",
        "",
        "[start]",
        "# start.customers is the number of [[start.book]] clients below (leave it out).",
    ]
    for name, (value, meaning) in BASELINE_START.items():
        if name != "customers":
            lines.append(f"{f'{name} = {_g(value)}':<28} # {meaning}")
    lines += [
        "# The model adds, on top of the two legacy lines, what your managed clients buy",
        "# through you and the projects they order: projects.product_spend_per_seat_year",
        f"# (${spend:,.0f}/seat/year: ${spend * seats / 12:,.0f}/month for the book below) and",
        f"# projects.per_customer_year x projects.size ({per_year:g} a year of ${size:,.0f} on "
        f"average:",
        f"# ${per_year * size * len(book) / 12:,.0f}/month for the book below). So enter in the "
        "legacy lines only",
        "# what customers outside the managed book buy, or lower those two keys.",
        "",
        "# Today's book, exactly: one [[start.book]] per managed-services client, with its",
        "# seats, its monthly fee [$/month] and the months since its contract began",
        f"# (0 .. customers.contract_months - 1). These {len(book)} example clients (${mrr:,} "
        "MRR)",
        "# are the baseline's: replace them with yours, add or delete blocks.",
    ]
    for client in book:
        fee = f"monthly_fee = {client['monthly_fee']}"
        lines += ["", "[[start.book]]", f'client = "{client["client"]}"',
                  f"seats = {client['seats']}", f"{fee:<28} # [$/month]",
                  f"contract_month = {client['contract_month']}"]
    section = None
    specs = param_specs()
    keys = [k for k in specs if k in FIRST_KEYS or specs[k].plausible is not None]
    for key in keys:
        spec = specs[key]
        sec, name = key.split(".", 1)
        if sec != section:
            lines += ["", f"[{sec}]"]
            section = sec
            first = [k for k in keys if k.startswith(f"{sec}.") and k in FIRST_KEYS]
            if first:
                lines.append("# measure these first:")
                for k in first:
                    assign = f"{k.split('.', 1)[1]} = {_toml_value(defaults.get(k))}"
                    bounds = specs[k].plausible
                    rng = "" if bounds is None else f"plausible {_g(bounds[0])}-{_g(bounds[1])}; "
                    lines.append(f"{assign:<28} # [{specs[k].unit}] {FIRST_KEYS[k]}; {rng}"
                                 f"default: {specs[k].source}")
                if any(k not in FIRST_KEYS for k in keys if k.startswith(f"{sec}.")):
                    lines.append("# assumptions (uncomment to change):")
        if key in FIRST_KEYS:
            continue
        lo, hi = _plausible(key)
        if spec.point is not None:  # left out, it is drawn over its range (issue 24)
            lines.append(f"# {name} = {_g(spec.point)}  # [{spec.unit}] plausible "
                         f"{_g(lo)}-{_g(hi)} (left out: drawn over that range, most likely "
                         f"{_g(spec.point)}); {spec.source}")
            continue
        lines.append(f"# {name} = {_toml_value(defaults.get(key))}  # [{spec.unit}] plausible "
                     f"{_g(lo)}-{_g(hi)}; {spec.source}")
    return "\n".join(lines) + "\n"
