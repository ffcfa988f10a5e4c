"""The engine's random numbers: xoshiro256** per path, and the samplers it needs.

Each path owns a 4-word state, seeded from its 64-bit seed (one word of
``SeedSequence(seed, spawn_key=(0,)).generate_state``) through splitmix64, as
the generator's authors recommend. The state lives in a small array of the
path's own, so paths share nothing and a path's draws depend only on its
seed, never on the thread that runs it.

Why not numba's ``np.random``: inside a ``prange`` loop every numba draw
fetches the thread's Mersenne Twister state through a C call, and
re-seeding it for every path costs about a microsecond; the profile in
``benchmarks/RESULTS.md`` showed these draws taking ~80% of the engine's
time. The samplers below are the textbook exact methods (inversion, and
Hörmann's PTRS for large Poisson means, as NumPy uses, with log-factorials
from Stirling's series); ``tests/test_random.py``
checks each against ``scipy.stats`` with goodness-of-fit tests.

Algorithms: xoshiro256** and splitmix64 by D. Blackman and S. Vigna
(public domain reference implementations at prng.di.unimi.it); PTRS from
W. Hörmann, "The transformed rejection method for generating Poisson random
variables", Insurance: Mathematics and Economics 12 (1993).
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit, jit_inline

_U53 = 1.0 / 9007199254740992.0  # 2**-53


@jit
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@jit
def seed_state(state, seed):
    """Fill ``state`` (uint64[4]) from a 64-bit seed with splitmix64."""
    z = np.uint64(seed)
    for j in range(4):
        z += np.uint64(0x9E3779B97F4A7C15)
        x = z
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        state[j] = x ^ (x >> np.uint64(31))


@jit
def next_u64(state):
    """The next 64-bit output of xoshiro256**."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return result


@jit
def uniform(state):
    """Uniform on [0, 1) with 53 random bits."""
    return float(next_u64(state) >> np.uint64(11)) * _U53


@jit
def randint(state, low, high):
    """Integer uniform on ``low .. high - 1``."""
    return low + int(uniform(state) * (high - low))


@jit
def geometric0(state, p):
    """Failures before the first success of Bernoulli(p) trials (support 0, 1, ...)."""
    if p >= 1.0:
        return 0
    return geometric0_log(state, math.log1p(-p))


@jit
def geometric0_log(state, log_q):
    """:func:`geometric0` given ``log_q = log(1 - p) < 0``, computed once by the caller."""
    return int(math.floor(math.log1p(-uniform(state)) / log_q))


# log(k!) for k < 10 (exact factorials); Stirling's series above.
_LOG_FACTORIAL_SMALL = np.array([math.lgamma(k + 1.0) for k in range(10)])
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


@jit
def log_factorial(k):
    """``log(k!)`` for an integer ``k >= 0``.

    A table below 10; above, Stirling's series for ``log Gamma(x)``, ``x = k + 1``,
    to the ``x**-9`` term: the first omitted term is below ``691 / 360360 / 11**11
    < 7e-15``, under the rounding of the result.
    """
    if k < 10:
        return _LOG_FACTORIAL_SMALL[k]
    x = k + 1.0
    r = 1.0 / x
    r2 = r * r
    series = r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 * (
        1.0 / 1680.0 - r2 * (1.0 / 1188.0)))))
    return (x - 0.5) * math.log(x) - x + _HALF_LOG_2PI + series


@jit_inline
def _poisson_inversion_p0(state, lam, p0):
    # Sequential search of the CDF from 0 given ``p0 = exp(-lam)`` (> 4.5e-5 for lam < 10).
    u = uniform(state)
    k = 0
    p = p0
    cdf = p
    while u > cdf:
        k += 1
        p *= lam / k
        cdf += p
        if p < 1e-300:  # rounding left u above the summed CDF: the far tail
            break
    return k


@jit
def _poisson_ptrs(state, lam):
    slam = math.sqrt(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    vr = 0.9277 - 3.6224 / (b - 2.0)
    invalpha = 0.0  # invalpha and log(lam): computed when the squeeze first fails
    log_lam = 0.0
    while True:
        u = uniform(state) - 0.5
        v = uniform(state)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return int(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if invalpha == 0.0:
            invalpha = 1.1239 + 1.1328 / (b - 3.4)
            log_lam = math.log(lam)
        # log(v) + log(invalpha) - log(a / us**2 + b), as one logarithm
        if (math.log(v * invalpha / (a / (us * us) + b))
                <= -lam + k * log_lam - log_factorial(int(k))):
            return int(k)


@jit_inline
def poisson(state, lam):
    """Poisson(lam): inversion below a mean of 10, PTRS above."""
    return poisson_given(state, lam, poisson_p0(lam))


@jit
def poisson_p0(lam):
    """What :func:`poisson_given` needs beside ``lam``: ``exp(-lam)`` below a mean of 10
    (0 above), computed once by a caller whose mean repeats from month to month."""
    return math.exp(-lam) if 0.0 < lam < 10.0 else 0.0


@jit_inline
def poisson_given(state, lam, p0):
    """:func:`poisson` given ``p0 = poisson_p0(lam)``: the same draws from the same
    stream."""
    if lam <= 0.0:
        return 0
    if lam < 10.0:
        return _poisson_inversion_p0(state, lam, p0)
    return _poisson_ptrs(state, lam)


_BINOMIAL_INVERSION_MEAN = 30.0  # n min(p, 1 - p) above it: one uniform per trial


@jit_inline
def binomial(state, n, p):
    """Binomial(n, p): inversion from one uniform (the textbook BINV: the CDF searched
    from 0 with ``P(k + 1) = P(k) (n - k) / (k + 1) * p / (1 - p)``, ``p <= 1/2`` by
    symmetry), ``O(n min(p, 1 - p))`` steps; above a mean of 30 one uniform per trial."""
    return binomial_given(state, n, p, -1.0)[0]


# Below 1 - n q by this much a uniform is below the computed (1 - q)^n, whatever the
# rounding of either (each is within a few units of 1e-16 of its exact value)
_BERNOULLI_MARGIN = 1e-12


@jit_inline
def binomial_given(state, n, p, r0):
    """:func:`binomial` given the inversion's ``r0 = P(0) = (1 - q)^n``, ``q = min(p, 1 -
    p)``, kept by a caller whose ``n, p`` repeat from month to month, or ``r0 < 0``
    where it is not known yet: returns the
    draw and ``r0``, computed only where the draw needs it. A uniform ``u <= 1 - n q``
    (less a margin) is a draw of 0 whatever ``r0``: ``(1 - q)^n >= 1 - n q``
    (Bernoulli's inequality), so the first step of the search stops there without
    ``r0``'s ``exp`` and ``log1p``. The same draws from the same stream."""
    if n <= 0 or p <= 0.0:
        return 0, r0
    if p >= 1.0:
        return n, r0
    flip = p > 0.5
    q = 1.0 - p if flip else p
    k = 0
    if n * q > _BINOMIAL_INVERSION_MEAN:
        for _ in range(n):
            if uniform(state) < q:
                k += 1
    else:
        s = q / (1.0 - q)
        a = (n + 1) * s
        while True:
            u = uniform(state)
            if r0 < 0.0:
                if u <= 1.0 - n * q - _BERNOULLI_MARGIN:
                    k = 0
                    break
                r0 = math.exp(n * math.log1p(-q))
            r = r0
            k = 0
            while u > r and k < n:
                u -= r
                k += 1
                r *= a / k - s
            if u <= r:
                break
            # rounding left u above the summed CDF (n trials passed): draw again
    return (n - k if flip else k), r0
