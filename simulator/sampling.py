"""Per-path parameter draws: config -> plain arrays for the engine.

Every numeric key of the config gets one uniform per path (in schema order,
whether uncertain or not), turned into a value by the ``scipy.stats`` inverse
CDF of its distribution. Uniforms come from PCG64 seeded by
``SeedSequence(seed, spawn_key=(1,))``; rows are taken with
``PCG64.advance`` so that any slice ``[start, stop)`` of paths is the same
as in a run of any size (prefix stability, chunk invariance) and two
scenarios with the same seed share their uniforms (common random numbers).
The ``[correlations]`` section's Gaussian copula is applied to each row of
uniforms before the inverse CDFs (:func:`correlate_uniforms`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.stats import qmc

from .config.correlations import copula_factor
from .config.schema import Config, param_specs

__all__ = [
    "ALL_KEYS",
    "PARAM_KEYS",
    "PPF_TABLE_SIZE",
    "RunInputs",
    "correlate_uniforms",
    "draw_parameters",
    "field_name",
    "param_dtype",
    "path_seeds",
    "ppf_table",
    "prepare",
]

ALL_KEYS: tuple[str, ...] = tuple(param_specs())
"""Every numeric key; column ``k`` of the uniforms belongs to ``ALL_KEYS[k]``."""
PARAM_KEYS: tuple[str, ...] = tuple(param_specs(per_unit=False))
"""The per-path keys handed to the engine (per-unit distributions excluded)."""
PPF_TABLE_SIZE = 4097

_PATH_SEED_KEY = 0
_PARAM_SEED_KEY = 1


def field_name(key: str) -> str:
    """Structured-array field of a dotted key: ``"sales.reps"`` -> ``"sales_reps"``."""
    return key.replace(".", "_")


def param_dtype() -> np.dtype:
    """The structured dtype of the per-path parameter array."""
    return np.dtype([(field_name(k), np.float64) for k in PARAM_KEYS])


def path_seeds(seed: int, start: int, stop: int) -> np.ndarray:
    """64-bit seeds of paths ``start..stop-1`` for the engine's month-level stream.

    Word ``i`` of ``SeedSequence(seed, spawn_key=(0,)).generate_state``: the
    same whatever ``stop`` (the words are produced in order).
    """
    ss = np.random.SeedSequence(seed, spawn_key=(_PATH_SEED_KEY,))
    return ss.generate_state(stop, np.uint64)[start:stop]


def _uniform_rows(seed: int, start: int, stop: int) -> np.ndarray:
    bitgen = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(_PARAM_SEED_KEY,)))
    bitgen.advance(start * len(ALL_KEYS))  # random() takes one 64-bit draw per double
    return np.random.Generator(bitgen).random((stop - start, len(ALL_KEYS)))


def _qmc_uniforms(config: Config, seed: int, n_paths: int, columns: list[int]) -> np.ndarray:
    method = config.simulation.sampling
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_PARAM_SEED_KEY, 1)))
    d = len(columns)
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
    u = _uniform_rows(seed, start, stop)
    uncertain = [k for k, key in enumerate(ALL_KEYS) if not _is_scalar(config.get(key))]
    if config.simulation.sampling != "random" and uncertain:
        total = stop if n_paths is None else n_paths
        u[:, uncertain] = _qmc_uniforms(config, seed, total, uncertain)[start:stop]
    correlate_uniforms(config, u)
    specs = param_specs()
    out = np.empty(stop - start, dtype=param_dtype())
    for k, key in enumerate(ALL_KEYS):
        if specs[key].per_unit:
            continue
        value = config.get(key)
        if _is_scalar(value):
            column = np.full(stop - start, float(value))
        else:
            column = np.asarray(_frozen(value).ppf(u[:, k]), dtype=np.float64)
            if specs[key].integer:
                column = np.rint(column)
        out[field_name(key)] = column
    return out


def correlate_uniforms(config: Config, u: np.ndarray) -> np.ndarray:
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
    u : ndarray, shape (n, len(ALL_KEYS))
        Uniforms in [0, 1), columns in :data:`ALL_KEYS` order.

    Returns
    -------
    ndarray
        ``u`` itself.
    """
    keys, factor = copula_factor(config)
    if factor is None or u.shape[0] == 0:
        return u
    columns = [ALL_KEYS.index(k) for k in keys]
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
    return np.asarray(value.frozen().ppf(q), dtype=np.float64)


@dataclass(frozen=True)
class RunInputs:
    """Everything the engine needs besides the per-path parameters.

    Attributes
    ----------
    months : int
        Horizon H; trajectories have ``months + 1`` entries.
    threshold_mrr : float
        MRR threshold [$/month] for the first passage.
    sustain_months : int
        Consecutive months at or above the threshold that count.
    churn_at_renewal : bool
        ``churn.mode == "renewal"``.
    alignment_enabled : bool
        ``alignment.enabled``.
    seats_ppf, project_size_ppf : ndarray
        Inverse-CDF tables of ``customers.seats`` and ``projects.size``.
    """

    months: int
    threshold_mrr: float
    sustain_months: int
    churn_at_renewal: bool
    alignment_enabled: bool
    seats_ppf: np.ndarray
    project_size_ppf: np.ndarray


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
    )
