"""The row fields domains read for a row's difficulty and gold answer.

A row reaches these functions in any of its lives: fresh from a loader or generator
(``extra_info`` a dict, ground truth a dict), or read back from a written parquet
(``extra_info`` flattened, ground truth JSON text), so every reader tolerates both.
"""

from __future__ import annotations

import re
from typing import Any

from .row_io import extra_info_of as info  # noqa: F401 - re-exported for the domains' rules
from .row_io import row_ground_truth as ground_truth  # noqa: F401


def number(value: Any) -> float | None:
    """A number from an int/float or the first integer in a string ("Level 3"); else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    m = re.search(r"\d+", str(value))
    return float(m.group()) if m else None
