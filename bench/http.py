"""HTTP: the app under uvicorn (one worker), loaded by wrk over loopback.

wrk (Debian's `wrk` package) is a C load generator: on a 2-core machine that also runs
DynamoDB Local and the server, a Python generator would take a large share of the CPU it
measures. Its Lua script sends the mixed workload of `bench.workload.MIX` (reads of known
events, the first page of a status, partial updates, creates of new events) over keep-alive
connections; any answer of 400 or more, any socket error or time-out counts as an error.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.child import EVENT_ID, BenchError
from bench.data import LISTED_STATUS
from bench.workload import MIX, NEW_EVENT, PAGE_SIZE, UPDATE
from local.server_process import uvicorn_process

WRK_THREADS = 2

LUA_SCRIPT = """
local ids = {%(ids)s}
local mix = {%(mix)s}
local new_event = %(new_event)s
local update = %(update)s
local json_headers = {["Content-Type"] = "application/json"}
local list_path = "/events?status=%(status)s&limit=%(page_size)d"
local sent = 0

function setup(thread)
  thread_number = (thread_number or 0) + 1
  thread:set("prefix", "%(run)s-" .. thread_number .. "-")
end

function request()
  sent = sent + 1
  local kind = mix[sent %% #mix + 1]
  local id = ids[(sent * 7919) %% #ids + 1]
  if kind == "get" then
    return wrk.format("GET", "/events/" .. id)
  elseif kind == "list" then
    return wrk.format("GET", list_path)
  elseif kind == "update" then
    return wrk.format("PATCH", "/events/" .. id, json_headers, update)
  end
  local body = new_event:gsub("%(token)s", prefix .. sent)
  return wrk.format("POST", "/events", json_headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "errors": %%d, "status_errors": %%d, ' ..
    '"p50_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    e.status, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII text is a valid Lua string


def wrk_script(event_ids: Sequence[str], run: str) -> str:
    return LUA_SCRIPT % {
        "ids": ", ".join(_lua_string(event_id) for event_id in event_ids),
        "mix": ", ".join(_lua_string(kind) for kind in MIX),
        "new_event": _lua_string(json.dumps(NEW_EVENT)),
        "update": _lua_string(json.dumps(UPDATE)),
        "status": LISTED_STATUS,
        "page_size": PAGE_SIZE,
        "run": run,
        "token": EVENT_ID,
    }


def _run_wrk(
    wrk: str, url: str, event_ids: Sequence[str], connections: int, seconds: float
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        # A run label of its own: this run's creates never collide with an earlier run's.
        script = Path(folder, "mix.lua")
        script.write_text(wrk_script(event_ids, run=f"http{time.time_ns()}"))
        completed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [
                wrk,
                f"-t{min(WRK_THREADS, connections)}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            timeout=seconds + 60,
            check=False,
        )
    output = completed.stdout.decode()
    if completed.returncode != 0 or not output.strip():
        raise BenchError(f"wrk failed:\n{completed.stderr.decode()[-2000:]}")
    counts: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return {
        "connections": connections,
        "requests": counts["requests"],
        "requests_per_second": counts["requests"] / (counts["duration_us"] / 1e6),
        "errors": counts["errors"],
        "status_errors": counts["status_errors"],
        "p50_ms": counts["p50_us"] / 1000,
        "p99_ms": counts["p99_us"] / 1000,
        "max_ms": counts["max_us"] / 1000,
    }


def measure(
    env: Mapping[str, str],
    event_ids: Sequence[str],
    connection_levels: Sequence[int],
    seconds: float,
) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="bench-http-") as folder:
        log = Path(folder, "uvicorn.log")
        with uvicorn_process(env, log) as url:
            _run_wrk(wrk, url, event_ids, connection_levels[0], min(seconds, 3))  # warm-up
            levels = [
                _run_wrk(wrk, url, event_ids, connections, seconds)
                for connections in connection_levels
            ]
        server_log = log.read_text(errors="replace").splitlines()
    return {"wrk": wrk, "seconds": seconds, "levels": levels, "server_log": server_log[-20:]}
