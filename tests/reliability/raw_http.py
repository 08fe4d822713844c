"""HTTP/1.1 over a bare socket: requests exactly as written, which no client library sends.

httpx and browsers normalise paths (`/events/../x` becomes `/x`) and refuse bytes that a
hostile client sends anyway; this sends the request line, headers and body verbatim.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 30.0
SLICE_BYTES = 16 * 1024


@dataclass
class RawResponse:
    status_code: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


def raw_request(
    url: str,
    method: str,
    target: bytes | str,
    headers: Mapping[str, str] | None = None,
    body: bytes | Iterable[bytes] = b"",
) -> RawResponse:
    """Send one request on a fresh connection; a non-bytes body goes out chunked."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target_bytes = target.encode() if isinstance(target, str) else target
    lines = [method.encode() + b" " + target_bytes + b" HTTP/1.1", f"Host: {host}:{port}".encode()]
    lines += [f"{name}: {value}".encode() for name, value in (headers or {}).items()]
    lines.append(b"Connection: close")
    if isinstance(body, bytes):
        if body or method in {"POST", "PUT", "PATCH"}:
            lines.append(f"Content-Length: {len(body)}".encode())
        chunks: Iterable[bytes] = [body]
    else:
        lines.append(b"Transfer-Encoding: chunked")
        chunks = (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for chunk in body)
        chunks = [*chunks, b"0\r\n\r\n"]
    with socket.create_connection((host, port), timeout=TIMEOUT_SECONDS) as connection:
        connection.sendall(b"\r\n".join(lines) + b"\r\n\r\n")
        _send_until_answered(connection, chunks)
        return _read_response(connection)


def _send_until_answered(connection: socket.socket, chunks: Iterable[bytes]) -> None:
    """Send the body in slices, stopping as soon as the server answers (a 413 comes early)."""
    try:
        for chunk in chunks:
            for start in range(0, len(chunk), SLICE_BYTES):
                if select.select([connection], [], [], 0)[0]:
                    return
                connection.sendall(chunk[start : start + SLICE_BYTES])
    except (BrokenPipeError, ConnectionResetError):
        return


def _read_response(connection: socket.socket) -> RawResponse:
    received = b""
    with contextlib.suppress(ConnectionResetError):  # after an early answer, a reset may follow
        while chunk := connection.recv(65536):
            received += chunk
    head, _, content = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        content = _dechunk(content)
    return RawResponse(int(status_line.split()[1]), headers, content)


def _dechunk(data: bytes) -> bytes:
    content = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        content, data = content + data[:size], data[size + 2 :]
    return content
