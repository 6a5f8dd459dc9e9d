"""mdrl's config tree. Importing it registers the typed schemas the option files extend
(mdrl.config, under ``_schema/<group>``) and lets Hydra's glob() see the nested experiment
presets (mdrl.jobs.presets)."""

from mdrl.config import register_schemas as _register_schemas
from mdrl.jobs.presets import register as _register_presets

_register_schemas()
_register_presets()
