"""The explorer's computations (simulator.explorer), without a browser.

The numbers it shows are the numbers :func:`simulator.simulate` gives for the
same config, paths and seed; a control that should change nothing changes
nothing (common random numbers); a bad value gets the config's own message;
"Save as config" writes a file that loads back as the same config; "Compare"
is :func:`simulator.analysis.compare` of the kept settings. The Panel app's
callbacks are run in an event loop here (tests/test_explore_browser.py drives
the served page).
"""

from __future__ import annotations

import asyncio
import shutil
import tomllib
from pathlib import Path

import pytest

import simulator
from simulator.cli import main
from simulator.config import ConfigError, config_from_dict, load_config
from simulator.explorer import Explorer
from simulator.explorer.model import toml_value

BASELINE = Path(__file__).resolve().parents[1] / "configs" / "baseline.toml"
N = 800


@pytest.fixture
def explorer(tmp_path):
    path = tmp_path / "baseline.toml"
    shutil.copy(BASELINE, path)
    return Explorer(path, paths=N, drag_paths=200)


def _same(outcome, result):
    for m, est in outcome.p_break.items():
        assert est == result.p_break_by(m)
    assert outcome.p_insolvent == result.p_insolvent_by(result.months)
    assert outcome.median_months == result.time_quantile(0.5)
    assert outcome.at_horizon == result.at_horizon()


def test_numbers_are_simulates(explorer):
    base = explorer.baseline()
    _same(base, simulator.simulate(load_config(BASELINE), n_paths=N, seed=explorer.seed,
                                   progress=False))
    explorer.set("customers.price_per_seat", 137.5)   # the mean of uniform 100-150, +10%
    explorer.set("sales.reps", 1)
    explorer.set("sales.rep_start_month", 6)
    explorer.set("alignment.enabled", True)
    assert explorer.overrides == {
        "customers.price_per_seat": {"dist": "uniform", "low": 110.0, "high": 165.0},
        "sales.reps": 1, "sales.rep_start_month": 6, "alignment.enabled": True}
    now = explorer.run()
    raw = tomllib.loads(BASELINE.read_text())
    expected = simulator.simulate(config_from_dict(raw, overrides=explorer.overrides),
                                  n_paths=N, seed=explorer.seed, progress=False)
    _same(now, expected)
    assert now.p_break[60].value != base.p_break[60].value
    diff = explorer.difference(now, base)
    assert diff["p_break_by_60"] == now.p_break[60].value - base.p_break[60].value


def test_a_control_that_should_change_nothing_changes_nothing(explorer):
    base = explorer.baseline()
    explorer.set("sales.rep_start_month", 12)   # no salesperson to start
    assert explorer.settings == {"sales.rep_start_month": 12}
    assert explorer.run().numbers() == base.numbers()
    explorer.set("sales.rep_start_month", 1)    # back to the starting value: no change left
    assert explorer.settings == {} and explorer.config == explorer.base


@pytest.mark.parametrize(("key", "text"), [
    ("churn.annual_rate", "1.2"),
    ("churn.annual_rate", "abc"),
    ("churn.mode", "sometimes"),
    ("customers.price_per_seat", '{dist = "uniform", low = 150, high = 100}'),
    ("finance.tax_rate", "-0.1"),
    ("simulation.sustain_months", "0"),
])
def test_bad_values_get_the_configs_message(explorer, tmp_path, key, text):
    section, name = key.split(".")
    bad = tmp_path / "bad.toml"
    # a field takes a bare word as a string, as --set does; a file needs the quotes
    value = f'"{text}"' if text.isalpha() else text
    header = f"\n[{section}]\n"
    data = BASELINE.read_text().replace(header, f"{header}{name} = {value}\n")
    if header not in data:
        data += f"\n[{section}]\n{name} = {value}\n"
    bad.write_text(data)
    with pytest.raises(ConfigError) as in_file:
        load_config(bad)
    with pytest.raises(ConfigError) as in_field:
        explorer.set(key, text)
    assert str(in_field.value) == str(in_file.value).replace(str(bad), explorer.source)
    assert "\n" not in str(in_field.value)
    assert explorer.settings == {} and explorer.config == explorer.base


def test_a_typed_number_gets_the_same_message(explorer):
    with pytest.raises(ConfigError) as exc:
        explorer.set("start.techs", 2.5)
    assert str(exc.value) == (f"{explorer.source}: start.techs = 2.5: not an integer: got 2.5; "
                              "allowed: an integer with 0 <= value <= 2000, or a distribution "
                              "table inside that range (draws are rounded to the nearest "
                              "integer)")


