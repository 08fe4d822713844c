"""How samples are taken: the measured kinds take turns in blocks, and the warm-up is dropped."""

from __future__ import annotations

from collections.abc import Callable

from bench.stats import in_turns


def test_calls_take_turns_in_blocks_and_the_warm_up_is_dropped() -> None:
    order: list[tuple[str, int]] = []

    def recorded(name: str) -> Callable[[int], float]:
        def call(number: int) -> float:
            order.append((name, number))
            return float(number)

        return call

    calls = {"service": recorded("service"), "floor": recorded("floor")}
    samples = in_turns(calls, warmup=2, requests=3, block=2)

    assert order == [
        ("service", 0),
        ("service", 1),
        ("floor", 0),
        ("floor", 1),
        ("service", 2),
        ("service", 3),
        ("floor", 2),
        ("floor", 3),
        ("service", 4),
        ("floor", 4),
    ]
    assert samples == {"service": [2.0, 3.0, 4.0], "floor": [2.0, 3.0, 4.0]}
