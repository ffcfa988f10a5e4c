"""Config: TOML files into a validated :class:`Config`."""

from .distributions import Distribution
from .loader import ConfigError, load_config, parse_override
from .schema import SECTIONS, Config, ParamSpec, param_specs

__all__ = [
    "SECTIONS",
    "Config",
    "ConfigError",
    "Distribution",
    "ParamSpec",
    "load_config",
    "param_specs",
    "parse_override",
]
