"""Paging cursors: opaque to clients, tamper-proof, bound to the query they continue.

A cursor holds where the next page starts (the range key of the last record served, which spells
the index's key layout) and how many pages came before. It is sealed with AES-256-GCM under a key
derived from the ``CURSOR_KEY`` secret, with the query's fingerprint as associated data: it opens
only for the query (collection, filters, order) it was issued for, and clients can neither read
nor forge one. Anything else given as a cursor is a 400.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from catalog.config import settings
from catalog.errors import BadRequest
from catalog.query import Query

_VERSION = b"\x01"
_NONCE_BYTES = 12
_KEY_LABEL = b"catalog paging cursor v1"


@dataclass(frozen=True)
class Position:
    after: str
    """The range key of the last record served, in the query's order."""
    pages: int = 1
    """How many pages were served before the one the cursor starts."""


def _cipher() -> Any:
    key = settings().cursor_key
    if key is None:
        raise RuntimeError("CURSOR_KEY is not set: list functions need it to seal paging cursors")
    return _aead(key.get_secret_value().encode())


@cache
def _aead(secret: bytes) -> Any:
    # Imported on first use: ~45 ms that only list requests pay, once per process.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest())


def seal(query: Query, position: Position) -> str:
    """The cursor of ``position`` for ``query``: URL-safe text."""
    nonce = os.urandom(_NONCE_BYTES)
    plain = json.dumps([position.after, position.pages], separators=(",", ":")).encode()
    sealed = _VERSION + nonce + _cipher().encrypt(nonce, plain, query.fingerprint())
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def unseal(query: Query, cursor: str) -> Position:
    """The position a cursor holds, if this API issued it for this query; else 400."""
    from cryptography.exceptions import InvalidTag

    try:
        sealed = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if sealed[:1] != _VERSION or len(sealed) <= 1 + _NONCE_BYTES:
            raise ValueError("unknown layout")
        nonce, ciphertext = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        after, pages = json.loads(_cipher().decrypt(nonce, ciphertext, query.fingerprint()))
        if not isinstance(after, str) or not isinstance(pages, int) or pages < 1:
            raise ValueError("unexpected content")
    except (ValueError, TypeError, binascii.Error, InvalidTag):
        raise BadRequest(
            "Invalid value for parameter 'cursor': not a cursor this API issued for this query "
            "(cursors are bound to the filters and order they were issued with)"
        ) from None
    return Position(after, pages)
