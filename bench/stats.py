"""Summaries of latency samples, and the ratios every figure is reported as."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def milliseconds(nanoseconds: int) -> float:
    """A duration in ms, to 0.1 µs: finer than any figure needs, and latest.json stays small."""
    return round(nanoseconds / 1e6, 4)


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: a value that was actually measured."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary(samples: Sequence[float]) -> dict[str, Any]:
    """Median, p99 and spread of samples given in milliseconds."""
    if not samples:
        raise ValueError("no samples to summarise")
    return {
        "n": len(samples),
        "median": statistics.median(samples),
        "p99": percentile(samples, 0.99),
        "min": min(samples),
        "max": max(samples),
    }


def ratio(value: float, floor: float) -> float:
    return value / floor if floor else math.inf


def compared(service: Sequence[float], floor: Sequence[float]) -> dict[str, Any]:
    """Both summaries, and the service's median and p99 as multiples of the floor's."""
    mine, theirs = summary(service), summary(floor)
    return {
        "service": mine,
        "floor": theirs,
        "median_ratio": ratio(mine["median"], theirs["median"]),
        "p99_ratio": ratio(mine["p99"], theirs["p99"]),
    }


def in_turns(
    calls: Mapping[str, Callable[[int], float]], warmup: int, requests: int, block: int
) -> dict[str, list[float]]:
    """Each call made `warmup + requests` times, numbered from 0, the calls taking turns in
    blocks of `block`, so a burst of load on the machine falls on each alike; the first
    `warmup` samples of each are dropped. A call takes its number and returns its ms."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    total = warmup + requests
    for start in range(0, total, block):
        for name, call in calls.items():
            for number in range(start, min(start + block, total)):
                elapsed = call(number)
                if number >= warmup:
                    samples[name].append(elapsed)
    return samples
