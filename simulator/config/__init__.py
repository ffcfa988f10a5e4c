"""Config: TOML files into a validated :class:`Config`."""

from .describe import describe_config
from .distributions import Distribution
from .loader import ConfigError, config_from_dict, load_config, parse_override
from .schema import SECTIONS, Config, ParamSpec, param_specs

__all__ = [
    "SECTIONS",
    "Config",
    "ConfigError",
    "Distribution",
    "ParamSpec",
    "config_from_dict",
    "describe_config",
    "load_config",
    "param_specs",
    "parse_override",
]
