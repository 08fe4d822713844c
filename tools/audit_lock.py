"""Known vulnerabilities in the locked dependencies: pip-audit, and PyPI's advisories.

    python -m tools.audit_lock requirements.txt   # `make audit` exports it

pip-audit asks PyPI's per-release JSON API about each pinned package. Where that API does
not answer (some mirrors and proxies serve only the per-project document), pip-audit
skips the package; this then reads the per-project document, whose `vulnerabilities`
are those of the latest release, and so audits every package locked at its latest
release. What neither could audit is listed, never passed over in silence. Exit status
1 when any known vulnerability affects a locked version.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

PYPI_PROJECT = "https://pypi.org/pypi/{name}/json"


def pip_audit(requirements: Path) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as workdir:
        output = Path(workdir) / "audit.json"
        subprocess.run(  # noqa: S603 - our own pip-audit, fixed arguments
            [
                str(Path(sys.executable).with_name("pip-audit")),
                "--requirement",
                str(requirements),
                "--no-deps",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(output),
            ],
            check=False,
            stderr=subprocess.DEVNULL,
        )
        dependencies: list[dict[str, Any]] = json.loads(output.read_text())["dependencies"]
        return dependencies


def latest_release_advisories(name: str) -> tuple[str, list[dict[str, Any]]]:
    """PyPI's latest version of a project, and the advisories that affect it."""
    with urllib.request.urlopen(PYPI_PROJECT.format(name=name), timeout=30) as response:  # noqa: S310 - a fixed https URL
        document = json.load(response)
    return document["info"]["version"], document.get("vulnerabilities") or []


def locked_versions(requirements: Path) -> dict[str, str]:
    """`name==version` pins of an exported lock file, by normalised name."""
    pins = {}
    for line in requirements.read_text().splitlines():
        pin = line.split(";", 1)[0].strip()
        if "==" in pin and not pin.startswith("#"):
            name, version = pin.split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return pins


def main(argv: list[str] | None = None) -> int:
    (requirements,) = argv if argv is not None else sys.argv[1:]
    pins = locked_versions(Path(requirements))
    vulnerable: list[str] = []
    by_pip_audit = by_project_document = 0
    not_audited: list[str] = []
    for dependency in pip_audit(Path(requirements)):
        name = dependency["name"]
        version = dependency.get("version") or pins[re.sub(r"[-_.]+", "-", name).lower()]
        if "skip_reason" not in dependency:
            by_pip_audit += 1
            vulnerable += [
                f"{name} {version}: {v['id']} (fixed in {v.get('fix_versions')})"
                for v in dependency["vulns"]
            ]
            continue
        latest, advisories = latest_release_advisories(name)
        if latest != version:
            not_audited.append(f"{name} {version} (PyPI's latest is {latest})")
            continue
        by_project_document += 1
        vulnerable += [
            f"{name} {version}: {advisory['id']}"
            for advisory in advisories
            if not advisory.get("withdrawn")
        ]
    total = by_pip_audit + by_project_document + len(not_audited)
    print(
        f"audited {by_pip_audit + by_project_document} of {total} locked packages "
        f"({by_pip_audit} by pip-audit, {by_project_document} by PyPI's latest-release advisories)"
    )
    if not_audited:
        print(f"not audited here ({len(not_audited)}; PyPI's per-release API did not answer):")
        print("  " + "\n  ".join(not_audited))
    if vulnerable:
        print("KNOWN VULNERABILITIES:\n  " + "\n  ".join(vulnerable))
        return 1
    print("no known vulnerability in the audited packages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
