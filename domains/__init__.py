"""Domain registry: ``from mdrl.domains import domain_for_source``.

Adding a domain: write ``domains/<name>.py`` that calls :func:`register` at import and
import it below. Out-of-tree domains load from the comma-separated module names in the
``MDRL_PLUGINS`` environment variable (worker processes inherit it, so plugin domains are
scored by the same executor).
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

for _mod in filter(None, (m.strip() for m in _os.environ.get("MDRL_PLUGINS", "").split(","))):
    _importlib.import_module(_mod)
