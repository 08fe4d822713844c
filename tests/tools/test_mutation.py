"""tools.mutation's report: scores from mutmut's result files, what is left out, the floor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import mutation

RESULTS = {
    "service/store/items.py.meta": {
        "service.store.items.x_rfc3339__mutmut_1": 1,
        "service.store.items.x_rfc3339__mutmut_2": 0,
        "service.store.items.x_new_event_id__mutmut_1": 0,
        "service.store.items.x_utc_now__mutmut_1": None,
    },
    "service/errors.py.meta": {
        "service.errors.x_http_problem__mutmut_1": 0,
        "service.errors.x_http_problem__mutmut_2": 36,
    },
}
LEFT_OUT = """
[equivalent]
"service.store.items.x_new_event_id__mutmut_1" = "a longer id"
[unobservable]
"service.errors.x_http_problem__*" = "runs at import"
"""


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, codes in RESULTS.items():
        meta = tmp_path / "mutants" / name
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(json.dumps({"exit_code_by_key": codes}))
    equivalents = tmp_path / "equivalents.toml"
    equivalents.write_text(LEFT_OUT)
    monkeypatch.setattr(mutation, "MUTANTS", tmp_path / "mutants")
    monkeypatch.setattr(mutation, "EQUIVALENTS", equivalents)
    return tmp_path


def test_the_score_leaves_out_listed_and_unrun_mutants(results: Path) -> None:
    outcomes = mutation.load_outcomes(results / "mutants")
    by_module, total, guarded = mutation.scores(outcomes, mutation.load_equivalents())
    items = by_module["service.store.items"]
    assert (items.killed, items.survived, items.equivalent, items.unchecked) == (1, 1, 1, 1)
    assert items.percent == 50.0
    # A timeout counts as killed; a listed survivor is left out by its glob.
    assert (by_module["service.errors"].killed, by_module["service.errors"].equivalent) == (1, 1)
    assert (guarded.killed, guarded.survived) == (1, 1)
    assert (total.killed, total.survived) == (2, 1)


def test_the_report_names_survivors_and_fails_below_the_floor(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = results / "report.md"
    assert mutation.main(["report", "--floor", "50", "--out", str(out)]) == 0
    text = out.read_text()
    assert "- `service.store.items.x_rfc3339__mutmut_2` (survived)" in text
    assert "`service.errors.x_http_problem__mutmut_1` (survived)" not in text
    assert "| store, cursor, API | 4 | 3 | 1 | 1 | 1 | 50.0 % |" in text
    # A listed glob that covers a mutant the tests now kill is named, to be narrowed.
    stale = text.split("Listed, but killed now", 1)[1]
    assert "- `service.errors.x_http_problem__*`" in stale
    assert mutation.main(["report", "--floor", "51", "--out", str(out)]) == 1
    assert "below the floor of 51 %" in capsys.readouterr().err


def test_a_report_without_results_says_to_run_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(mutation, "MUTANTS", tmp_path)
    assert mutation.main(["report", "--out", str(tmp_path / "report.md")]) == 2
    assert "make mutation" in capsys.readouterr().err
