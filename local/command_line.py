"""What every command does with a mistake: one line on stderr, exit status 2, no traceback."""

from __future__ import annotations

import sys
from typing import NoReturn

from service.settings import Settings, SettingsError

USAGE_ERROR = 2


def fail(message: str, status: int = USAGE_ERROR) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(status)


def settings_or_exit() -> Settings:
    """The service's settings, checked whole; each bad variable gets its own line."""
    try:
        return Settings()
    except SettingsError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(USAGE_ERROR) from None