def test_save_as_config_loads_back_as_the_same_config(explorer, tmp_path):
    explorer.set("customers.price_per_seat", 150)
    explorer.set("start.techs", 7)
    explorer.set("alignment.enabled", True)
    explorer.set("churn.mode", "renewal")
    explorer.set("tickets.hours_aligned", '{dist = "triangular", low = 0.3, mode = 0.4, '
                                          'high = 0.6}')
    path = explorer.save(tmp_path / "mine.toml")
    text = path.read_text()
    assert load_config(path) == explorer.config
    assert text.count("# changed in msp-sim explore") == len(explorer.overrides) == 5
    assert "# changed in msp-sim explore; starting value: 5\ntechs = 7\n" in text
    with pytest.raises(ConfigError, match="the file exists"):
        explorer.save(path)
    with pytest.raises(ConfigError, match="not a .toml file name"):
        explorer.save(tmp_path / "mine.txt")


def test_save_from_a_config_object(tmp_path):
    config = simulator.shipped_config("baseline")
    e = Explorer(config, paths=N)
    e.set("staff.owner_hours_per_month", 180)
    assert load_config(e.save(tmp_path / "x.toml")) == e.config


def test_compare_adds_the_settings_as_a_scenario(explorer):
    explorer.set("sales.reps", 2)
    assert explorer.add_scenario() == "settings 1"
    now = explorer.run()
    result = explorer.compare()
    assert result.names == ["starting config", "settings 1"]
    assert result["settings 1"].p_break_by(60) == now.p_break[60]
    assert result["starting config"].p_break_by(60) == explorer.baseline().p_break[60]
    with pytest.raises(ConfigError, match="duplicate scenario name"):
        explorer.add_scenario("settings 1")


def test_toml_value():
    assert toml_value(0.1) == "0.1"
    assert toml_value(100000.0) == "100000"
    assert toml_value(True) == "true"
    assert toml_value('a "b"') == '"a \\"b\\""'
    assert toml_value({"dist": "uniform", "low": 1, "high": 2.5}) == \
        '{dist = "uniform", low = 1, high = 2.5}'
    assert toml_value({"sales.reps": 1}) == '{"sales.reps" = 1}'


# -- the Panel app's callbacks --------------------------------------------------------


@pytest.fixture
def app(explorer):
    pytest.importorskip("panel")
    from simulator.explorer.app import ExploreApp

    return ExploreApp(explorer, autostart=False)


def test_app_refresh_shows_the_models_numbers(app):
    asyncio.run(app.refresh())
    html = app.results.object
    expected = app.model.run().p_break[60].value
    assert f'id="p-break-by-60" data-value="{expected!r}"' in html
    assert f'data-paths="{N}"' in html
    assert all(pane.object for pane in app.figures.values())   # the figures of the full run


def test_app_change_runs_and_bad_value_shows_the_message(app):
    class Event:
        new = 1

    asyncio.run(app._changed("sales.reps", Event()))
    assert app.model.settings == {"sales.reps": 1}
    assert f'data-value="{app.model.run().p_break[60].value!r}"' in app.results.object
    Event.new = "-1"
    asyncio.run(app._changed("sales.reps", Event()))
    assert "sales.reps = -1: out of range" in app.message.object
    assert app.model.settings == {"sales.reps": 1}


def test_a_stale_run_is_dropped(app):
    app._gen = 3
    assert app._work(2, app.model.config, 100, False) is None
    assert app._work(3, app.model.config, 100, False) is not None


def test_explore_returns_a_panel_layout():
    pn = pytest.importorskip("panel")
    async def shown():
        # outside a server, the first run starts at once on the running loop (a notebook's)
        layout = simulator.explore(BASELINE, paths=200, drag_paths=100)
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        await asyncio.gather(*others)
        return layout, others

    layout, started = asyncio.run(shown())
    assert isinstance(layout, pn.layout.Panel)
    assert len(started) == 1
    assert 'data-paths="200"' in str(layout.objects[1].objects[1].objects[1].object)


def test_cli_explore_bad_input(tmp_path, capsys):
    assert main(["explore", str(tmp_path / "missing.toml"), "--no-browser"]) == 2
    assert "missing.toml: cannot read the config: no such file" in capsys.readouterr().err
    assert main(["explore", str(BASELINE), "--port", "70000", "--no-browser"]) == 2
    assert "--port: out of range: got 70000" in capsys.readouterr().err
    assert main(["explore", str(BASELINE), "--max-sessions", "0", "--no-browser"]) == 2
    assert "--max-sessions: out of range: got 0" in capsys.readouterr().err
    assert main(["explore", str(BASELINE), "--set", "churn.annual_rate=2",
                 "--no-browser"]) == 2
    assert "churn.annual_rate = 2: out of range" in capsys.readouterr().err


