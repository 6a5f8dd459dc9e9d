"""Errors meant for the user: printed as one sentence, never as a traceback."""


class UserError(Exception):
    """A mistake in the user's input (bad key, missing file, impossible setting)."""
