"""Portfolios of many MSPs (``msp-sim portfolio``): how many break the threshold, and when.

A portfolio file (CSV or XLSX) has one row per MSP: an ``msp`` name column and
either config keys as columns (dotted names, each cell a value as in
``--set``; an empty cell keeps the base config's value) or a ``config``
column naming a config file each (relative to the portfolio file), or both.
Every MSP is simulated with the same seed and paths (common random numbers),
so path ``i`` of every MSP and lever faces the same luck.

Per MSP: P(break by month 36 and by the horizon) with Wilson 95% intervals,
the median months to the threshold and P(out of cash and credit). For the
portfolio: the expected number of MSPs that break the threshold by each
month, with a 95% interval from the Poisson-binomial distribution of that
count (each MSP an independent business with its own chance,
:data:`scipy.stats.poisson_binom`), and the spread of P(break) across MSPs.
With levers, for each standard lever (:mod:`.levers`) the expected number of
additional MSPs that break through by the horizon (the sum of the paired
differences, with a normal 95% interval from their standard errors).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from ..config import Config, ConfigError, config_from_dict, load_config
from ..config.errors import MISSING, RawText
from ..config.loader import parse_override
from ..config.schema import SECTIONS
from ..formatting import finite_or_none as _f
from ..results import package_version, require_pandas
from ..runner import map_ordered
from .common import JsonResult

__all__ = ["Msp", "PortfolioResult", "load_portfolio", "portfolio"]

SCAN_MONTH = 36


@dataclass(frozen=True)
class Msp:
    """One MSP of a portfolio: its name, its config and its row in the file."""

    name: str
    config: Config
    row: int


def _cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def load_portfolio(path: str | Path, base: str | Path | Config | None = None) -> list[Msp]:
    """Read a portfolio file into one config per MSP.

    Raises
    ------
    ConfigError
        One line per problem naming the file, the row and the column: an
        unknown column, a bad value, a missing config file, a duplicate or
        empty MSP name, no MSP at all.
    """
    from ..fit.tables import read_rows
    from ..formatting import has_control

    path = Path(path)
    raw = [(n, r) for n, r in enumerate(read_rows(path), start=1)
           if any(c not in (None, "") for c in r)]
    if len(raw) < 2:
        raise ConfigError(str(path), [("", MISSING, "no MSPs; allowed: a header row (msp, "
                                       "then config keys or config) and one row per MSP")])
    header = [_cell(h) for h in raw[0][1]]
    if "msp" not in header:
        raise ConfigError(str(path), [("column msp", MISSING, "missing; allowed: an msp column "
                                       "naming each MSP")])
    for column in header:
        if column in ("msp", "config", ""):
            continue
        section, _, name = column.partition(".")
        if section not in SECTIONS or not name:
            raise ConfigError(str(path), [(f"column {column}", MISSING, "unknown column; "
                                           "allowed: msp, config, or a dotted config key such "
                                           "as sales.reps")])
    if isinstance(base, Config):
        base_data = base.model_dump(mode="python", by_alias=True, exclude_none=True)
    elif base is not None:
        base_data = load_config(base).model_dump(mode="python", by_alias=True,
                                                 exclude_none=True)
    else:
        base_data = {}
    msps: list[Msp] = []
    seen: dict[str, int] = {}
    for number, cells in raw[1:]:
        row = dict(zip(header, cells, strict=False))
        name = _cell(row.get("msp"))
        if not name:
            raise ConfigError(str(path), [(f"row {number}, column msp", MISSING,
                                           "empty; allowed: the MSP's name")])
        if has_control(name):  # it reaches the workbook, the page and the terminal
            raise ConfigError(str(path), [(f"row {number}, column msp", name,
                                           "a control character (shown escaped); allowed: "
                                           "printable text")])
        if name in seen:
            raise ConfigError(str(path), [(f"row {number}, column msp", name,
                                           f"listed twice (first in row {seen[name]}); "
                                           "allowed: one row per MSP")])
        seen[name] = number
        data = base_data
        config_file = _cell(row.get("config"))
        if config_file:
            target = path.parent / config_file
            if not target.is_file():
                raise ConfigError(str(path), [(f"row {number}, column config", config_file,
                                               "no such config file (relative to this file); "
                                               "allowed: an existing .toml config")])
            data = load_config(target).model_dump(mode="python", by_alias=True,
                                                  exclude_none=True)
        overrides: dict[str, Any] = {}
        for column in header:
            text = _cell(row.get(column))
            if column in ("msp", "config", "") or not text:
                continue
            try:
                key, value = parse_override(f"{column}={text}")
            except ConfigError as exc:
                raise ConfigError(str(path), [(f"row {number}, column {column}",
                                               RawText(text), exc.problems[0][2])]) from None
            overrides[key] = value
        try:
            config = config_from_dict(data, source=str(path), overrides=overrides)
        except ConfigError as exc:
            key, value, message = exc.problems[0]
            raise ConfigError(str(path), [(f"row {number}, column {key}", value, message)]
                              ) from None
        msps.append(Msp(name, config, number))
    months = {m.config.simulation.months for m in msps}
    thresholds = {m.config.simulation.threshold_mrr for m in msps}
    if len(months) > 1 or len(thresholds) > 1:
        raise ConfigError(str(path), [("", MISSING, "MSPs with different horizons or "
                                       "thresholds; allowed: one simulation.months and "
                                       "threshold_mrr for the whole portfolio")])
    return msps


@dataclass(repr=False)
class PortfolioResult(JsonResult):
    """Every MSP's chances and the portfolio's count of breakthroughs.

    Attributes
    ----------
    msps : list of Msp
    n_paths, seed, months : int
    p_break : ndarray, shape (msps, months + 1)
        Each MSP's P(broken the threshold by month t).
    entries : list of dict
        Per MSP: its headline numbers (see :meth:`to_dict`).
    levers : dict of str to list of dict, optional
        Per lever: each MSP's paired change in P(break by the horizon).
    """

    msps: list[Msp]
    n_paths: int
    seed: int
    months: int
    threshold_mrr: float
    p_break: np.ndarray
    entries: list[dict[str, Any]]
    levers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"PortfolioResult(msps={len(self.msps)}, n_paths={self.n_paths}, "
                f"seed={self.seed}, levers={len(self.levers)})")

    def expected_breaking(self) -> dict[str, np.ndarray]:
        """Expected number of MSPs broken through by each month, with the 2.5% and 97.5%
        quantiles of its Poisson-binomial distribution."""
        expected = self.p_break.sum(axis=0)
        low = np.empty_like(expected)
        high = np.empty_like(expected)
        for t in range(self.months + 1):
            low[t], high[t] = count_quantiles(self.p_break[:, t], (0.025, 0.975))
        return {"expected": expected, "low": low, "high": high}

    def to_dict(self) -> dict[str, Any]:
        """``portfolio.json``."""
        counts = self.expected_breaking()
        h = self.p_break[:, -1]
        out: dict[str, Any] = {
            "n_msps": len(self.msps),
            "n_paths": self.n_paths,
            "seed": int(self.seed),
            "months": self.months,
            "threshold_mrr": self.threshold_mrr,
            "common_random_numbers": True,
            "msps": self.entries,
            "portfolio": {
                "expected_breaking_by_month": [_f(x) for x in counts["expected"]],
                "breaking_by_month_ci95": [[_f(a), _f(b)] for a, b in
                                           zip(counts["low"], counts["high"], strict=True)],
                "p_break_by_horizon_across_msps": {
                    "mean": _f(h.mean()),
                    **{f"p{q}": _f(np.quantile(h, q / 100)) for q in (10, 25, 50, 75, 90)},
                },
                "method": ("Expected count = the sum of the MSPs' P(break by month t); its "
                           "95% interval: the 2.5% and 97.5% quantiles of the Poisson-binomial "
                           "distribution of the count (scipy.stats.poisson_binom), each MSP an "
                           "independent business"),
            },
            "version": package_version(),
        }
        if self.levers:
            rows = []
            for name, per_msp in self.levers.items():
                gains = np.array([e["value"] for e in per_msp])
                se = np.array([e["se"] for e in per_msp])
                half = 1.96 * math.sqrt(float(np.sum(se ** 2)))
                total = float(gains.sum())
                rows.append({"name": name, "set_example": per_msp[0]["set"],
                             "additional_msps_breaking": _f(total),
                             "ci95": [_f(total - half), _f(total + half)],
                             "msps_helped": int(np.sum(gains > 0))})
            rows.sort(key=lambda r: -(r["additional_msps_breaking"] or 0.0))
            out["levers"] = rows
            out["levers_method"] = (
                "each MSP's lever scan (common random numbers): the paired change in "
                "P(break by the horizon), summed over MSPs; 95% interval from the paired "
                "standard errors (normal)")
        return out

    def to_frame(self) -> Any:
        """One row per MSP (pandas DataFrame, index = MSP name)."""
        pd = require_pandas()
        return pd.DataFrame([{"msp": e["name"], **{k: v for k, v in e.items()
                                                    if k != "name" and not isinstance(v, list)}}
                             for e in self.entries]).set_index("msp")

    def plot(self, ax: Any = None) -> Any:
        """Expected MSPs broken through by month with the 95% interval, beside the spread
        of P(break by the horizon) across MSPs
        (:func:`simulator.report.portfolio.portfolio_chart`)."""
        from ..report.portfolio import portfolio_chart

        return portfolio_chart(self, ax)


SCIPY_POISSON_BINOM_MAX = 32
"""Up to this many MSPs the count's quantiles come from :data:`scipy.stats.poisson_binom`;
its ``ppf`` builds a numpy ufunc with one operand per probability and fails past ~60."""


def count_quantiles(p: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Quantiles of the number of successes of independent Bernoulli(``p_i``) trials
    (the Poisson-binomial distribution): :data:`scipy.stats.poisson_binom` for up to
    :data:`SCIPY_POISSON_BINOM_MAX` trials, else its exact probabilities by convolution,
    one trial at a time (the same distribution; tested against scipy)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    if p.size <= SCIPY_POISSON_BINOM_MAX:
        return [float(x) for x in stats.poisson_binom(p).ppf(qs)]
    pmf = np.zeros(p.size + 1)
    pmf[0] = 1.0
    for k, pk in enumerate(p, start=1):
        pmf[1:k + 1] = pmf[1:k + 1] * (1.0 - pk) + pmf[:k] * pk
        pmf[0] *= 1.0 - pk
    cdf = np.cumsum(pmf)
    # the smallest count whose cumulative probability reaches q (as scipy's ppf)
    return [float(np.searchsorted(cdf, q - 1e-12, side="left")) for q in qs]


def _entry(msp: Msp, result: Any) -> dict[str, Any]:
    month = min(SCAN_MONTH, result.months)
    h = result.p_break_by(result.months)
    m = result.p_break_by(month)
    median = result.time_quantile(0.5)
    out = result.p_insolvent_by(result.months)
    return {"name": msp.name, "row": msp.row,
            "p_break_by_horizon": _f(h.value), "p_break_by_horizon_ci95": [_f(h.low), _f(h.high)],
            f"p_break_by_{month}": _f(m.value), f"p_break_by_{month}_ci95": [_f(m.low), _f(m.high)],
            "median_months": median.value, "median_months_ci95": [median.low, median.high],
            "p_insolvent": _f(out.value), "p_insolvent_ci95": [_f(out.low), _f(out.high)]}


def _msp_result(msp: Msp, n_paths: int, seed: int, levers: bool
                ) -> tuple[dict[str, Any], np.ndarray, list[dict[str, Any]]]:
    """One MSP's part of a portfolio: its entry, its P(break by month t) and, with
    ``levers``, each lever's paired change (a task on a Dask worker, or run here)."""
    from ..runner import RunOptions, run
    from .scan import lever_scan

    # first passages and insolvency months only: no trajectories, no monthly statistics
    result = run(msp.config, n_paths, seed, RunOptions(progress=False, outcomes_only=True))[0]
    p_break = result.time_to_threshold().cdf(np.arange(result.months + 1))
    rows = []
    if levers:
        scan = lever_scan(msp.config, n_paths=n_paths, seed=seed).to_dict()
        for e in scan["levers"]:
            d = e["difference"]["p_break_by_horizon"]
            low, high = d["ci95"]
            se = 0.0 if low is None or high is None else (high - low) / (2 * 1.959964)
            rows.append({"name": e["name"], "msp": msp.name, "value": d["value"], "se": se,
                         "set": e["set"]})
    return _entry(msp, result), p_break, rows


