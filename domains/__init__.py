"""Domain registry: ``from mdrl.domains import domain_for_source``.

Adding a domain: write ``domains/<name>.py`` that calls :func:`register` at import and
import it below. Out-of-tree domains load from the comma-separated module names in the
``MDRL_PLUGINS`` environment variable; the scoring pool hands the value it sees at start-up
to its workers (:func:`load_plugins`), so plugin domains are scored by the same executor.
"""

import importlib as _importlib
import os as _os

from mdrl.domains.base import (  # noqa: F401
    Domain,
    Verdict,
    all_domains,
    domain_for_source,
    get_domain,
    known_sources,
    register,
)
from mdrl.domains import math, countdown, code, kk, lpb  # noqa: F401,E402  (registers)



def load_plugins(spec: str | None = None) -> None:
    """Import the comma-separated plugin modules in ``spec`` (default: ``$MDRL_PLUGINS``)."""
    spec = _os.environ.get("MDRL_PLUGINS", "") if spec is None else spec
    for mod in filter(None, (m.strip() for m in spec.split(","))):
        try:
            _importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (mod == exc.name or mod.startswith(exc.name + ".")):
                raise  # the plugin exists but imports something missing: its own traceback helps
            from mdrl.errors import UserError

            raise UserError(f"MDRL_PLUGINS names {mod!r}, which is not an importable module (is its folder on PYTHONPATH?)") from None


load_plugins()
