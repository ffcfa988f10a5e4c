"""Property-based fuzz of the config schema and ``--set`` (hypothesis).

Random configs (known and unknown sections and keys, nested tables, extreme
and non-finite numbers, random distributions) and random ``--set`` overrides
go through ``msp-sim run``. Every case must end either in exit status 2 with
one ``error:`` line per problem and nothing written, or in exit status 0
with every output finite; never a traceback or an internal error.

``make test`` runs a few hundred examples (derandomized: the same examples
every time); ``MSP_SIM_FUZZ_EXAMPLES=5000`` runs more.
"""

from __future__ import annotations

import csv
import json
import math
import os

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from simulator import cli, report  # noqa: E402
from simulator.config.distributions import DIST_NAMES  # noqa: E402
from simulator.config.schema import SECTIONS, param_specs, section_model  # noqa: E402

CODES: dict[int, int] = {}
EXAMPLES = int(os.environ.get("MSP_SIM_FUZZ_EXAMPLES", "300"))

KEYS = {s: list(section_model(s).model_fields) for s in SECTIONS if s != "correlations"}

extreme = st.sampled_from([0.0, -0.0, 1e-324, 5e-324, 1e-300, 1e-9, 0.5, 1.0, 2.0, 1e9, 1e12,
                           1e300, 1e308, -1e308, math.inf, -math.inf, math.nan, 2**63,
                           -(2**63), 10**30])
number = st.one_of(extreme, st.integers(-10**6, 10**6),
                   st.floats(allow_nan=True, allow_infinity=True))
word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
dist_params = st.sampled_from(["low", "high", "mode", "median", "sigma", "mean", "sd", "x"])


@st.composite
def distribution(draw):
    table = {"dist": draw(st.one_of(st.sampled_from(DIST_NAMES), word))}
    for name in draw(st.lists(dist_params, max_size=5, unique=True)):
        table[name] = draw(number)
    return table


scalar = st.one_of(number, st.booleans(), word, st.just(""))
value = st.recursive(st.one_of(scalar, distribution()),
                     lambda inner: st.one_of(st.lists(inner, max_size=3),
                                             st.dictionaries(word, inner, max_size=3)),
                     max_leaves=6)


SPECS = param_specs()


@st.composite
def allowed_value(draw, key):
    """A value inside (or at the edge of) the key's allowed range, or a distribution there."""
    spec = SPECS.get(key)
    if spec is None:
        return draw(value)
    lo = spec.ge if spec.ge is not None else (spec.gt if spec.gt is not None else -1e12)
    hi = spec.le if spec.le is not None else (spec.lt if spec.lt is not None else 1e12)
    inside = st.one_of(st.sampled_from([lo, hi, (lo + hi) / 2]),
                       st.floats(lo, hi, allow_nan=False, allow_infinity=False))
    if spec.integer:
        inside = inside.map(lambda x: int(min(max(round(x), math.ceil(lo)), math.floor(hi))))
    a, b = sorted((draw(inside), draw(inside)))
    return draw(st.one_of(
        inside, st.just({"dist": "uniform", "low": a, "high": b}),
        st.just({"dist": "triangular", "low": a, "mode": (a + b) / 2, "high": b}),
        st.just({"dist": "normal", "mean": (a + b) / 2, "sd": draw(number), "low": a,
                 "high": b}),
        st.just({"dist": "lognormal", "median": (a + b) / 2, "sigma": draw(number)}),
        st.just({"dist": "beta", "mean": draw(st.floats(0, 1)), "sd": draw(number)}),
        value))


@st.composite
def config(draw):
    data = {}
    sections = st.one_of(st.sampled_from(sorted(KEYS)), st.sampled_from(sorted(KEYS)), word)
    for section in draw(st.lists(sections, max_size=4, unique=True)):
        if section in KEYS and draw(st.sampled_from([True, True, True, False])):
            # mostly allowed values: runs that run, with extreme but allowed numbers
            names = draw(st.lists(st.sampled_from(KEYS[section]), max_size=4, unique=True))
            data[section] = {n: draw(allowed_value(f"{section}.{n}")) for n in names}
            continue
        keys = st.one_of(st.sampled_from(KEYS.get(section) or ["x"]), word)
        data[section] = draw(st.dictionaries(keys, value, max_size=4))
    return data


@st.composite
def override(draw):
    section = draw(st.one_of(st.sampled_from(sorted(KEYS)), word))
    key = draw(st.one_of(st.sampled_from(KEYS.get(section) or ["x"]), word))
    text = draw(st.one_of(value.map(toml_value), st.text(max_size=12)))
    sep = draw(st.sampled_from(["=", " = ", ""]))
    return f"{section}.{key}{sep}{text}"


