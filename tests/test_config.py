"""Config loading: every user mistake gives one clear message; good inputs load.

Each bad-input case checks that the message names the file, the dotted key,
the offending value and what is allowed.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from simulator.config import (
    SECTIONS,
    Config,
    ConfigError,
    config_from_dict,
    describe_config,
    load_config,
    param_specs,
    parse_override,
)
from simulator.config.distributions import LognormalDist, NormalDist, parse_distribution

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.toml"))


def _write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str, overrides: list[str] | None = None) -> ConfigError:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides=overrides)
    message = str(info.value)
    assert str(path) in message, message
    assert "Input should be" not in message and "Traceback" not in message, message
    return info.value


# (case id, TOML text, dotted key, value as shown in the message, words about what is allowed)
BAD_FILES = [
    ("unknown section", "[chrun]\nannual_rate = 0.1\n", "chrun", "{annual_rate = 0.1}",
     ["unknown section", "allowed sections", "churn", "did you mean churn?"]),
    ("unknown key", "[churn]\nanual_rate = 0.1\n", "churn.anual_rate", "0.1",
     ["unknown key", "allowed in [churn]", "annual_rate"]),
    ("key outside any section", "months = 60\n", "months", "60",
     ["outside any [section]", "[simulation]"]),
    ("string for a number", '[churn]\nannual_rate = "abc"\n', "churn.annual_rate", '"abc"',
     ["wrong type", "a string", "0 <= value < 1"]),
    ("quoted number", '[sales]\nclose_rate = "0.3"\n', "sales.close_rate", '"0.3"',
     ["wrong type", "without quotes", "0 <= value <= 1"]),
    ("boolean for a number", "[sales]\nrep_meetings_per_month = true\n",
     "sales.rep_meetings_per_month", "true", ["wrong type", "a boolean", "0 <= value <= 1000"]),
    ("array for a number", "[churn]\nannual_rate = [0.1, 0.2]\n", "churn.annual_rate",
     "[0.1, 0.2]", ["wrong type", "an array", "a distribution table"]),
    ("churn rate of 1 or more", "[churn]\nannual_rate = 1.2\n", "churn.annual_rate", "1.2",
     ["out of range", "got 1.2", "0 <= value < 1"]),
    ("churn rate of exactly 1", "[churn]\nannual_rate = 1\n", "churn.annual_rate", "1",
     ["out of range", "0 <= value < 1"]),
    ("negative price", "[customers]\nprice_per_seat = -5\n", "customers.price_per_seat", "-5",
     ["out of range", "got -5", "0 <= value"]),
    ("proposal rate above 1", "[sales]\nproposal_rate = 1.5\n", "sales.proposal_rate", "1.5",
     ["out of range", "0 <= value <= 1"]),
    ("nan", "[sales]\nclose_rate = nan\n", "sales.close_rate", "nan",
     ["not a finite number", "0 <= value <= 1"]),
    ("non-integer for an integer key", "[start]\ntechs = 2.5\n", "start.techs", "2.5",
     ["not an integer", "an integer with 0 <= value <= 2000"]),
    ("uniform low > high",
     '[churn]\nannual_rate = {dist = "uniform", low = 0.2, high = 0.1}\n', "churn.annual_rate",
     '{dist = "uniform", low = 0.2, high = 0.1}', ["impossible uniform", "low < high"]),
    ("triangular mode outside",
     '[sales]\nrep_meetings_per_month = {dist = "triangular", low = 2, mode = 9, high = 6}\n',
     "sales.rep_meetings_per_month", "mode = 9", ["impossible triangular", "low <= mode <= high"]),
    ("unknown distribution",
     '[churn]\nannual_rate = {dist = "gamma", a = 2}\n', "churn.annual_rate",
     '{dist = "gamma", a = 2}', ["unknown distribution", '"uniform"', '"beta"']),
    ("no dist field",
     "[churn]\nannual_rate = {low = 0.08, high = 0.15}\n", "churn.annual_rate",
     "{low = 0.08, high = 0.15}", ['needs a "dist" field', '"triangular"']),
    ("missing distribution field",
     '[churn]\nannual_rate = {dist = "uniform", low = 0.08}\n', "churn.annual_rate",
     '{dist = "uniform", low = 0.08}', ['missing field "high"', "allowed fields: low, high"]),
    ("extra field in a distribution",
     '[churn]\nannual_rate = {dist = "uniform", low = 0.08, high = 0.15, mode = 0.1}\n',
     "churn.annual_rate", "mode = 0.1", ['unknown field "mode"', "allowed fields: low, high"]),
    ("string inside a distribution",
     '[churn]\nannual_rate = {dist = "uniform", low = "a", high = 0.15}\n',
     "churn.annual_rate", 'low = "a"', ['field "low"', "wrong type", "a number"]),
    ("table inside a distribution",
     '[churn]\nannual_rate = {dist = "uniform", low = {x = 1}, high = 0.15}\n',
     "churn.annual_rate", "low = {x = 1}", ['field "low"', "got a table", "a number"]),
    ("unbounded normal for a bounded key",
     '[churn]\nannual_rate = {dist = "normal", mean = 0.1, sd = 0.02}\n', "churn.annual_rate",
     '{dist = "normal", mean = 0.1, sd = 0.02}',
     ["out of range", "(-inf, inf)", "low/high bounds", "0 <= value < 1"]),
    ("half-bounded lognormal for a bounded key",
     '[churn]\nannual_rate = {dist = "lognormal", median = 0.1, sigma = 0.3, low = 0.01}\n',
     "churn.annual_rate", "low = 0.01", ["out of range", "[0.01, inf)", "0 <= value < 1"]),
    ("lognormal with low > high",
     '[sales]\nrep_meetings_per_month = {dist = "lognormal", median = 5, sigma = 0.3, '
     "low = 9, high = 2}\n", "sales.rep_meetings_per_month", "low = 9, high = 2",
     ["impossible lognormal", "low < high"]),
    ("normal truncation holding no probability",
     '[sales]\nrep_meetings_per_month = {dist = "normal", mean = 5, sd = 0.01, low = 50, '
     "high = 60}\n", "sales.rep_meetings_per_month", "low = 50, high = 60",
     ["impossible normal", "almost no probability", "bounds around the bulk"]),
    ("lognormal clipped onto a strict bound",
     '[churn]\nannual_rate = {dist = "lognormal", median = 0.1, sigma = 2, high = 1}\n',
     "churn.annual_rate", "high = 1", ["out of range", "[0, 1]", "0 <= value < 1"]),
    ("beta sd too large",
     '[churn]\nannual_rate = {dist = "beta", mean = 0.1, sd = 0.4}\n', "churn.annual_rate",
     '{dist = "beta", mean = 0.1, sd = 0.4}', ["impossible beta", "sd < sqrt(mean * (1 - mean))",
                                               "0.3"]),
    ("distribution outside an integer key's range",
     '[start]\ntechs = {dist = "uniform", low = -3, high = 4}\n', "start.techs", "low = -3",
     ["out of range", "an integer with 0 <= value <= 2000", "rounded to the nearest integer"]),
    ("negative seed", "[simulation]\nseed = -1\n", "simulation.seed", "-1",
     ["out of range", "an integer with 0 <= value"]),
    ("string for months", '[simulation]\nmonths = "sixty"\n', "simulation.months", '"sixty"',
     ["wrong type", "an integer with 1 <= value <= 600"]),
    ("boolean for paths", "[simulation]\npaths = true\n", "simulation.paths", "true",
     ["wrong type", "a boolean", "an integer"]),
    ("distribution for a run setting",
     '[simulation]\nmonths = {dist = "uniform", low = 12, high = 24}\n', "simulation.months",
     "low = 12", ["cannot be distributions"]),
    ("unknown sampling method", '[simulation]\nsampling = "halton"\n', "simulation.sampling",
     '"halton"', ["unknown sampling method", '"random"', '"lhs"', '"sobol"']),
    ("bad churn mode", '[churn]\nmode = "yearly"\n', "churn.mode", '"yearly"',
     ["unknown churn mode", '"hazard"', '"renewal"']),
    ("alignment.enabled not a bool", '[alignment]\nenabled = "yes"\n', "alignment.enabled",
     '"yes"', ["wrong type", "true or false"]),
    ("alignment.enabled as 1", "[alignment]\nenabled = 1\n", "alignment.enabled", "1",
     ["wrong type", "true or false"]),
    ("array of tables where a table is expected", "[[churn]]\nannual_rate = 0.1\n", "churn",
     "[{annual_rate = 0.1}]", ["wrong type", "[[churn]]", "a table [churn]"]),
    ("a number where a section is expected", "churn = 0.1\n", "churn", "0.1",
     ["wrong type", "a table [churn]"]),
]


@pytest.mark.parametrize(
    ("text", "key", "shown", "allowed"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_bad_config_names_file_key_value_and_allowed(tmp_path, text, key, shown, allowed):
    err = _error(tmp_path, text)
    message = str(err)
    assert len(err.problems) == 1, message
    assert f"{key} = " in message, message
    assert shown in message, message
    for words in allowed:
        assert words in message, (words, message)
    assert err.problems[0][0] == key
    assert message.count("\n") == 0  # one problem, one line


def test_several_mistakes_are_all_reported(tmp_path):
    err = _error(tmp_path, "[churn]\nannual_rate = 2\nfoo = 1\n[sales]\nreps = -1\n")
    keys = {key for key, _, _ in err.problems}
    assert keys == {"churn.annual_rate", "churn.foo", "sales.reps"}
    assert len(str(err).splitlines()) == 3


def test_config_error_pickles(tmp_path):
    err = _error(tmp_path, "[churn]\nannual_rate = 2\n")
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.problems == err.problems
    with pytest.raises(ConfigError) as info:
        parse_override("churn")
    assert str(pickle.loads(pickle.dumps(info.value))) == str(info.value)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and "no such file" in str(info.value)
    assert info.value.source == str(path)


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_malformed_toml_names_file_line_and_text(tmp_path):
    err = _error(tmp_path, "[churn]\nannual_rate 0.1\n")
    message = str(err)
    assert "malformed TOML" in message and "line 2" in message
    assert "annual_rate 0.1" in message


def test_duplicate_key_is_malformed_toml(tmp_path):
    err = _error(tmp_path, "[churn]\nannual_rate = 0.1\nannual_rate = 0.2\n")
    assert "malformed TOML" in str(err) and "line 3" in str(err)


# --set --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown", "words"),
    [
        ("churn", "churn", ["bad syntax", "SECTION.KEY=VALUE"]),
        ("annual_rate=0.1", "annual_rate = 0.1", ["bad key", "did you mean churn.annual_rate?"]),
        ("churn.annual.rate=0.1", "churn.annual.rate = 0.1", ["bad key", "dotted key"]),
        ("=0.1", "=0.1", ["bad syntax", "empty key"]),
        ("chrun.annual_rate=0.1", "chrun.annual_rate = 0.1",
         ['unknown section "chrun"', "did you mean churn?"]),
        ("churn.annual_rate=[0.1,", "churn.annual_rate = [0.1,", ["bad value", "not valid TOML",
                                                                   "inline table"]),
        ("churn.annual_rate=", "churn.annual_rate", ["bad value", "an empty value"]),
        ("churn.annual_rate=8%", "churn.annual_rate = 8%", ["bad value", "a number"]),
    ],
)
def test_bad_set_syntax(text, shown, words):
    with pytest.raises(ConfigError) as info:
        parse_override(text)
    message = str(info.value)
    assert message.startswith("overrides: "), message  # the CLI: --set
    assert shown in message, message
    for w in words:
        assert w in message, (w, message)


def test_bad_set_value_names_file_key_value_and_allowed(tmp_path):
    path = _write(tmp_path, "[churn]\nannual_rate = 0.1\n", "ok.toml")
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides=["churn.annual_rate=1.5"])
    message = str(info.value)
    assert message.startswith(f"{path} (with `overrides`): churn.annual_rate = 1.5: out of "
                              "range")
    assert "0 <= value < 1" in message


def test_set_unknown_key_and_bare_word(tmp_path):
    with pytest.raises(ConfigError, match=r"churn\.rate = 0\.1: unknown key"):
        config_from_dict({}, source="x.toml", overrides=["churn.rate=0.1"])
    with pytest.raises(ConfigError, match=r'simulation\.sampling = "halton": unknown sampling'):
        config_from_dict({}, source="x.toml", overrides=["simulation.sampling=halton"])
    with pytest.raises(ConfigError, match=r'churn\.annual_rate = "abc": wrong type'):
        config_from_dict({}, source="x.toml", overrides=["churn.annual_rate=abc"])


def test_set_into_an_array_of_tables_names_the_file(tmp_path):
    path = _write(tmp_path, "[[churn]]\nannual_rate = 0.1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides=["churn.annual_rate=0.1"])
    assert str(path) in str(info.value) and "[[churn]]" in str(info.value)


def test_parse_override_values():
    assert parse_override("churn.annual_rate=0.12") == ("churn.annual_rate", 0.12)
    assert parse_override(" churn.annual_rate = 0.12 ") == ("churn.annual_rate", 0.12)
    assert parse_override("churn.mode=renewal") == ("churn.mode", "renewal")
    assert parse_override('churn.mode="renewal"') == ("churn.mode", "renewal")
    assert parse_override("alignment.enabled=true") == ("alignment.enabled", True)
    assert parse_override("sales.reps=2") == ("sales.reps", 2)
    key, value = parse_override('sales.rep_meetings_per_month={dist="uniform",low=4,high=8}')
    assert key == "sales.rep_meetings_per_month"
    assert value == {"dist": "uniform", "low": 4, "high": 8}


def test_overrides_apply_on_top_of_file(tmp_path):
    path = _write(tmp_path, '[churn]\nannual_rate = 0.1\nmode = "hazard"\n', "ok.toml")
    cfg = load_config(path, overrides=[
        "churn.annual_rate=0.12",
        'sales.rep_meetings_per_month={dist="uniform",low=4,high=8}',
        "churn.mode=renewal",
        "alignment.enabled=true",
        "simulation.sampling=sobol",
    ])
    assert cfg.get("churn.annual_rate") == 0.12
    assert cfg.churn.mode == "renewal"
    assert cfg.alignment.enabled is True
    assert cfg.simulation.sampling == "sobol"
    meetings = cfg.get("sales.rep_meetings_per_month")
    assert meetings.support() == (4.0, 8.0)
    assert meetings.describe() == "uniform(low=4, high=8)"
    cfg2 = config_from_dict({}, overrides={"sales.reps": 1, "churn.annual_rate": 0.2})
    assert cfg2.sales.reps == 1 and cfg2.churn.annual_rate == 0.2


# good inputs ---------------------------------------------------------------------------


def test_defaults_load():
    cfg = config_from_dict({})
    assert isinstance(cfg, Config)
    assert cfg.simulation.months == 60 and cfg.simulation.threshold_mrr == 100_000
    assert cfg.simulation.sampling == "random" and cfg.churn.mode == "hazard"
    assert cfg.alignment.enabled is False
    specs = param_specs()
    for key, spec in specs.items():
        value = cfg.get(key)
        lo, hi = (value, value) if isinstance(value, int | float) else value.support()
        assert spec.check(lo, hi), key


def test_empty_file_gives_defaults(tmp_path):
    assert load_config(_write(tmp_path, "", "empty.toml")) == config_from_dict({})


def test_there_are_configs():
    assert any(p.name == "baseline.toml" for p in CONFIGS)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_shipped_config_loads(path):
    cfg = load_config(path)
    assert cfg.simulation.months >= 1
    text = describe_config(cfg)
    assert "[simulation]" in text


def test_distribution_tables_for_integer_keys_load():
    cfg = config_from_dict({"start": {"techs": {"dist": "triangular", "low": 1, "mode": 2,
                                                "high": 4}}})
    assert cfg.start.techs.support() == (1.0, 4.0)


def test_defaults_are_validated_like_given_values():
    assert config_from_dict({}) == config_from_dict({"start": {"customers": 0, "techs": 1}})
    assert isinstance(config_from_dict({}).start.customers, float)


@pytest.mark.parametrize(
    ("key", "table"),
    [
        # A continuous distribution never takes its end value, so a support that ends on a
        # strict bound (annual_rate < 1, endpoints_per_seat > 0) is fine.
        ("churn.annual_rate", {"dist": "beta", "mean": 0.11, "sd": 0.02}),
        ("churn.annual_rate", {"dist": "uniform", "low": 0.5, "high": 1}),
        ("churn.annual_rate", {"dist": "normal", "mean": 0.1, "sd": 0.05, "low": 0, "high": 1}),
        ("customers.endpoints_per_seat", {"dist": "lognormal", "median": 1.2, "sigma": 0.2,
                                          "high": 5}),
        ("customers.endpoints_per_seat", {"dist": "uniform", "low": 0, "high": 2}),
    ],
)
def test_open_support_ends_meet_strict_bounds(key, table):
    section, name = key.split(".")
    cfg = config_from_dict({section: {name: table}})
    assert cfg.get(key).describe().startswith(table["dist"])


def test_numbers_stay_plain_floats():
    cfg = config_from_dict({"sales": {"reps": 2, "close_rate": 0.3}})
    assert isinstance(cfg.sales.reps, float) and cfg.sales.reps == 2
    assert isinstance(cfg.sales.close_rate, float)


# distributions against scipy -----------------------------------------------------------

Q = np.linspace(0.001, 0.999, 41)


def test_uniform_triangular_match_scipy():
    u = parse_distribution({"dist": "uniform", "low": 4, "high": 8})
    np.testing.assert_allclose(u.frozen().ppf(Q), stats.uniform(4, 4).ppf(Q))
    t = parse_distribution({"dist": "triangular", "low": 2, "mode": 3, "high": 9})
    np.testing.assert_allclose(t.frozen().ppf(Q), stats.triang(c=1 / 7, loc=2, scale=7).ppf(Q))
    assert t.support() == (2.0, 9.0)
    assert t.mean() == pytest.approx((2 + 3 + 9) / 3)


def test_lognormal_clip_puts_mass_on_the_bounds():
    d = parse_distribution({"dist": "lognormal", "median": 10, "sigma": 1, "low": 5, "high": 20})
    assert isinstance(d, LognormalDist)
    base = stats.lognorm(s=1, scale=10)
    frozen = d.frozen()
    assert d.support() == (5.0, 20.0)
    p_low, p_high = base.cdf(5), base.sf(20)
    q = np.array([p_low / 2, p_low * 0.999, 0.5, 1 - p_high * 0.999, 1 - p_high / 2])
    np.testing.assert_allclose(frozen.ppf(q), [5, 5, 10, 20, 20])
    inside = np.linspace(p_low + 1e-6, 1 - p_high - 1e-6, 11)
    np.testing.assert_allclose(frozen.ppf(inside), base.ppf(inside))
    # the clipped mean, by brute force
    grid = (np.arange(200_000) + 0.5) / 200_000
    assert frozen.mean() == pytest.approx(np.clip(base.ppf(grid), 5, 20).mean(), rel=1e-4)
    assert d.mean() == pytest.approx(frozen.mean())
    assert frozen.cdf(4.9) == 0.0 and frozen.cdf(20) == 1.0
    assert frozen.cdf(10) == pytest.approx(0.5)


def test_unclipped_lognormal_is_scipy_lognorm():
    d = parse_distribution({"dist": "lognormal", "median": 20, "sigma": 0.6})
    np.testing.assert_allclose(d.frozen().ppf(Q), stats.lognorm(s=0.6, scale=20).ppf(Q))
    assert d.support() == (0.0, np.inf)


def test_normal_truncation_is_scipy_truncnorm():
    d = parse_distribution({"dist": "normal", "mean": 5, "sd": 2, "low": 4, "high": 9})
    assert isinstance(d, NormalDist)
    expected = stats.truncnorm((4 - 5) / 2, (9 - 5) / 2, loc=5, scale=2)
    np.testing.assert_allclose(d.frozen().ppf(Q), expected.ppf(Q))
    assert d.mean() == pytest.approx(expected.mean())
    assert d.support() == (4.0, 9.0)
    assert d.describe() == "normal(mean=5, sd=2, low=4, high=9)"
    far = parse_distribution({"dist": "normal", "mean": 0, "sd": 1, "low": 5, "high": 6})
    assert far.frozen().ppf(0.5) == pytest.approx(stats.truncnorm(5, 6).ppf(0.5))


def test_beta_from_mean_and_sd():
    d = parse_distribution({"dist": "beta", "mean": 0.2, "sd": 0.1})
    a, b = d._ab()
    frozen = stats.beta(a, b)
    assert frozen.mean() == pytest.approx(0.2) and frozen.std() == pytest.approx(0.1)
    np.testing.assert_allclose(d.frozen().ppf(Q), frozen.ppf(Q))
    assert d.support() == (0.0, 1.0)
    assert d.describe() == "beta(mean=0.2, sd=0.1)"


# describe_config -----------------------------------------------------------------------


def test_describe_config_lists_every_key():
    cfg = config_from_dict({"churn": {"mode": "renewal"}, "alignment": {"enabled": True}})
    text = describe_config(cfg)
    lines = text.splitlines()
    for key, spec in param_specs().items():
        line = next((ln for ln in lines if ln.split() and ln.split()[0] == key), None)
        assert line is not None, key
        assert f"[{spec.unit}]" in line or spec.unit[:20] in line, key
    for section in SECTIONS:
        assert f"[{section}]" in lines
    for key in ("simulation.months", "simulation.sampling", "simulation.seed",
                "churn.mode", "alignment.enabled"):
        assert any(ln.split() and ln.split()[0] == key for ln in lines), key
    annual = next(ln for ln in lines if ln.split()[:1] == ["churn.annual_rate"])
    assert "uniform(low=0.08, high=0.15), mean 0.115" in annual
    assert "Ryan Morris" in annual and "seed 003" not in annual  # the document, named
    assert any("churn.mode" in ln and '"renewal"' in ln and "* set in your config" in ln
               for ln in lines)
    assert not any("churn.visibility_reduction" in ln and "set in your config" in ln
                   for ln in lines)
    assert any("alignment.enabled" in ln and "true" in ln for ln in lines)


def test_a_tables_mean_is_its_distributions_mean_computed_once_per_table():
    """Every table's mean (cached: tables are immutable) is the mean of its scipy object,
    and equal tables, read apart, share the one computation."""
    from simulator.config import distributions as dist_module

    tables = [parse_distribution(t) for t in (
        {"dist": "uniform", "low": 1, "high": 4}, {"dist": "triangular", "low": 2, "mode": 3,
                                                   "high": 9},
        {"dist": "lognormal", "median": 20, "sigma": 0.6, "low": 3, "high": 200},
        {"dist": "normal", "mean": 5, "sd": 2, "low": 0}, {"dist": "beta", "mean": 0.2,
                                                           "sd": 0.1})]
    for table in tables:
        assert table.mean() == float(table.frozen().mean()), table.describe()
    again = parse_distribution({"dist": "triangular", "low": 2, "mode": 3, "high": 9})
    assert again is not tables[1] and again == tables[1]
    hits = dist_module._mean_of.cache_info().hits
    assert again.mean() == tables[1].mean() and dist_module._mean_of.cache_info().hits >= hits + 2
    other = parse_distribution({"dist": "triangular", "low": 2, "mode": 4, "high": 9})
    assert other.mean() == pytest.approx(5.0) and other.mean() != tables[1].mean()
