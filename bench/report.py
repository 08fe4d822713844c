"""The results as one table: each figure, its floor, the ratio, the target, and whether it holds.

python -m bench.report [bench/results/latest.json]   # the Markdown tables for bench/README.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench import idempotency

MIB = 1024 * 1024
COLD_START_TARGET, COLD_START_AIM = 1.5, 1.3
# SnapStart: the first request after the warm-up against a warm one of the same process.
RESTORE_FIRST_TARGET = 1.5
WARM_MEDIAN_TARGET, WARM_MEDIAN_AIM, WARM_P99_TARGET = 1.3, 1.1, 1.5
LIST_LATENCY_TARGET = 1.3
# "Flat": the largest table's page costs no more than the smallest's, within rounding.
FLAT_CAPACITY_TOLERANCE = 1.1
MEMORY_TARGET = 1.5
# "No growth": the resident set may move by a page cache's worth, not by a leak's.
GROWTH_TOLERANCE_BYTES = 1 * MIB


HEADER = ("figure", "service", "floor", "ratio", "target", "holds")


def _verdict(holds: bool) -> str:
    return "yes" if holds else "NO"


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


Row = tuple[str, str, str, str, str, str]


def _latency_row(
    label: str,
    figure: dict[str, Any],
    statistic: str,
    limit: float | None = None,
    aim: float | None = None,
) -> Row:
    """One statistic of a `bench.stats.compared` result, against a ratio limit if it has one."""
    ratio = figure[f"{statistic}_ratio"]
    target = "reported" if limit is None else f"<= {limit}"
    if aim is not None:
        target += f" (aim {aim})"
    return (
        label,
        _ms(figure["service"][statistic]),
        _ms(figure["floor"][statistic]),
        # Three decimals where a target is at stake, so that 1.302 never reads as 1.30.
        f"{ratio:.3f}" if limit is not None else f"{ratio:.2f}",
        target,
        "" if limit is None else _verdict(ratio <= limit),
    )


def _cold_start_rows(cold: dict[str, Any]) -> list[Row]:
    botocore = cold["botocore"]["median"]
    return [
        _latency_row("cold start, median", cold, "median", COLD_START_TARGET, COLD_START_AIM),
        _latency_row("cold start, p99", cold, "p99"),
        (
            "  vs a botocore-only process",
            "",
            _ms(botocore),
            f"{cold['botocore_median_ratio']:.2f}",
            "reference",
            "",
        ),
        *(_restore_rows(cold) if "restore" in cold else []),
    ]


def _restore_rows(cold: dict[str, Any]) -> list[Row]:
    restore = cold["restore"]
    warmed, restored = restore["warmed"], restore["restored"]
    to_warm = warmed["first_to_warm"]["median"]

    def versus(label: str, service: float, floor: float, ratio: float) -> Row:
        return (
            label,
            _ms(service) if service else "",
            _ms(floor) if floor else "",
            f"{ratio:.2f}",
            "reported",
            "",
        )

    def first_over_warm(kind: dict[str, Any]) -> str:
        return f"{_ms(kind['first']['median'])} / {_ms(kind['warm']['median'])}"

    unhooked = cold["phases"]["service"]["first_call_ms"]
    floor_first = cold["phases"]["floor"]["first_call_ms"]
    first = restored["first"]["median"]
    return [
        (
            "SnapStart: first GET / warm GET",
            first_over_warm(warmed),
            "",
            f"{to_warm:.3f}",
            f"<= {RESTORE_FIRST_TARGET}",
            _verdict(to_warm <= RESTORE_FIRST_TARGET),
        ),
        (
            "  after a restore: new connection",
            first_over_warm(restored),
            "",
            f"{restored['first_to_warm']['median']:.2f}",
            "reported",
            "",
        ),
        versus(
            "    vs a GET on a new connection",
            restored["fresh_connection"]["median"],
            0,
            restored["first_to_fresh"]["median"],
        ),
        versus("    floor, new connection / warm", 0, 0, restore["floor_fresh_to_warm"]["median"]),
        versus("    vs the first GET, no hooks", unhooked, 0, first / unhooked),
        versus("    vs the floor's first GetItem", 0, floor_first, first / floor_first),
        (
            "  hooks add to init (publish)",
            _ms(restore["hooks_ms"]["median"]),
            "",
            "",
            "reported",
            "",
        ),
    ]


def _warm_get_rows(warm: dict[str, Any]) -> list[Row]:
    return [
        _latency_row("warm GET, median", warm, "median", WARM_MEDIAN_TARGET, WARM_MEDIAN_AIM),
        _latency_row("warm GET, p99", warm, "p99", WARM_P99_TARGET),
    ]


def _list_page_rows(listing: dict[str, Any]) -> list[Row]:
    rows = []
    sizes = listing["sizes"]
    for size in sizes:
        label = f"list page, {size['events']:,} events"
        rows.append(_latency_row(f"{label}, median", size, "median", LIST_LATENCY_TARGET))
        rows.append(_latency_row(f"{label}, p99", size, "p99"))
        unsharded = size["service_unsharded"]["median"]
        rows.append(
            (
                "  S = 1, median",
                _ms(unsharded),
                _ms(size["floor"]["median"]),
                f"{unsharded / size['floor']['median']:.2f}",
                "reported",
                "",
            )
        )

    def units(key: str) -> list[float]:
        return [size["capacity"][key]["capacity_units"] for size in sizes]

    def joined(values: list[float]) -> str:
        return " / ".join(f"{value:g}" for value in values)

    service = units("service")
    rows.append(
        (
            "list page, read units",
            joined(service),
            joined(units("floor")),
            f"{service[-1] / units('floor')[-1]:.2f}",
            "flat by size",
            _verdict(max(service) <= min(service) * FLAT_CAPACITY_TOLERANCE),
        )
    )
    rows.append(("  S = 1, read units", joined(units("service_unsharded")), "", "", "reported", ""))
    return rows


def _memory_rows(memory: dict[str, Any]) -> list[Row]:
    service, floor = memory["service"], memory["floor"]
    ratio = memory["peak_ratio"]
    return [
        (
            f"memory, peak RSS after {memory['invocations']:,}",
            f"{service['peak'] / MIB:.1f} MiB",
            f"{floor['peak'] / MIB:.1f} MiB",
            f"{ratio:.2f}",
            f"<= {MEMORY_TARGET}",
            _verdict(ratio <= MEMORY_TARGET),
        ),
        (
            f"  growth {service['growth_from']:,} -> {memory['invocations']:,}",
            f"{service['growth_bytes'] / 1024:+.0f} KiB",
            f"{floor['growth_bytes'] / 1024:+.0f} KiB",
            "",
            f"none (< {GROWTH_TOLERANCE_BYTES // 1024} KiB)",
            _verdict(service["growth_bytes"] < GROWTH_TOLERANCE_BYTES),
        ),
    ]


def _http_rows(http: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for level in http["levels"]:
        rows.append(
            (
                f"HTTP, {level['connections']} connections",
                f"{level['requests_per_second']:.0f} req/s",
                "",
                "",
                f"0 errors ({level['errors']})",
                _verdict(level["errors"] == 0),
            )
        )
        latency = f"{_ms(level['p50_ms'])} / {_ms(level['p99_ms'])}"
        rows.append(("  p50 / p99", latency, "", "", "reported", ""))
    return rows


def _footprint_rows(size: dict[str, Any]) -> list[Row]:
    return [
        ("image dependencies", f"{size['bytes'] / MIB:.1f} MiB", "", "", "reported", ""),
        *(
            (f"  {item['package']}", f"{item['bytes'] / MIB:.1f} MiB", "", "", "largest", "")
            for item in size["largest"]
        ),
    ]


ROWS = {
    "cold_start": _cold_start_rows,
    "warm_get": _warm_get_rows,
    "list_page": _list_page_rows,
    "memory": _memory_rows,
    "http": _http_rows,
    "footprint": _footprint_rows,
    "idempotency": idempotency.rows,
}


def _rows(figures: dict[str, Any]) -> list[Row]:
    rows = []
    for name, rows_of in ROWS.items():
        figure = figures.get(name)
        if figure is None:
            continue
        if "error" in figure:
            rows.append((name, "FAILED", "", "", figure["error"].splitlines()[0][:40], "NO"))
        else:
            rows.extend(rows_of(figure))
    return rows


def table(results: dict[str, Any]) -> str:
    """The results as aligned plain text, for the terminal."""
    rows = [HEADER, *_rows(results["figures"])]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADER))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def missed_targets(results: dict[str, Any]) -> tuple[int, int]:
    """How many targets the results miss, of how many they are held to."""
    verdicts = [row[-1] for row in _rows(results["figures"]) if row[-1]]
    return verdicts.count(_verdict(False)), len(verdicts)


def markdown_table(results: dict[str, Any]) -> str:
    """The same rows as a Markdown table, for bench/README.md."""
    rows = [HEADER, ("---",) * len(HEADER), *_rows(results["figures"])]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def import_layers_table(results: dict[str, Any]) -> str:
    """The cold start's import layers as a Markdown table."""
    layers = results["figures"].get("cold_start", {}).get("import_layers")
    if not layers:
        return "(import layers are timed in full runs only)"
    rows = ["| a fresh process, to the end of its imports | ms, median |", "|---|---|"]
    rows += [f"| {name} | {milliseconds:.0f} |" for name, milliseconds in layers.items()]
    return "\n".join(rows)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/latest.json")
    results = json.loads(path.read_text())
    print(markdown_table(results), import_layers_table(results), sep="\n\n")