@st.composite
def allowed_override(draw):
    section = draw(st.sampled_from(sorted(KEYS)))
    key = draw(st.sampled_from(KEYS[section]))
    return f"{section}.{key}={toml_value(draw(allowed_value(f'{section}.{key}')))}"


def toml_value(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) \
            else repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_text(data: dict) -> str:
    lines = ["[simulation]", "paths = 24", "months = 8", "seed = 3"]
    for section, table in data.items():
        if section == "simulation":
            table = {k: v for k, v in table.items() if k not in ("paths", "months")}
        lines.append(f"[{json.dumps(section)}]")
        lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def light_report(result, out_dir, summary=None, title=None, levers=None, sources=None,
                 figures=None):
    """The run report without figures (the fuzz checks numbers, not pictures; with
    MSP_SIM_FIGURE_PROCESS=0 no child process draws them either)."""
    (out_dir / "report.html").write_text("<html></html>")
    return []


def all_finite(node) -> bool:
    if isinstance(node, float):
        return math.isfinite(node)
    if isinstance(node, dict):
        return all(all_finite(v) for v in node.values())
    if isinstance(node, list):
        return all(all_finite(v) for v in node)
    return True


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=config(), overrides=st.one_of(st.just([]), st.lists(override(), max_size=2),
                                         st.lists(allowed_override(), max_size=2)))
def test_fuzz_run(tmp_path_factory, monkeypatch, capsys, data, overrides):
    monkeypatch.setattr(report.run.files, "write_run_report", light_report)
    monkeypatch.setenv("MSP_SIM_FIGURE_PROCESS", "0")
    root = tmp_path_factory.mktemp("fuzz")
    path = root / "fuzz.toml"
    path.write_text(toml_text(data), encoding="utf-8")
    out = root / "out"
    # --no-levers: ten more simulations per example would make the fuzz ten times slower;
    # the lever scan's own checks are in tests/test_levers.py
    argv = ["run", str(path), "--out", str(out), "--no-progress", "--no-save-paths",
            "--no-levers"]
    for o in overrides:
        argv += ["--set", o]
    capsys.readouterr()
    code = cli.main(argv)
    CODES[code] = CODES.get(code, 0) + 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "internal error" not in captured.err, captured.err
    if code == 2:
        lines = [li for li in captured.err.splitlines() if li.strip()]
        errors = [li for li in lines if li.startswith("error: ")]
        assert errors, captured.err
        assert len(errors[0]) < 2000
        assert not out.exists()
        assert sorted(p.name for p in root.iterdir()) == ["fuzz.toml"]  # nothing half-written
    else:
        assert code == 0, captured.err
        summary = json.loads((out / "summary.json").read_text())
        assert all_finite(summary)
        with open(out / "quantiles.csv", encoding="utf-8") as fh:
            values = [float(row["value"]) for row in csv.DictReader(fh)]
        assert values and all(math.isfinite(v) for v in values)


def _inf_result(n=20, months=6):
    import numpy as np

    from simulator.config.loader import config_from_dict
    from simulator.model.metrics import METRICS
    from simulator.results import SimulationResult

    config = config_from_dict({"simulation": {"months": months, "paths": n, "seed": 1}})
    metrics = {name: np.ones((n, months + 1)) for name in METRICS}
    metrics["cash"] = np.full((n, months + 1), np.inf)
    return SimulationResult(config=config, seed=1, metrics=metrics,
                            first_passage=np.full(n, -1, dtype=np.int64))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # quantiles of inf, unguarded
@pytest.mark.parametrize("guard", [True, False])
def test_non_finite_output_is_refused(tmp_path, monkeypatch, capsys, guard):
    """An overflowing run is refused (exit 2, nothing written); negative control: without
    the guard its outputs are not finite, which the fuzz's checks would catch."""
    import sys
    import types

    fake = types.ModuleType("simulator.api")
    fake.simulate = lambda config, **kwargs: _inf_result()
    fake.engine_ready = lambda *args, **kwargs: 0.0
    monkeypatch.setitem(sys.modules, "simulator.api", fake)
    monkeypatch.setattr(report.run.files, "write_run_report", light_report)
    monkeypatch.setenv("MSP_SIM_FIGURE_PROCESS", "0")
    if not guard:
        monkeypatch.setattr("simulator.cli.run.check_finite", lambda result, source: None)
    path = tmp_path / "c.toml"
    path.write_text("[simulation]\nmonths = 6\npaths = 20\n")
    out = tmp_path / "out"
    code = cli.main(["run", str(path), "--out", str(out), "--no-progress", "--no-levers"])
    err = capsys.readouterr().err
    if guard:
        assert code == 2 and "overflowed: cash" in err and not out.exists()
    else:
        assert code == 0
        with open(out / "quantiles.csv", encoding="utf-8") as fh:
            values = [float(row["value"]) for row in csv.DictReader(fh)]
        assert not all(math.isfinite(v) for v in values)
