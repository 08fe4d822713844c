"""The local server's own limits, over raw sockets against the real server process.

API Gateway refuses these in front of Lambda; locally local.http_server does, so a client
developed against `make run` meets the same walls (docs/reliability.md).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from infra.limits import REQUEST_HEAD_LIMIT
from local.server_process import uvicorn_process

READ_SECONDS = 1.0  # the server's deadline for a request to arrive whole, in this test
PATIENCE_SECONDS = 30.0  # how long the client waits for an answer: far longer than that


@pytest.fixture(scope="module")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    log = tmp_path_factory.mktemp("limits") / "server.log"
    arguments = ["--request-timeout", str(READ_SECONDS)]
    with uvicorn_process({"LOG_LEVEL": "WARNING"}, log, arguments) as url:
        parts = urlsplit(url)
        yield parts.hostname or "127.0.0.1", parts.port or 80


def _connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=PATIENCE_SECONDS)


def _read_until_closed(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (the test fails on a
    timeout: a connection the server keeps open)."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def _read_response(connection: socket.socket) -> bytes:
    """One whole response on a connection that stays open: its head, then its body."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.lower().split(b"\r\n")
        if line.startswith(b"content-length:")
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def _framed(response: bytes) -> tuple[dict[bytes, bytes], bytes]:
    """The headers and body of a whole answer whose Content-Length is its body's, exactly:
    a client reading by that length gets the body, and nothing is left over."""
    head, body = response.split(b"\r\n\r\n", 1)
    headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    headers = {name.lower(): value for name, value in headers.items()}
    assert int(headers[b"content-length"]) == len(body), response
    return headers, body


def _head(headers: list[bytes]) -> bytes:
    return b"\r\n".join([b"GET /health HTTP/1.1", b"Host: localhost", *headers]) + b"\r\n\r\n"


def test_a_kept_alive_connection_serves_several_requests(address: tuple[str, int]) -> None:
    with _connect(address) as connection:
        for _ in range(2):
            connection.sendall(_head([]))
            answer = _read_response(connection)
            assert _status(answer) == 200
            assert b"connection: close" not in answer.lower()


@pytest.mark.parametrize(
    "headers",
    [
        [b"X-Big: " + b"a" * 64 * 1024],
        [b"X-%d: v" % number for number in range(10_000)],
        [b"X-Just-Over: " + b"a" * REQUEST_HEAD_LIMIT],
    ],
    ids=["one-64-kb-header", "ten-thousand-headers", "just-over-the-limit"],
)
def test_a_request_head_over_api_gateways_limit_is_refused_and_closed(
    address: tuple[str, int], headers: list[bytes]
) -> None:
    with _connect(address) as connection:
        connection.sendall(_head(headers))
        response = _read_until_closed(connection)
    assert _status(response) == 431
    assert _framed(response)[1] == b"Request header fields too large."


def test_a_request_head_within_the_limit_is_served(address: tuple[str, int]) -> None:
    with _connect(address) as connection:
        connection.sendall(_head([b"X-Fits: " + b"a" * (REQUEST_HEAD_LIMIT - 200)]))
        assert _status(_read_response(connection)) == 200


def test_a_head_sent_in_pieces_is_refused_once_it_outgrows_the_limit(
    address: tuple[str, int],
) -> None:
    with _connect(address) as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        try:
            for _ in range(4):
                connection.sendall(b"X-Piece: " + b"a" * 4096 + b"\r\n")
        except OSError:
            pass  # the server may close while pieces are still going out
        response = _read_until_closed(connection)
    assert _status(response) == 400


@pytest.mark.parametrize(
    "partial",
    [
        b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Stalled: ",
        b"POST /events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"title": ',
        b"",
    ],
    ids=["half-a-head", "half-a-body", "nothing-at-all"],
)
def test_a_stalled_request_is_answered_408_and_closed(
    address: tuple[str, int], partial: bytes
) -> None:
    with _connect(address) as connection:
        connection.sendall(partial)
        response = _read_until_closed(connection)
    assert _status(response) == 408
    headers, body = _framed(response)
    assert body == b"The request did not arrive in time."
    assert (headers[b"connection"], headers[b"x-content-type-options"]) == (b"close", b"nosniff")


def test_transfer_encoding_with_content_length_is_answered_then_closed(
    address: tuple[str, int],
) -> None:
    """RFC 9112 section 6.3: chunked wins, and the connection closes after the answer."""
    request = (
        b"GET /health HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Length: 5\r\n\r\n0\r\n\r\n"
    )
    with _connect(address) as connection:
        connection.sendall(request)
        response = _read_until_closed(connection)
    assert _status(response) == 200
    assert b"\r\nconnection: close\r\n" in response.lower()
