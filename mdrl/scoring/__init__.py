"""One scoring path for everything: ``score_batch`` / ``score_iter`` over ``score_one``."""

from mdrl.scoring.core import DEFAULT_SETTINGS, score_one  # noqa: F401
from mdrl.scoring.executor import score_batch, score_iter, shutdown  # noqa: F401
from mdrl.scoring.schemes import get_scheme, scheme, scheme_names  # noqa: F401
