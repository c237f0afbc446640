"""Configuration: loading and validating profilemesh.yml, and the settings every feature reads."""

from profilemesh.config.loader import DEFAULT_CONFIG_FILE, default_config, load_config
from profilemesh.config.model import Config, DbtProfileRef, StorageConfig
from profilemesh.warehouses import ConnectionConfig

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "Config",
    "ConnectionConfig",
    "DbtProfileRef",
    "StorageConfig",
    "default_config",
    "load_config",
]
