"""Mutation testing of the deployed modules: `make mutation`.

    python -m tools.mutation run [--sample 147] [--budget-minutes 60] [--max-children 2]
    python -m tools.mutation run NAME...     # again, these mutants only (after a new test)
    python -m tools.mutation report [--floor 95] [--out mutants/report.md]

`run` starts one DynamoDB Local for the whole run (each mutant's tests reuse it instead
of starting their own) and runs mutmut, configured under `[tool.mutmut]` in pyproject.toml:
each mutant of `service/` runs against the tests that reached the mutated function.
`--sample` runs only the mutants whose number ends in one of the given digits (147: about
a third, spread over every function). Past the time budget mutmut is interrupted; what it
checked stands, and `mutmut run` resumes where it stopped.

`report` reads mutmut's results: the score per module (killed over checked, leaving out
the mutants tools/mutation_equivalents.toml lists: equivalent ones, and those in code that
runs only at import), and every survivor. It fails when the score of the modules the
floor guards (store, cursor, API) is below `--floor` percent.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import signal
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from local.dynamodb_local import DynamoDBLocal, use_local_credentials
from local.dynamodb_local.jar import CACHE_DIR
from local.paths import REPO_ROOT

MUTANTS = REPO_ROOT / "mutants"
EQUIVALENTS = Path(__file__).with_name("mutation_equivalents.toml")
# The modules whose score the floor guards (issue 19: store, cursor and API).
GUARDED = ("service.store.", "service.cursor", "service.api.")
# mutmut's exit codes (mutmut/stats.py): what counts as the tests noticing the mutant.
KILLED_CODES = frozenset({1, 3, 24, -24, 36, 37, 152, 255, -9, -11})
SURVIVED_CODES = frozenset({0, 5, 33})
MUTMUT = [sys.executable, "-m", "mutmut"]


@dataclass(frozen=True)
class Outcome:
    name: str
    code: int | None

    @property
    def module(self) -> str:
        return self.name.rsplit(".", 1)[0]

    @property
    def verdict(self) -> str:
        if self.code is None:
            return "not checked"
        if self.code in KILLED_CODES:
            return "killed"
        return "survived" if self.code in SURVIVED_CODES else "suspicious"


def load_outcomes(mutants: Path | None = None) -> list[Outcome]:
    """Every mutant mutmut generated, with its last result (None: not run yet)."""
    outcomes: list[Outcome] = []
    for meta in sorted((mutants or MUTANTS).glob("service/**/*.py.meta")):
        codes: Mapping[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        outcomes.extend(Outcome(name, code) for name, code in codes.items())
    return outcomes


def load_equivalents(path: Path | None = None) -> dict[str, str]:
    """Mutant name (or glob) -> why no test can tell it from the original, from the file's
    [equivalent] and [unobservable] tables."""
    path = path or EQUIVALENTS
    tables = tomllib.loads(path.read_text()) if path.exists() else {}
    return {
        name: f"{kind}: {reason}"
        for kind in ("equivalent", "unobservable")
        for name, reason in tables.get(kind, {}).items()
    }


def left_out(name: str, equivalents: Mapping[str, str]) -> str | None:
    """The listed entry that covers this mutant, if any."""
    return next((entry for entry in equivalents if fnmatch.fnmatchcase(name, entry)), None)


@dataclass
class Score:
    killed: int = 0
    survived: int = 0
    equivalent: int = 0
    unchecked: int = 0

    @property
    def checked(self) -> int:
        return self.killed + self.survived

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.checked if self.checked else 100.0

    def add(self, outcome: Outcome, equivalent: bool) -> None:
        if outcome.verdict == "not checked":
            self.unchecked += 1
        elif outcome.verdict == "killed":
            self.killed += 1
        elif equivalent:
            self.equivalent += 1
        else:
            self.survived += 1


def scores(
    outcomes: Iterable[Outcome], equivalents: Mapping[str, str]
) -> tuple[dict[str, Score], Score, Score]:
    """Per module, over everything, and over the guarded modules."""
    by_module: dict[str, Score] = {}
    total, guarded = Score(), Score()
    for outcome in outcomes:
        equivalent = left_out(outcome.name, equivalents) is not None
        for score in (by_module.setdefault(outcome.module, Score()), total):
            score.add(outcome, equivalent)
        if outcome.module.startswith(GUARDED):
            guarded.add(outcome, equivalent)
    return by_module, total, guarded


def render(outcomes: list[Outcome], equivalents: Mapping[str, str]) -> str:
    by_module, total, guarded = scores(outcomes, equivalents)
    lines = [
        "# Mutation report",
        "",
        "Score: killed / (killed + survived); the mutants listed as left out (below) and "
        "those not run do not count.",
        "",
        "| module | mutants | run | killed | survived | left out | score |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = [*sorted(by_module.items()), ("store, cursor, API", guarded), ("all", total)]
    for module, score in rows:
        generated = score.checked + score.equivalent + score.unchecked
        lines.append(
            f"| {module} | {generated} | {generated - score.unchecked} | {score.killed} | "
            f"{score.survived} | {score.equivalent} | {score.percent:.1f} % |"
        )
    survivors = [o for o in outcomes if o.verdict in {"survived", "suspicious"}]
    lines += ["", "## Surviving mutants (`mutmut show NAME` prints each change)", ""]
    shown = [f"- `{o.name}` ({o.verdict})" for o in survivors if not left_out(o.name, equivalents)]
    lines += shown or ["none"]
    lines += ["", "## Left out of the score (tools/mutation_equivalents.toml)", ""]
    lines += [f"- `{name}`: {reason}" for name, reason in sorted(equivalents.items())] or ["none"]
    # An entry (a name or a glob) that covers a mutant the tests now kill.
    stale = sorted(
        {
            entry
            for o in outcomes
            if o.verdict == "killed" and (entry := left_out(o.name, equivalents))
        }
    )
    if stale:
        lines += ["", "Listed, but killed now (take them off the list):", ""]
        lines += [f"- `{name}`" for name in stale]
    return "\n".join(lines) + "\n"


def run(names: list[str], sample: str | None, budget_minutes: float, max_children: int) -> int:
    """Run mutmut with one DynamoDB Local for every mutant; stop it at the time budget."""
    use_local_credentials()
    names = [*names, f"service.*[{sample}]"] if sample else names
    with DynamoDBLocal() as local:
        environment = {
            **os.environ,
            "EVENTS_TEST_DYNAMODB_ENDPOINT": local.endpoint_url,
            # The mutants' copy of local/ lives under mutants/: keep using this jar.
            "EVENTS_DYNAMODB_LOCAL_HOME": str(CACHE_DIR.resolve()),
        }
        command = [*MUTMUT, "run", "--max-children", str(max_children), *names]
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=environment)  # noqa: S603
        try:
            return process.wait(timeout=budget_minutes * 60)
        except subprocess.TimeoutExpired:
            # mutmut saves every result so far on an interrupt; a later run resumes.
            print(f"mutation: time budget of {budget_minutes:g} min spent, stopping mutmut")
            process.send_signal(signal.SIGINT)
            process.wait(timeout=120)
            return 0


def report(floor: float, out: Path) -> int:
    outcomes = load_outcomes()
    if not outcomes:
        print("mutation: no results under mutants/; run `make mutation` first", file=sys.stderr)
        return 2
    equivalents = load_equivalents()
    text = render(outcomes, equivalents)
    out.write_text(text)
    print(text)
    _, _, guarded = scores(outcomes, equivalents)
    verdicts = Counter(o.verdict for o in outcomes)
    print(f"mutation: {dict(verdicts)}; report in {out}")
    if guarded.percent < floor:
        print(
            f"mutation: store, cursor and API score {guarded.percent:.1f} % is below the "
            f"floor of {floor:g} %",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutation", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run mutmut over the deployed modules")
    run_parser.add_argument("names", nargs="*", help="only these mutants (globs allowed)")
    run_parser.add_argument("--sample", help="only mutants whose number ends in these digits")
    run_parser.add_argument("--budget-minutes", type=float, default=120.0)
    run_parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    report_parser = commands.add_parser("report", help="score per module, and the survivors")
    report_parser.add_argument("--floor", type=float, default=0.0)
    report_parser.add_argument("--out", type=Path, default=MUTANTS / "report.md")
    arguments = parser.parse_args(argv)
    if arguments.command == "run":
        if arguments.sample is not None and not arguments.sample.isdigit():
            parser.error("--sample takes digits, such as 147")
        return run(
            arguments.names, arguments.sample, arguments.budget_minutes, arguments.max_children
        )
    return report(arguments.floor, arguments.out)


if __name__ == "__main__":
    sys.exit(main())
