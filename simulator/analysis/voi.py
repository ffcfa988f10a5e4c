"""Value of information: what measuring an assumption before deciding is worth.

A decision between levers (or plans) ``d`` is made on each one's expected net
benefit ``E[NB_d]``; every path of a run with common random numbers gives the
net benefit of every decision on the same draws, ``NB[i, d]``, together with
the path's draws of the uncertain assumptions ``theta_i``.

* EVPI (perfect information about everything, the months' luck included):
  ``mean_i max_d NB[i, d] - max_d mean_i NB[i, d]``, an upper bound of what any
  measurement is worth.
* EVPPI of one assumption ``phi`` (knowing ``phi`` alone, then deciding):
  ``E_phi[max_d E[NB_d | phi]] - max_d E[NB_d]``, the conditional expectations
  estimated by regressing the paired net benefits on ``phi`` over the run's
  own paths (Strong, Oakley & Brennan 2014, "Estimating multiparameter partial
  expected value of perfect information from a probabilistic sensitivity
  analysis sample: a nonparametric regression approach", Medical Decision
  Making 34(3)), with a cubic smoothing spline whose penalty is chosen by
  generalized cross-validation (:func:`scipy.interpolate.make_smoothing_spline`),
  fitted on the means of equal-count bins of ``phi`` (weights: the bin counts);
  an assumption with few distinct values is regressed by its group means.

The regression is of each decision's net benefit *minus the best decision's*,
so that the fitted values of the best decision are 0 exactly. EVPPI >= 0 by
construction (a mean of maxima is at least the maximum of means) and, being an
average of smoothed net benefits, it stays below the EVPI. Standard errors by
the bootstrap over paths (the spline refitted on every resample).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.interpolate import make_smoothing_spline

from ..model.sampling import ALL_KEYS

__all__ = ["VoiEstimate", "VoiSettings", "conditional_means", "evpi", "evppi",
           "scan_value_of_information", "uncertain_draws", "value_of_information",
           "value_with_errors", "voi_lines"]


@dataclass(frozen=True)
class VoiSettings:
    """How the regression of the value of information is fitted.

    Attributes
    ----------
    max_bins : int
        Bins of an assumption's draws the spline is fitted on (equal counts).
    min_per_bin : int
        Paths a bin holds at least (fewer bins on fewer paths).
    smoothed_max : int
        With more uncertain assumptions than this, EVPPI is screened by binned means
        and the smoothing spline fitted for the largest ``smoothed_max`` alone (the
        rest keep their binned estimate, an over-estimate of a value already below
        the last smoothed one's).
    min_paths : int
        Fewer paths than this and a lever scan's value of information is not
        estimated (Strong, Oakley & Brennan used thousands of samples; a spline on a
        few hundred noisy paths mostly fits luck).
    scan_decisions : int
        A scan's decision: the business as it is and the levers best on average.
    """

    max_bins: int = 24
    min_per_bin: int = 20
    smoothed_max: int = 12
    min_paths: int = 1000
    scan_decisions: int = 4


@dataclass(frozen=True)
class VoiEstimate:
    """A value of information with its standard error (``se`` None: not estimated)."""

    value: float
    se: float | None

    def to_dict(self) -> dict[str, float | None]:
        return {"value": float(self.value), "se": None if self.se is None else float(self.se)}


def _groups(x: np.ndarray, settings: VoiSettings) -> tuple[np.ndarray, np.ndarray]:
    """``(order, bin of each sorted path)``: equal-count bins of ``x`` that never split
    a run of equal values; one bin per distinct value when there are few."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    n = xs.size
    n_bins = max(1, min(settings.max_bins, n // settings.min_per_bin))
    distinct = np.flatnonzero(np.diff(xs) > 0) + 1  # starts of new values
    if distinct.size + 1 <= n_bins:
        starts = np.concatenate(([0], distinct))
    else:
        cuts = np.searchsorted(xs, xs[(np.arange(1, n_bins) * n) // n_bins], side="left")
        starts = np.unique(np.concatenate(([0], cuts[cuts > 0])))
    label = np.zeros(n, dtype=np.int64)
    label[starts[1:]] = 1
    return order, np.cumsum(label)


def conditional_means(x: np.ndarray, y: np.ndarray, smooth: bool = True,
                      settings: VoiSettings = VoiSettings()) -> np.ndarray:
    """``E[y_d | x]`` at every path: each column of ``y`` (shape ``(n, D)``) regressed on
    ``x`` by a GCV smoothing spline on binned means (group means when ``x`` has fewer
    than 5 distinct bins, the spline's fit is ill-posed, or ``smooth`` is false)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(x.size, -1)
    order, group = _groups(x, settings)
    counts = np.bincount(group).astype(np.float64)
    xb = np.bincount(group, weights=x[order]) / counts
    fitted_sorted = np.empty((x.size, y.shape[1]))
    for d in range(y.shape[1]):
        yb = np.bincount(group, weights=y[order, d]) / counts
        values = yb[group]
        if smooth and xb.size >= 5 and np.ptp(yb) > 0:
            try:
                spline = make_smoothing_spline(xb, yb, w=counts / counts.mean())
                values = spline(x[order])
            except (ValueError, np.linalg.LinAlgError):
                pass  # group means: still an estimate of the conditional expectation
        fitted_sorted[:, d] = values
    fitted = np.empty_like(fitted_sorted)
    fitted[order] = fitted_sorted
    return fitted


def _relative(nb: np.ndarray) -> np.ndarray:
    """Net benefits less the decision best on average (its column becomes 0)."""
    nb = np.asarray(nb, dtype=np.float64)
    best = int(np.argmax(nb.mean(axis=0)))
    return nb - nb[:, [best]]


def _evppi_value(x: np.ndarray, rel: np.ndarray, settings: VoiSettings,
                 smooth: bool = True) -> float:
    g = conditional_means(x, rel, smooth, settings)
    return float(np.maximum(g.max(axis=1), 0.0).mean() - max(g.mean(axis=0).max(), 0.0))


def evpi(nb: np.ndarray) -> VoiEstimate:
    """EVPI of everything uncertain (assumptions and luck): ``mean max - max mean`` over
    paths, with the standard error of the mean."""
    rel = _relative(nb)
    gain = rel.max(axis=1)  # >= 0: the best-on-average decision's column is 0
    se = float(gain.std(ddof=1) / np.sqrt(gain.size)) if gain.size > 1 else None
    return VoiEstimate(float(gain.mean()), se)


def evppi(x: np.ndarray, nb: np.ndarray, n_boot: int = 0, seed: int = 0,
          settings: VoiSettings = VoiSettings()) -> VoiEstimate:
    """EVPPI of one assumption drawn as ``x`` (per path), net benefits ``nb[i, d]``.

    ``n_boot`` bootstrap resamples of the paths give the standard error (0: none).
    """
    x = np.asarray(x, dtype=np.float64)
    rel = _relative(nb)
    if np.ptp(x) == 0:
        return VoiEstimate(0.0, 0.0 if n_boot else None)
    value = _evppi_value(x, rel, settings)
    if n_boot <= 0:
        return VoiEstimate(value, None)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(25,)))
    boots = [_evppi_value(x[i], rel[i], settings) for i in
             (rng.integers(0, x.size, x.size) for _ in range(n_boot))]
    return VoiEstimate(value, float(np.std(boots, ddof=1)))


def value_of_information(nb: np.ndarray, draws: Mapping[str, np.ndarray], n_boot: int = 20,
                         seed: int = 0, settings: VoiSettings = VoiSettings()
                         ) -> tuple[VoiEstimate, dict[str, VoiEstimate]]:
    """EVPI and every assumption's EVPPI (with bootstrap standard errors), largest first.

    More than ``settings.smoothed_max`` assumptions: screened by binned means first.

    Parameters
    ----------
    nb : ndarray, shape (n_paths, n_decisions)
        Each decision's net benefit on every path (common random numbers).
    draws : mapping of str to ndarray
        Each uncertain assumption's per-path draw.
    """
    total = evpi(nb)
    keys = list(draws)
    if len(keys) > settings.smoothed_max:
        # screen: binned (group-mean) EVPPI of every assumption, itself between 0 and
        # EVPI and never below the smoothed one by more than the bins' noise; the
        # spline's GCV (~30 ms a fit) only for the smoothed_max largest
        rel = _relative(nb)
        screen = {key: (_evppi_value(np.asarray(x, dtype=np.float64), rel, settings,
                                     smooth=False)
                        if np.ptp(x) > 0 else 0.0) for key, x in draws.items()}
        keys = sorted(keys, key=lambda k: -screen[k])[:settings.smoothed_max]
        out = {key: VoiEstimate(value, None) for key, value in screen.items()}
    else:
        out = {}
    out.update({key: evppi(draws[key], nb, n_boot=n_boot, seed=seed, settings=settings)
                for key in keys})
    return total, dict(sorted(out.items(), key=lambda kv: -kv[1].value))


def value_with_errors(nb: np.ndarray, draws: Mapping[str, np.ndarray], n_boot: int, top: int,
                      seed: int, settings: VoiSettings = VoiSettings()
                      ) -> tuple[VoiEstimate, dict[str, VoiEstimate]]:
    """:func:`value_of_information` with bootstrap standard errors for the ``top``
    largest assumptions alone (the others' splines fitted once)."""
    total, each = value_of_information(nb, draws, n_boot=0, seed=seed, settings=settings)
    each.update(value_of_information(nb, {k: draws[k] for k in list(each)[:top]},
                                     n_boot=n_boot, seed=seed, settings=settings)[1])
    return total, each


def scan_value_of_information(scan: Any, n_boot: int = 5, top: int = 3,
                              settings: VoiSettings = VoiSettings()) -> dict[str, Any]:
    """The value of information of a lever scan's decision (cumulative pretax profit).

    The decision is between the business as it is and the ``scan_decisions - 1``
    levers with the largest mean cumulative profit; each path's draws are the
    business's (the as-is run's parameters: the draws every lever shares, common
    random numbers).

    Returns
    -------
    dict
        ``evpi``, ``evppi`` (every uncertain assumption, largest first, the ``top``
        with bootstrap standard errors), ``decisions`` and ``lines`` (in words).
    """
    if scan.n_paths < settings.min_paths:
        return {"note": f"not estimated: {scan.n_paths:,} paths per lever, at least "
                        f"{settings.min_paths:,} needed (--lever-paths)", "lines": []}

    outcomes = [scan._as_is, *scan._pulled]
    names = ["as is", *(lever.name for lever in scan.levers)]
    means = [float(o.cumulative_profit.mean()) for o in outcomes]
    order = [0] + sorted(range(1, len(outcomes)),
                         key=lambda k: -means[k])[:settings.scan_decisions - 1]
    if len(order) < 2:
        return {"decisions": names[:1], "lines": []}
    nb = np.column_stack([outcomes[k].cumulative_profit for k in order])
    draws = scan._as_is.draws  # the as-is run's: the draws every lever shares
    total, each = value_with_errors(nb, draws, n_boot, top, scan.seed, settings)

    def worth(v: float) -> str:
        return f"${v:,.0f}"

    lines = [f"Choosing among {', '.join(names[k] for k in order)} on cumulative profit: "
             f"perfect information about everything (the months' luck too) would be worth "
             f"at most {worth(total.value)}."]
    lines += voi_lines(each, total.value, worth, top)
    return {"decisions": [names[k] for k in order], "outcome": "cumulative_profit",
            "evpi": total.to_dict(), "evppi": {k: v.to_dict() for k, v in each.items()},
            "lines": lines}


def uncertain_draws(params: np.ndarray) -> dict[str, np.ndarray]:
    """Each uncertain assumption's per-path draws (the keys a distribution sets)."""
    from ..model.inputs import field_name

    names = set(params.dtype.names or ())
    out = {}
    for key in ALL_KEYS:
        f = field_name(key)
        if f in names and np.ptp(params[f]) > 0:
            out[key] = np.asarray(params[f], dtype=np.float64)
    return out


def voi_lines(each: dict[str, Any], evpi_value: float, worth: Callable[[float], str],
              top: int = 3) -> list[str]:
    """The value of information in words: what is worth measuring, what is not."""
    lines = []
    keys = list(each)
    for key in keys[:top]:
        e = each[key]
        if e.value > 2 * (e.se or 0.0) and e.value > 0.01 * evpi_value:
            lines.append(f"Measuring {key} before deciding is worth about {worth(e.value)} "
                         f"(SE {worth(e.se or 0.0)}).")
    if not lines and keys:
        e = each[keys[0]]
        lines.append(f"No single assumption is worth measuring before this choice: the "
                     f"best stays best across their plausible ranges (the largest, {keys[0]}, "
                     f"is worth about {worth(e.value)}).")
    nothing = [k for k in keys if each[k].value <= 0.01 * max(evpi_value, 1e-12)]
    if nothing:
        lines.append(f"{len(nothing)} of {len(keys)} assumptions (e.g. {nothing[-1]}) are "
                     "worth about nothing for this decision.")
    return lines
