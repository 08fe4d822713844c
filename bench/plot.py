"""The results as one picture: latency distributions, and cost against table size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display needed

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

MIB = 1024 * 1024
SERVICE, FLOOR, REFERENCE = "tab:blue", "tab:gray", "tab:orange"


def _no_data(axes: Axes, title: str, figure: dict[str, Any]) -> None:
    axes.set_title(title)
    axes.text(0.5, 0.5, figure.get("error", "not measured")[:80], ha="center", wrap=True)
    axes.set_axis_off()


def _cold_start(axes: Axes, figure: dict[str, Any]) -> None:
    samples = figure["samples"]
    names = ["service", "floor", "botocore"]
    axes.boxplot([samples[name] for name in names], whis=(0, 100))
    axes.set_xticks([1, 2, 3], ["service", "floor\n(boto3)", "botocore\nonly"])
    axes.set_ylabel("ms to the response")
    axes.set_title(f"Cold start, {len(samples['service'])} processes each")


def _warm_get(axes: Axes, figure: dict[str, Any]) -> None:
    samples = figure["samples"]
    top = max(figure["service"]["p99"], figure["floor"]["p99"]) * 1.5
    bins = [top * step / 60 for step in range(61)]
    for name, colour in (("service", SERVICE), ("floor", FLOOR)):
        ratio = f", {figure['median_ratio']:.3f}x" if name == "service" else ""
        axes.hist(
            [min(value, top) for value in samples[name]],
            bins=bins,
            alpha=0.6,
            color=colour,
            label=f"{name}: median {figure[name]['median']:.2f} ms{ratio}",
        )
    axes.set_xlabel("ms per invocation (last bin: everything above)")
    axes.set_title("Warm GET /events/{id}")
    axes.legend(fontsize="small")


def _list_series(figure: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The three ways of reading a page: key in each size's result, label, colour."""
    return [
        ("service", f"service, S = {figure['shards']}", SERVICE),
        ("service_unsharded", "service, S = 1", REFERENCE),
        ("floor", "floor: one Query", FLOOR),
    ]


def _by_table_size(axes: Axes, figure: dict[str, Any], ylabel: str, title: str) -> None:
    sizes = [size["events"] for size in figure["sizes"]]
    axes.set_xscale("log")
    axes.set_xticks(sizes, [f"{size:,}" for size in sizes])
    axes.minorticks_off()
    axes.set_ylim(bottom=0)
    axes.set_xlabel("events in the table")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.legend(fontsize="small")


def _list_latency(axes: Axes, figure: dict[str, Any]) -> None:
    sizes = [size["events"] for size in figure["sizes"]]
    for key, label, colour in _list_series(figure):
        medians = [size[key]["median"] for size in figure["sizes"]]
        p99s = [size[key]["p99"] for size in figure["sizes"]]
        axes.plot(sizes, medians, marker="o", color=colour, label=f"{label} (median)")
        axes.plot(sizes, p99s, linestyle=":", color=colour)
    _by_table_size(
        axes, figure, "ms per page (dotted: p99)", f"List page, limit {figure['page_size']}"
    )


def _list_capacity(axes: Axes, figure: dict[str, Any]) -> None:
    sizes = [size["events"] for size in figure["sizes"]]
    for key, label, colour in _list_series(figure):
        units = [size["capacity"][key]["capacity_units"] for size in figure["sizes"]]
        axes.plot(sizes, units, marker="o", color=colour, label=label)
    _by_table_size(axes, figure, "read capacity units per page", "Capacity per list page")


def _memory(axes: Axes, figure: dict[str, Any]) -> None:
    for name, colour in (("service", SERVICE), ("floor", FLOOR)):
        points = figure[name]["resident"]
        axes.plot(
            [number for number, _ in points],
            [resident / MIB for _, resident in points],
            color=colour,
            label=f"{name}: peak {figure[name]['peak'] / MIB:.0f} MiB",
        )
    axes.set_ylim(bottom=0)
    axes.set_xlabel("invocations")
    axes.set_ylabel("resident set, MiB")
    axes.set_title(f"Memory, mixed workload (peak ratio {figure['peak_ratio']:.2f})")
    axes.legend(fontsize="small")


def _http(axes: Axes, figure: dict[str, Any]) -> None:
    levels = figure["levels"]
    labels = [f"{level['connections']} conns" for level in levels]
    bars = axes.bar(labels, [level["requests_per_second"] for level in levels], color=SERVICE)
    for bar, level in zip(bars, levels, strict=True):
        axes.annotate(
            f"p50 {level['p50_ms']:.0f} ms\np99 {level['p99_ms']:.0f} ms\n{level['errors']} errors",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="top",
            color="white",
            fontsize="small",
        )
    axes.set_ylabel("requests per second")
    axes.set_title("HTTP: uvicorn, 1 worker, mixed")


def _footprint(axes: Axes, figure: dict[str, Any]) -> None:
    packages = list(figure["packages"].items())[:8]
    axes.barh([name for name, _ in packages][::-1], [size / MIB for _, size in packages][::-1])
    axes.set_xlabel("MiB")
    axes.set_title(f"Image dependencies: {figure['bytes'] / MIB:.1f} MiB")


def _import_layers(axes: Axes, figure: dict[str, Any]) -> None:
    layers = figure.get("import_layers")
    if not layers:
        _no_data(axes, "Cold start by import layer", {"error": "full run only"})
        return
    names = list(layers)[::-1]
    axes.barh(names, [layers[name] for name in names], color=SERVICE)
    axes.axvline(figure["floor"]["median"], color=FLOOR, linestyle="--", label="floor, whole")
    axes.set_xlabel("ms to the end of the imports, median")
    axes.set_title("Cold start by import layer")
    axes.tick_params(axis="y", labelsize="small")
    axes.legend(fontsize="small")


PANELS = [
    ("cold_start", "Cold start", _cold_start),
    ("warm_get", "Warm GET", _warm_get),
    ("list_page", "List page", _list_latency),
    ("list_page", "Capacity per page", _list_capacity),
    ("memory", "Memory", _memory),
    ("http", "HTTP", _http),
    ("footprint", "Image dependencies", _footprint),
    ("cold_start", "Cold start by import layer", _import_layers),
]


def draw(results: dict[str, Any], path: Path) -> None:
    figure, grid = plt.subplots(2, 4, figsize=(18, 8))
    for axes, (name, title, panel) in zip(grid.flat, PANELS, strict=False):
        measured = results["figures"].get(name, {})
        if not measured or "error" in measured:
            _no_data(axes, title, measured)
        else:
            panel(axes, measured)
    machine = results["machine_before"]
    figure.suptitle(
        f"events-api benchmark ({results['profile']['name']}), {results['started']}, "
        f"Python {machine['python']}, {machine['cpus']} CPUs, "
        f"load {machine['load_average'][0]:.1f}"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
