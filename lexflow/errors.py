"""Errors a user can fix; the CLI prints them as one line and exits non-zero."""


class UserError(Exception):
    """Bad input or environment: the message names the path and the problem."""
