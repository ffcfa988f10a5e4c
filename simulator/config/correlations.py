"""Rank correlations between uncertain parameters: the ``[correlations]`` section.

A config may say that two uncertain per-path parameters move together::

    [correlations]
    pairs = [
      { a = "sales.meetings_per_selling_hour", b = "sales.close_rate", rho = 0.5 },
    ]

``rho`` is a Spearman rank correlation. :mod:`simulator.model.sampling` realises
it with a Gaussian copula: the per-path uniforms of the paired keys go
through ``scipy.stats.norm.ppf``, are mixed by the Cholesky factor of the
normal-scale correlation matrix ``R_ij = 2 sin(pi rho_ij / 6)`` (the Pearson
correlation of a bivariate normal whose Spearman correlation is ``rho_ij``)
and go back through ``norm.cdf``. Each key keeps its own distribution; pairs
not listed are independent.

This module checks a section against the rest of the config and builds the
matrices. Every mistake becomes one ``(key, value, message)`` problem of a
:class:`~simulator.config.loader.ConfigError`: an unknown key, a key that is
not uncertain in this config, a per-customer distribution, a pair given
twice, ``|rho| >= 1``, or a set of pairs that no joint distribution can have
(a matrix that is not positive definite).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .errors import ConfigError
from .schema import Config, param_specs

__all__ = [
    "copula_factor",
    "correlated_keys",
    "correlation_problems",
    "describe_pairs",
    "normal_correlation",
    "rank_correlation_matrix",
    "uncertain_keys",
]

def _pair_text(pair: Any) -> str:
    if isinstance(pair, Mapping):
        return f"{pair.get('a')} ~ {pair.get('b')}"
    return f"{pair.a} ~ {pair.b}"


def _is_uncertain(value: Any) -> bool:
    return not isinstance(value, int | float)


def uncertain_keys(config: Config) -> list[str]:
    """The per-path keys given as distribution tables in ``config``, in schema order."""
    return [k for k in param_specs(per_unit=False) if _is_uncertain(config.get(k))]


def correlation_problems(
    config: Config, pinned: Iterable[str] = ()
) -> list[tuple[str, Any, str]]:
    """Everything wrong with ``config.correlations`` given the rest of the config.

    Parameters
    ----------
    config : Config
        A config whose sections passed their own validation.
    pinned : iterable of str
        Keys set to a number by an override (``--set``, a goal seek, a
        scenario). A pair naming one of them is allowed and inactive: a
        fixed number is independent of everything. In the file itself a
        pair naming a fixed number is an error (surely a forgotten
        distribution table).

    Returns
    -------
    list of (key, value, message)
        Empty when the section is usable. ``key`` is ``"correlations.pairs"``,
        ``value`` the offending pair as a table, ``message`` reads
        ``"<problem>: got ...; allowed: ..."``.
    """
    pairs = config.correlations.pairs
    if not pairs:
        return []
    pinned = set(pinned)
    specs = param_specs()
    per_path = [k for k, s in specs.items() if not s.per_unit]
    uncertain = uncertain_keys(config)
    shown_uncertain = ", ".join(uncertain) if uncertain else "none in this config"
    problems: list[tuple[str, Any, str]] = []
    seen: dict[frozenset[str], int] = {}
    ok_pairs = []
    for number, pair in enumerate(pairs, start=1):
        table = {"a": pair.a, "b": pair.b, "rho": pair.rho}
        bad = False
        for end in ("a", "b"):
            key = getattr(pair, end)
            if key not in specs:
                close = difflib.get_close_matches(key, per_path, n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]}?)" if close else ""
                problems.append(("correlations.pairs", table,
                                 f'pair {number}: unknown key {end} = "{key}"; allowed: a '
                                 f"per-path key given as a distribution table: "
                                 f"{shown_uncertain}{hint}"))
                bad = True
            elif specs[key].per_unit:
                problems.append(("correlations.pairs", table,
                                 f'pair {number}: {end} = "{key}" is drawn per customer or '
                                 "project, not per path, so it cannot be correlated; allowed: "
                                 f"{shown_uncertain}"))
                bad = True
            elif not _is_uncertain(config.get(key)) and key not in pinned:
                problems.append(("correlations.pairs", table,
                                 f'pair {number}: {end} = "{key}" is not uncertain (it is the '
                                 f"number {config.get(key):g} in this config, and a fixed "
                                 "number cannot be correlated); allowed: keys given as "
                                 f"distribution tables: {shown_uncertain}"))
                bad = True
        if bad:
            continue
        inactive = not (_is_uncertain(config.get(pair.a)) and _is_uncertain(config.get(pair.b)))
        if pair.a == pair.b:
            problems.append(("correlations.pairs", table,
                             f'pair {number}: a key cannot be correlated with itself: got '
                             f'a = b = "{pair.a}"; allowed: two different keys'))
            continue
        if not -1.0 < pair.rho < 1.0:
            problems.append(("correlations.pairs", table,
                             f"pair {number}: rho out of range: got {pair.rho:g}; allowed: "
                             "-1 < rho < 1 (a perfect rank correlation makes one parameter a "
                             "function of the other: model them as one)"))
            continue
        both = frozenset((pair.a, pair.b))
        if both in seen:
            problems.append(("correlations.pairs", table,
                             f"pair {number}: duplicate pair {_pair_text(pair)} (already pair "
                             f"{seen[both]}); allowed: each pair of keys once"))
            continue
        seen[both] = number
        if not inactive:
            ok_pairs.append(pair)
    if problems:
        return problems
    keys, rho = rank_correlation_matrix(config)
    r = normal_correlation(rho)
    try:
        np.linalg.cholesky(r)
    except np.linalg.LinAlgError:
        smallest = float(np.linalg.eigvalsh(r)[0])
        listed = "; ".join(f"{p.a} ~ {p.b} = {p.rho:g}" for p in ok_pairs)
        problems.append(("correlations.pairs", [
            {"a": p.a, "b": p.b, "rho": p.rho} for p in ok_pairs],
            "inconsistent correlations: no joint distribution has them (the correlation "
            f"matrix of {', '.join(keys)} is not positive definite, smallest eigenvalue "
            f"{smallest:.3g}): got {listed}; allowed: a consistent set (e.g. if a ~ b and "
            "b ~ c are strongly positive, a ~ c cannot be strongly negative); weaken the "
            "largest correlations"))
    return problems


def correlated_keys(config: Config) -> list[str]:
    """Uncertain keys named in at least one pair, in schema order (``ALL_KEYS`` order).

    Pairs that name a key which is a fixed number in ``config`` are left out
    (a program may pin a correlated key, e.g. a goal seek or a tornado chart;
    a fixed number is independent of everything). A config file cannot do
    that: :func:`correlation_problems` rejects it.
    """
    uncertain = set(uncertain_keys(config))
    named = {k for p in config.correlations.pairs for k in (p.a, p.b)
             if p.a in uncertain and p.b in uncertain and p.a != p.b}
    return [k for k in param_specs(per_unit=False) if k in named]


def rank_correlation_matrix(config: Config) -> tuple[list[str], np.ndarray]:
    """The Spearman correlation matrix of the correlated keys.

    Returns
    -------
    keys : list of str
        :func:`correlated_keys`, the order of the rows.
    rho : ndarray, shape (k, k)
        Ones on the diagonal, the pairs' ``rho`` elsewhere, 0 for pairs not listed.
    """
    keys = correlated_keys(config)
    index = {k: i for i, k in enumerate(keys)}
    rho = np.eye(len(keys))
    for p in config.correlations.pairs:
        if p.a in index and p.b in index and p.a != p.b:
            rho[index[p.a], index[p.b]] = rho[index[p.b], index[p.a]] = p.rho
    return keys, rho


def normal_correlation(rho: np.ndarray) -> np.ndarray:
    """Pearson correlation of the normal copula that gives Spearman ``rho``: 2 sin(pi rho / 6)."""
    r = 2.0 * np.sin(np.pi * np.asarray(rho, dtype=np.float64) / 6.0)
    np.fill_diagonal(r, 1.0)
    return r


def copula_factor(config: Config) -> tuple[list[str], np.ndarray | None]:
    """Keys and lower Cholesky factor of the Gaussian copula (``None`` when nothing is paired).

    Raises
    ------
    ConfigError
        When the section is invalid (a config built without the loader).
    """
    keys, rho = rank_correlation_matrix(config)
    if not keys:
        return keys, None
    try:
        return keys, np.linalg.cholesky(normal_correlation(rho))
    except np.linalg.LinAlgError:
        raise ConfigError("config", correlation_problems(config) or [
            ("correlations.pairs", config.correlations.model_dump()["pairs"],
             "inconsistent correlations: the matrix is not positive definite; allowed: a "
             "consistent set")]) from None



def describe_pairs(pairs: Any) -> str:
    """Text of the pairs: ``"none"`` or, e.g.,
    ``"sales.meetings_per_selling_hour ~ sales.close_rate: 0.5"``."""
    if not pairs:
        return "none"
    return "; ".join(f"{_pair_text(p)}: {p.rho:g}" for p in pairs)
