"""Opaque, tamper-evident pagination cursors.

A cursor is `base64url(json payload) "." base64url(hmac)`. The HMAC key comes from
configuration so that every Lambda instance accepts every other instance's cursors: a
per-process random key would break pagination the moment a second instance answers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from service.errors import InvalidCursor
from service.field_errors import in_words

MAX_CURSOR_LENGTH = 4096
CURSOR_PATTERN = in_words(
    r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$", "must be the nextCursor of a page, unchanged"
)
_MAC_BYTES = 16


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"events-api cursor\x00" + secret.encode()).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, state: dict[str, Any]) -> str:
        payload = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64encode(payload)}.{_b64encode(self._mac(payload))}"

    def decode(self, cursor: str) -> dict[str, Any]:
        invalid = InvalidCursor("The cursor was not issued by this API or has been altered.")
        if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
            raise invalid
        payload_text, mac_text = cursor.split(".")
        try:
            payload = _b64decode(payload_text)
            mac = _b64decode(mac_text)
        except (binascii.Error, ValueError):
            raise invalid from None
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise invalid
        try:
            state = json.loads(payload)
        except ValueError:
            raise invalid from None
        if not isinstance(state, dict):
            raise invalid
        return state