def test_with_an_exact_book_the_price_control_says_it_prices_new_clients():
    """Issue 26: with start.book the price moves new clients' price only; the label says so."""
    from simulator.config.starter import starter_toml

    booked = Explorer(config_from_dict(tomllib.loads(starter_toml())))
    label = next(c.label for c in booked.controls if c.key == "customers.price_per_seat")
    assert "new clients" in label and "book keeps its fees" in label
    drawn = Explorer(config_from_dict({}))
    assert next(c.label for c in drawn.controls
                if c.key == "customers.price_per_seat") == "Price per seat today"



def test_app_best_plan_view_shows_plan_searchs_answer():
    """Issue 25: the "best plan" button runs plan_search on the current settings (through
    Explorer.plan) and shows its own words; a bad limit gets a one-line message; a closed
    page with a plan shown is still garbage."""
    import gc
    import threading
    import types
    import weakref

    pytest.importorskip("panel")
    from simulator.analysis.levers import Lever
    from simulator.analysis.plan import PlanSettings
    from simulator.explorer.app import ExploreApp

    def workers():
        return {t for t in threading.enumerate() if t.name.startswith("msp-explore")}

    earlier = workers()  # other tests' sessions, left to themselves
    app = ExploreApp(Explorer(BASELINE, ["simulation.months=24",
                                         "finance.overhead_per_month=5000"], paths=N,
                              drag_paths=200), autostart=False)
    tiny = PlanSettings(n_screen=20, n_final=60, finalists=2, timing_top=1, ocba_paths=40,
                        ocba_rounds=1, tune_trials=0)
    levers = [Lever("a cheaper office", "", {"finance.overhead_per_month": 2000.0}),
              Lever("a grander office", "", {"finance.overhead_per_month": 8000.0})]
    calls = []

    def plan(model, *args):  # the view's call, at a tiny precision on two known levers
        calls.append(args)
        return Explorer.plan(model, *args, settings=tiny, levers=levers, voi_boot=2)

    app.model.plan = types.MethodType(plan, app.model)
    app.plan_budget.value = "abc"
    asyncio.run(app._plan())
    assert "plan: budget: got &#34;abc&#34;; allowed: dollars a month" in app.plan.object
    assert calls == []
    app.plan_objective.value = "cum-profit"
    app.plan_budget.value = "$5,000"
    app.plan_max_p.value = "50%"
    asyncio.run(app._plan())
    assert calls == [("cum-profit", 5000.0, 0.5)]
    html = app.plan.object
    assert 'data-best="a cheaper office"' in html
    assert "Best plan: a cheaper office" in html and "P(out of cash) " in html
    assert "P(correct selection)" in html and "runner-up: " in html
    assert "20 paths each" in html and not app.buttons["plan"].disabled
    app.close()
    # the session's worker thread ends after its last task lets go of it (close() does
    # not wait for it: a session closing mid-run must not block the server)
    for thread in workers() - earlier:
        thread.join(timeout=30)
    refs = [weakref.ref(x) for x in (app, app.model, *app.layout.select())]
    del app
    gc.collect()
    assert [r() for r in refs if r() is not None] == []


def test_the_explorer_runs_again_with_the_c_allocator_only_as_a_program():
    """Issue 28: ``msp-sim explore`` re-runs itself with ``PYTHONMALLOC=malloc`` (closed
    tabs' memory handed back), only as a program on Linux with PYTHONMALLOC unset."""
    from simulator.cli.explore import system_malloc_argv

    script = ["/v/bin/python", "/v/bin/msp-sim", "explore", "c.toml"]
    module = ["/v/bin/python", "-m", "simulator.cli", "explore", "c.toml"]
    assert system_malloc_argv(script, {}, "linux") == script
    assert system_malloc_argv(module, {"HOME": "/h"}, "linux") == module
    # negative controls: a test run, a notebook, a chosen allocator, another system
    assert system_malloc_argv(["/v/bin/python", "-m", "pytest", "tests"], {}, "linux") is None
    assert system_malloc_argv(["/v/bin/python", "-c", "x"], {}, "linux") is None
    assert system_malloc_argv([], {}, "linux") is None
    assert system_malloc_argv(script, {"PYTHONMALLOC": "pymalloc"}, "linux") is None
    assert system_malloc_argv(script, {}, "darwin") is None
