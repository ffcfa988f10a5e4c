"""Decision analysis on the engine: compare scenarios, seek a goal, run to a precision.

* :func:`compare`: scenarios with common random numbers
  (:class:`ComparisonResult`: ``.to_json()``, ``.to_frame()``, ``.plot()``);
* :func:`goal_seek`: the value of one lever that meets a target
  (:class:`GoalResult`);
* :func:`simulate_to_precision`: add paths until P(break by the horizon) is
  known to a given half-width (``msp-sim run --paths auto``);
* :func:`sensitivity`: which uncertain input drives the outcome
  (:class:`SensitivityResult`);
* :func:`plan_search`: the best combination and timing of levers under a budget, and
  what to measure first (:class:`PlanResult`, ``msp-sim plan``).
"""

from __future__ import annotations

from .compare import ComparisonResult, Scenario, compare, load_scenarios
from .convergence import AdaptiveResult, simulate_to_precision
from .goal import GoalResult, GoalUnreachable, Target, goal_seek, parse_target
from .levers import Lever
from .plan import PlanResult, PlanSettings, plan_search
from .scan import LeverScanResult, lever_scan
from .sensitivity import SensitivityResult, sensitivity

__all__ = [
    "AdaptiveResult",
    "ComparisonResult",
    "GoalResult",
    "GoalUnreachable",
    "Lever",
    "LeverScanResult",
    "PlanResult",
    "PlanSettings",
    "Scenario",
    "SensitivityResult",
    "Target",
    "compare",
    "goal_seek",
    "lever_scan",
    "load_scenarios",
    "parse_target",
    "plan_search",
    "sensitivity",
    "simulate_to_precision",
]