def portfolio_bytes(n_msps: int, n_paths: int, months: int, levers: bool) -> int:
    """Estimated memory of :func:`portfolio` run here (bytes, beyond the interpreter):
    one MSP at a time, its run without trajectories and, with ``levers``, its lever
    scan (one lever's trajectories kept at a time, :func:`~simulator.analysis.levers.
    lever_scan`); and each finished MSP's P(break) by month."""
    from ..memory import run_bytes

    one = run_bytes(n_paths, months, False)
    if levers:
        one = max(one, run_bytes(n_paths, months, True))
    return one + n_msps * 8 * (months + 1)


def _checkpoint_key(msp: Msp, n_paths: int, seed: int, levers: bool) -> str:
    import hashlib

    from ..results import config_sha256

    text = f"{msp.name}|{config_sha256(msp.config)}|{n_paths}|{seed}|{levers}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _checked_piece(piece: Any, msp: Msp, months: int) -> bool:
    """Whether a kept MSP (:meth:`simulator.output.Checkpoint.load`) is exactly what
    ``_msp_result`` returns (types and shapes); if not, it is redone."""

    def number(x: Any) -> bool:
        return x is None or (isinstance(x, int | float) and not isinstance(x, bool))

    def value_ok(x: Any) -> bool:
        return number(x) or (isinstance(x, list) and len(x) == 2 and all(map(number, x)))

    if not (isinstance(piece, tuple) and len(piece) == 3):
        return False
    entry, row, rows = piece
    if not (isinstance(entry, dict) and entry.get("name") == msp.name
            and entry.get("row") == msp.row
            and all(value_ok(v) for k, v in entry.items() if k not in ("name", "row"))):
        return False
    if not (isinstance(row, np.ndarray) and row.dtype == np.float64
            and row.shape == (months + 1,) and bool(np.all((row >= 0) & (row <= 1)))):
        return False
    if not (isinstance(rows, list) and all(
            isinstance(r, dict) and set(r) == {"name", "msp", "value", "se", "set"}
            and isinstance(r["name"], str) and r["msp"] == msp.name and number(r["value"])
            and number(r["se"]) for r in rows)):
        return False
    return True


