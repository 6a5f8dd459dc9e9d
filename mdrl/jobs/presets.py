"""The paper's runs as Hydra experiment presets (``conf/experiment/**``), and their listing.

Hydra lists only the direct children of a config group, so
``mdrl train -m '+experiment=glob(dcs/single/*)'`` would find no option in the nested
folders. A small config source (a Hydra plugin registered by ``mdrl.conf``) lists every
nested preset of mdrl's own config tree under its full name ("dcs/single/math_base");
it loads nothing itself, so the YAML file is what Hydra loads.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional

from hydra.core.object_type import ObjectType
from hydra.plugins.config_source import ConfigLoadError, ConfigResult, ConfigSource
from hydra.plugins.search_path_plugin import SearchPathPlugin

GROUP = "experiment"
SCHEME = "mdrl-presets"


def preset_names(conf_root: str | Path) -> list[str]:
    """Every preset under ``conf/experiment`` as Hydra names it ("dcs/single/math_base");
    files and folders starting with "_" are shared parts, not presets."""
    root = Path(conf_root) / GROUP
    names = []
    for path in sorted(root.rglob("*.yaml")):
        rel = path.relative_to(root).with_suffix("")
        if not any(part.startswith("_") for part in rel.parts):
            names.append(rel.as_posix())
    return names


class NestedPresetSource(ConfigSource):
    """Lists the nested presets as options of the ``experiment`` group; loads nothing."""

    @staticmethod
    def scheme() -> str:
        return SCHEME

    def load_config(self, config_path: str) -> ConfigResult:
        raise ConfigLoadError(f"{SCHEME}:// only lists presets; {config_path} is loaded from its YAML file")

    def is_group(self, config_path: str) -> bool:
        return config_path.strip("/") == GROUP

    def is_config(self, config_path: str) -> bool:
        return False

    def available(self) -> bool:
        return (Path(self.path) / GROUP).is_dir()

    def list(self, config_path: str, results_filter: Optional[ObjectType]) -> List[str]:
        if not self.is_group(config_path) or results_filter not in (None, ObjectType.CONFIG):
            return []
        return [n for n in preset_names(self.path) if "/" in n]


def _conf_root() -> str:
    import mdrl.conf

    return str(Path(mdrl.conf.__file__).resolve().parent)


class NestedPresetSearchPath(SearchPathPlugin):
    """Adds the preset lister behind mdrl's config tree, and only there (other Hydra apps
    in the process, such as veRL's own config composition, are left alone)."""

    def manipulate_search_path(self, search_path) -> None:  # type: ignore[no-untyped-def]
        root = _conf_root()
        mine = any(os.path.realpath(str(e.path)) == root for e in search_path.get_path() if e.provider == "main")
        if mine:
            search_path.append("mdrl-presets", f"{SCHEME}://{root}")


def register() -> None:
    """Register the plugin pair with Hydra (idempotent)."""
    from hydra.core.plugins import Plugins

    plugins = Plugins.instance()
    for cls in (NestedPresetSource, NestedPresetSearchPath):
        plugins.register(cls)
