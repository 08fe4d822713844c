"""The weekly mutation job: scheduled, running `make mutation` with the Makefile's floor."""

from __future__ import annotations

import re

from local.paths import REPO_ROOT
from tests.github.test_workflows import WORKFLOWS, load, steps

MUTATION = WORKFLOWS / "mutation.yml"


def test_the_mutation_job_runs_weekly_through_make_mutation() -> None:
    workflow = load(MUTATION)
    (schedule,) = workflow["on"]["schedule"]
    *_, day_of_month, month, day_of_week = schedule["cron"].split()
    assert (day_of_month, month) == ("*", "*")
    assert day_of_week.isdigit()
    runs = [step.get("run", "") for step in steps(workflow)]
    assert any(run.startswith("make mutation") for run in runs)
    # The floor lives in the Makefile, so `make mutation` fails locally as in CI.
    floor = re.search(r"^MUTATION_FLOOR \?= (\d+)$", (REPO_ROOT / "Makefile").read_text(), re.M)
    assert floor is not None
    assert 0 < int(floor.group(1)) <= 100
    assert not any("MUTATION_FLOOR" in run for run in runs)


def test_make_test_leaves_mutation_testing_out() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    (test_recipe,) = re.findall(r"^test: .*\n((?:\t.*\n)+)", makefile, re.M)
    assert "mutation" not in test_recipe
