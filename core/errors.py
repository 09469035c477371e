"""Errors a user can fix; every entry point prints them as one `error:` line and exits 2."""


class UserError(Exception):
    """Bad input or environment: the message names the path, the value or the row."""
