"""The fitted values as a config table: what :func:`~simulator.fit.config_text`
writes and the calibration runs (its own module, so :mod:`.calibrate` needs
nothing from the package above it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config.schema import param_specs
from ..formatting import printable
from .estimate import FitResult, Fitted


def _value(f: Fitted) -> Any:
    """The value as written: integers rounded, a distribution given the key's bounds."""
    spec = param_specs().get(f.key)
    if spec is not None and spec.integer and not isinstance(f.value, dict):
        return int(round(f.value))
    if isinstance(f.value, list):  # the book: a client's name as printable text
        return [{k: printable(v) if isinstance(v, str) else v for k, v in client.items()}
                if isinstance(client, dict) else client for client in f.value]
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
        k: dict(v) if isinstance(v, Mapping) else v for k, v in result.base.items()}
    data.setdefault("simulation", {})["start_date"] = result.as_of.replace(day=1)
    for f in result.fitted:
        section, name = f.key.split(".", 1)
        data.setdefault(section, {})[name] = _value(f)
    for key, value in result.held.items():
        section, name = key.split(".", 1)
        data.setdefault(section, {})[name] = value
    return data
