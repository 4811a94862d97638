"""The one error type users see: its message is the whole explanation, printed without a traceback."""


class ShoegenError(Exception):
    """A problem the user can fix (bad input, missing model, offline hub); the message says how."""
