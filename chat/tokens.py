"""Visitor tokens: long random secrets, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    # 32 bytes = 256 bits: unguessable, and unrelated to the public session id.
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(value: str) -> bool:
    return 20 <= len(value) <= 100 and value.isascii()