def portfolio(
    msps: Sequence[Msp],
    n_paths: int | None = None,
    seed: int | None = None,
    *,
    levers: bool = False,
    progress: Callable[[int, int], None] | None = None,
    client: Any = None,
    checkpoint: Any = None,
) -> PortfolioResult:
    """Simulate every MSP with common random numbers (and, with ``levers``, scan each).

    Parameters
    ----------
    client : distributed.Client, optional
        Run each MSP as a Dask task (:func:`simulator.runner.dask.connect`); the
        result is the same bits as without.
    checkpoint : simulator.output.Checkpoint, optional
        Where each finished MSP is kept (as JSON, its types and shapes checked when
        read back); a
        rerun with the same MSPs, paths, seed and levers takes them from there
        (after Ctrl-C or a crash) and gives exactly the uninterrupted result.
    progress : callable, optional
        ``progress(done, total)`` after each MSP.
    """
    first = msps[0].config.simulation
    n_paths = first.paths if n_paths is None else int(n_paths)
    seed = first.seed if seed is None else int(seed)
    months = int(first.months)
    keys = [_checkpoint_key(m, n_paths, seed, levers) for m in msps]
    finished = 0

    def done(_k: int, _value: Any, kept: bool) -> None:
        nonlocal finished
        finished += 1
        if progress is not None and not kept:
            progress(finished, len(msps))

    results = map_ordered(_msp_result, [(m, n_paths, seed, levers) for m in msps],
                          client=client, checkpoint=checkpoint, keys=keys, done=done,
                          accept=lambda k, kept: _checked_piece(kept, msps[k], months))
    p_break = np.empty((len(msps), months + 1))
    entries = []
    lever_rows: dict[str, list[dict[str, Any]]] = {}
    for k in range(len(msps)):
        entry, row, rows = results[k]
        p_break[k] = row
        entries.append(entry)
        for r in rows:
            lever_rows.setdefault(r["name"], []).append(
                {key: value for key, value in r.items() if key != "name"})
    return PortfolioResult(msps=list(msps), n_paths=n_paths, seed=seed, months=months,
                           threshold_mrr=float(first.threshold_mrr), p_break=p_break,
                           entries=entries, levers=lever_rows)
