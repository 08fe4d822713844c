"""`make openapi`: write the app's OpenAPI document to docs/openapi.json, its published copy.

A test fails when the committed file differs from what the app generates, so every API
change shows in review and clients can generate code from the file alone.

    python -m tools.openapi [--output PATH]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from local.dynamodb_local import REPO_ROOT

DOCUMENT = REPO_ROOT / "docs" / "openapi.json"


def render() -> str:
    """The document exactly as it is committed: the app's own, indented, one final newline."""
    from service.app import create_app
    from service.settings import Settings

    document = create_app(Settings()).openapi()
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
