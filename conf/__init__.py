"""mdrl's config tree. Importing it lets Hydra's glob() see the nested experiment presets
(mdrl.jobs.presets)."""

from mdrl.jobs.presets import register as _register_presets

_register_presets()
