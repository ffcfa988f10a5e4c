"""Per-path parameter draws: config -> plain arrays for the engine.

Every uncertain key of the config gets one uniform per path, turned into a
value by the ``scipy.stats`` inverse CDF of its distribution. Each key has a
stream of its own: PCG64 seeded by ``SeedSequence(seed, spawn_key=(1, w0,
w1))``, ``(w0, w1)`` two 32-bit words of the BLAKE2b hash of the key's dotted
name (:func:`key_uniforms`), so a key's draw for path ``i`` depends only on
``(seed, key, i)``: not on the other keys of the schema, the number of paths
or the chunking, and two scenarios with the same seed share it (common
random numbers). Paths are reached with ``PCG64.advance``.
The ``[correlations]`` section's Gaussian copula is applied to each row of
uniforms before the inverse CDFs (:func:`correlate_uniforms`).
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np
from scipy import stats
from scipy.stats import qmc

from ..config.correlations import copula_factor
from ..config.schema import Config, param_specs
from .inputs import RunInputs, field_name
from .inputs import param_dtype as _record_dtype

__all__ = [
    "ALL_KEYS",
    "PARAM_KEYS",
    "PPF_TABLE_SIZE",
    "RunInputs",
    "correlate_uniforms",
    "draw_parameters",
    "field_name",
    "key_uniforms",
    "param_dtype",
    "path_seeds",
    "ppf_table",
    "prepare",
    "rep_outcomes",
]

ALL_KEYS: tuple[str, ...] = tuple(param_specs())
"""Every numeric key, in schema order."""
PARAM_KEYS: tuple[str, ...] = tuple(param_specs(per_unit=False))
"""The per-path keys handed to the engine (per-unit distributions excluded)."""
PPF_TABLE_SIZE = 4097

_PATH_SEED_KEY = 0
_PARAM_SEED_KEY = 1


@functools.cache
def param_dtype() -> np.dtype:
    """The structured dtype of the per-path parameter array (:data:`PARAM_KEYS`)."""
    return _record_dtype(PARAM_KEYS)


def path_seeds(seed: int, start: int, stop: int) -> np.ndarray:
    """64-bit seeds of paths ``start..stop-1`` for the engine's month-level stream.

    Word ``i`` of ``SeedSequence(seed, spawn_key=(0,)).generate_state``: the
    same whatever ``stop`` (the words are produced in order).
    """
    ss = np.random.SeedSequence(seed, spawn_key=(_PATH_SEED_KEY,))
    return ss.generate_state(stop, np.uint64)[start:stop]


@functools.cache
def _key_words(key: str) -> tuple[int, int]:
    """Two 32-bit words naming a key's stream: BLAKE2b of its dotted name."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:], "little")


def key_uniforms(seed: int, key: str, start: int, stop: int) -> np.ndarray:
    """Uniforms in [0, 1) of key ``key`` for paths ``start..stop-1``.

    Its own PCG64 stream, ``SeedSequence(seed, spawn_key=(1, *words(key)))``,
    advanced to path ``start`` (``random()`` takes one 64-bit draw per double),
    so the values depend only on ``(seed, key, path)``.
    """
    ss = np.random.SeedSequence(seed, spawn_key=(_PARAM_SEED_KEY, *_key_words(key)))
    bitgen = np.random.PCG64(ss)
    bitgen.advance(start)
    return np.random.Generator(bitgen).random(stop - start)


def _qmc_uniforms(config: Config, seed: int, n_paths: int, d: int) -> np.ndarray:
    """The whole run's quasi-random design over the ``d`` uncertain keys (schema order)."""
    method = config.simulation.sampling
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_PARAM_SEED_KEY, 1)))
    if method == "lhs":
        return qmc.LatinHypercube(d=d, rng=rng).random(n_paths)
    m = max(0, int(np.ceil(np.log2(max(n_paths, 1)))))
    return qmc.Sobol(d=d, scramble=True, rng=rng).random_base2(m)[:n_paths]


def draw_parameters(
    config: Config, seed: int, start: int, stop: int, n_paths: int | None = None
) -> np.ndarray:
    """Parameter values of paths ``start..stop-1`` as a structured array.

    Parameters
    ----------
    config : Config
        Validated config.
    seed : int
        Run seed.
    start, stop : int
        Path range.
    n_paths : int, optional
        Total paths of the run; needed for ``sampling = "lhs"`` (stratified
        over the whole run). Defaults to ``stop``.
    """
    specs = param_specs()
    uncertain = [key for key in ALL_KEYS
                 if not specs[key].per_unit and not _is_scalar(config.get(key))]
    u = np.empty((stop - start, len(uncertain)))
    if config.simulation.sampling != "random" and uncertain:
        total = stop if n_paths is None else n_paths
        u[:] = _qmc_uniforms(config, seed, total, len(uncertain))[start:stop]
    else:
        for k, key in enumerate(uncertain):
            u[:, k] = key_uniforms(seed, key, start, stop)
    correlate_uniforms(config, u, uncertain)
    out = np.empty(stop - start, dtype=param_dtype())
    column_of = {key: k for k, key in enumerate(uncertain)}
    for key in PARAM_KEYS:
        value = config.get(key)
        if key not in column_of:
            out[field_name(key)] = float(value)
            continue
        column = np.asarray(_frozen(value).ppf(u[:, column_of[key]]), dtype=np.float64)
        if specs[key].integer:
            column = np.rint(column)
        out[field_name(key)] = column
    rep_outcomes(seed, start, stop, out)
    return out


