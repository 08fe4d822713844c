"""`make openapi`: write the app's OpenAPI document to docs/openapi.json, its published copy.

A test fails when the committed file differs from what the app generates, so every API
change shows in review and clients can generate code from the file alone.

    .venv/bin/python -m tools.openapi [--output PATH]    # or: make openapi
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from local.paths import REPO_ROOT

DOCUMENT = REPO_ROOT / "docs" / "openapi.json"


def render() -> str:
    """The document exactly as it is committed: the app's own, indented, one final newline."""
    from local.command_line import settings_or_exit
    from service.app import create_app

    document = create_app(settings_or_exit()).openapi()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=DOCUMENT)
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(), encoding="utf-8")
    print(f"Wrote {args.output}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
