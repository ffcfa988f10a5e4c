"""The starter config ``msp-sim init`` writes, and the all-assumptions scan.

:func:`starter_toml` is a commented TOML of the user's own business: the
``[start]`` values to fill in (with units), set to the baseline's so that the
file as written gives the baseline's answers, and every assumption listed,
commented out, with its default, plausible range and how to measure it.
:func:`assumptions_uncertain` turns every assumption a config gives as a fixed
number into a uniform distribution over its plausible range, for a
sensitivity analysis that cannot miss a hidden constant.
"""

from __future__ import annotations

from typing import Any

from .distributions import UniformDist
from .schema import Config, param_specs

__all__ = ["BASELINE_START", "assumption_keys", "assumptions_uncertain", "starter_toml"]

BASELINE_START: dict[str, tuple[float, str]] = {
    "customers": (16, "managed-services customers today"),
    "techs": (5, "technicians on staff today"),
    "cash": (100_000, "cash in the bank today [$]"),
    "legacy_product_revenue": (30_000, "product resale outside managed services [$/month]"),
    "legacy_project_revenue": (20_000, "projects and T&M outside managed services [$/month]"),
    "alignment_score": (0.0, "how standardized the book is today: 0 reactive .. 1 aligned"),
}
"""The baseline business's ``[start]`` (configs/baseline.toml): value, meaning."""


def assumption_keys() -> list[str]:
    """Every key with a sourced plausible range (an assumption), in schema order."""
    return [k for k, spec in param_specs().items() if spec.plausible is not None]


def _plausible(key: str) -> tuple[float, float]:
    plausible = param_specs()[key].plausible
    if plausible is None:  # pragma: no cover - assumption_keys() lists only these
        raise KeyError(f"{key} has no plausible range")
    return plausible


def assumptions_uncertain(config: Config) -> tuple[Config, list[str]]:
    """``config`` with every assumption it fixes made uniform over its plausible range.

    Returns the new config and the keys it changed; assumptions the config
    already gives as distributions keep them.
    """
    changed = []
    updates: dict[str, dict[str, Any]] = {}
    for key in assumption_keys():
        value = config.get(key)
        if not isinstance(value, int | float):
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


def starter_toml() -> str:
    """The text of a starter config (see the module docstring)."""
    from .loader import config_from_dict

    defaults = config_from_dict({})
    lines = [
        "# My MSP: a starter config written by `msp-sim init`.",
        "# Fill in [start] with your business as it is today; as written it is the",
        "# baseline business (configs/baseline.toml) and gives the same answers.",
        "# Everything else is the calibrated average MSP (docs/calibration.md); the",
        "# assumptions below are commented out at their defaults: measure yours and",
        "# uncomment the line, or give a range,",
        "# e.g. { dist = \"uniform\", low = 0.1, high = 0.2 }.",
        "# Check it with `msp-sim validate FILE`, run it with `msp-sim run FILE`.",
        "",
        "[simulation]",
        "months = 60                  # horizon [months]",
        "paths = 10000                # Monte Carlo paths",
        "seed = 20261123              # run seed (any non-negative integer)",
        "threshold_mrr = 100000       # [$/month] the MRR you want to break",
        "",
        "[start]",
    ]
    for name, (value, meaning) in BASELINE_START.items():
        lines.append(f"{f'{name} = {_g(value)}':<28} # {meaning}")
    section = None
    for key in assumption_keys():
        spec = param_specs()[key]
        sec, name = key.split(".", 1)
        if sec != section:
            lines += ["", f"[{sec}]"]
            section = sec
        value = defaults.get(key)
        shown = _g(value) if isinstance(value, int | float) else (
            "{ " + ", ".join(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {_g(v)}"
                             for k, v in value.model_dump(exclude_none=True).items()) + " }")
        lo, hi = _plausible(key)
        lines.append(f"# {name} = {shown}  # [{spec.unit}] plausible {_g(lo)}-{_g(hi)}; "
                     f"{spec.source}")
    return "\n".join(lines) + "\n"
