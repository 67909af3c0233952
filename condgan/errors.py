"""The one exception type a user can cause, and how entry points report it.

Every mistake a user can make (a missing path, an unknown class, a bad config key) is raised
as `UserError` with a message that names the input and the fix.  Entry points catch it, print
one line to stderr and exit with status 2: no traceback, nothing overwritten.
"""
from __future__ import annotations

import sys

USAGE_EXIT_CODE = 2


class UserError(Exception):
    """An error caused by user input; its message names the input and the fix."""


def exit_with_user_error(error: UserError) -> None:
    print(f"error: {error}", file=sys.stderr)
    raise SystemExit(USAGE_EXIT_CODE)