def rep_outcomes(seed: int, start: int, stop: int, params: np.ndarray) -> np.ndarray:
    """Each path's salesperson washes out or not: in place, a washout's
    ``sales_rep_productivity`` becomes a uniform share of ``sales_rep_fire_below``
    (under the firing line: the owner lets them go after the ramp and review).

    One uniform per path from the stream of the name ``"sales.rep_washout"``
    (:func:`key_uniforms`): ``u < washout_share`` washes out, and ``u /
    washout_share`` (uniform given that) places the productivity. Common random
    numbers: a lever that adds a rep meets the same rep on the same path.
    """
    u = key_uniforms(seed, "sales.rep_washout", start, stop)
    share = params["sales_rep_washout_share"]
    washed = u < share
    below = np.divide(u, share, out=np.zeros_like(u), where=washed)
    params["sales_rep_productivity"] = np.where(
        washed, below * params["sales_rep_fire_below"], params["sales_rep_productivity"])
    return params


def correlate_uniforms(config: Config, u: np.ndarray, keys: list[str]) -> np.ndarray:
    """Apply the ``[correlations]`` Gaussian copula to per-path uniforms, in place.

    Row by row (so any slice of paths is the same as in the whole run): the
    uniforms of the correlated keys become ``norm.cdf(L @ norm.ppf(u))``,
    ``L`` the Cholesky factor of the normal-scale correlation matrix
    (:func:`simulator.config.correlations.copula_factor`). Each column stays
    uniform, so every key keeps its distribution; their Spearman
    correlations become the configured ``rho``.

    Parameters
    ----------
    config : Config
        Validated config.
    u : ndarray, shape (n, len(keys))
        Uniforms in [0, 1), column ``k`` for ``keys[k]``.
    keys : list of str
        The dotted keys of the columns; every correlated key is among them.

    Returns
    -------
    ndarray
        ``u`` itself.
    """
    pair_keys, factor = copula_factor(config)
    if factor is None or u.shape[0] == 0:
        return u
    columns = [keys.index(k) for k in pair_keys]
    # Keep uniforms inside (0, 1) so that inverse CDFs of unbounded tables stay finite:
    # random() may give exactly 0, and norm.cdf rounds to 0 or 1 beyond about 8.3 sd.
    z = stats.norm.ppf(np.clip(u[:, columns], _U_LOW, _U_HIGH))
    u[:, columns] = np.clip(stats.norm.cdf(z @ factor.T), _U_LOW, _U_HIGH)
    return u


_U_LOW = 2.0**-53
_U_HIGH = 1.0 - 2.0**-53  # the largest double below 1, also the largest random()


@functools.lru_cache(maxsize=512)
def _frozen(dist):
    """The frozen ``scipy.stats`` object of a (hashable, immutable) distribution table,
    built once per table rather than once per chunk."""
    return dist.frozen()


def _is_scalar(value) -> bool:
    return isinstance(value, int | float)


def ppf_table(value, size: int = PPF_TABLE_SIZE) -> np.ndarray:
    """Inverse-CDF table of a per-unit distribution at ``size`` equally spaced probabilities.

    The end points use probabilities ``0.5/size`` and ``1 - 0.5/size`` so that
    unbounded distributions give finite values. A scalar gives a constant table.
    """
    if _is_scalar(value):
        return np.full(size, float(value))
    q = np.linspace(0.0, 1.0, size)
    q[0], q[-1] = 0.5 / size, 1.0 - 0.5 / size
    return np.asarray(_frozen(value).ppf(q), dtype=np.float64)  # frozen once per table


def prepare(config: Config) -> RunInputs:
    """Run-level inputs of a config (no random draws)."""
    sim = config.simulation
    return RunInputs(
        months=sim.months,
        threshold_mrr=float(sim.threshold_mrr),
        sustain_months=sim.sustain_months,
        churn_at_renewal=config.churn.mode == "renewal",
        alignment_enabled=bool(config.alignment.enabled),
        seats_ppf=ppf_table(config.customers.seats),
        project_size_ppf=ppf_table(config.projects.size),
        book=book_array(config),
    )


def book_array(config: Config) -> np.ndarray:
    """``start.book`` as rows ``(seats, price per seat, contract month)``; ``(0, 3)`` if none."""
    rows = [(c.seats, c.monthly_fee / c.seats, float(c.contract_month))
            for c in config.start.book]
    return np.array(rows, dtype=np.float64).reshape(-1, 3)
