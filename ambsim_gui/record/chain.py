"""Hash chains: each row's ``hash = sha256(prev_hash + canonical row content)``.

One job: define, byte for byte, what is hashed for each kind of row, so the recorder that
writes a chain and ``verify`` that walks it agree. Nothing is stored beyond each row's
``prev_hash`` and ``hash``; the head of every chain is derivable.

Every chain starts from the session's *genesis*: a hash of its immutable header (the meta
values written at creation, ``MUTABLE_META`` left out) and of the name and SHA-256 of every
stored scenario file. Changing the seed in ``meta``, or a byte of the stored scenario, therefore
breaks the first link of every chain. Each table's chain starts from
``sha256(genesis + table name)``, so rows cannot be moved from one table to another.

Row content is packed, not formatted: integers and floats as little-endian binary (exact and
cheap; a float's ``repr`` costs microseconds), text as UTF-8, fields separated by NUL bytes.

Schema 1 chains every event row; schema 2 chains blocks of events (``block_hash``, over the
block's uncompressed body, see ``blocks``): one hash per block instead of one per event.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable, Mapping
from typing import Any

from ambsim_gui.record.schema import MUTABLE_META

_DOMAIN = b"ambsim-session-chain/1\x00"
SEQ_T = struct.Struct("<qd")
_SEQ_T_T = struct.Struct("<qdd")
_BLOCK = struct.Struct("<qqdd")
_sha256 = hashlib.sha256


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def genesis(meta: Mapping[str, Any], resources: Iterable[tuple[str, str, str]]) -> bytes:
    """The session's root hash: immutable meta values and (kind, name, sha256) of each file."""
    header = {k: v for k, v in meta.items() if k not in MUTABLE_META}
    files = sorted([list(r) for r in resources])
    body = json.dumps([header, files], sort_keys=True, separators=(",", ":"))
    return _sha256(_DOMAIN + body.encode()).digest()


def start(genesis_hash: bytes, table: str) -> bytes:
    """The ``prev_hash`` of a table's first row."""
    return _sha256(genesis_hash + table.encode()).digest()


KIND_TAGS: dict[str, bytes] = {}
"""Event kind -> its bytes and a NUL, as schema 1 hashed it."""


def event_hash(prev: bytes, seq: int, t: float, kind: str, body: str) -> bytes:
    tag = KIND_TAGS.get(kind)
    if tag is None:
        tag = KIND_TAGS[kind] = kind.encode() + b"\x00"
    return _sha256(prev + SEQ_T.pack(seq, t) + tag + body.encode()).digest()


def block_hash(prev: bytes, seq: int, n: int, t_first: float, t_last: float, body: bytes) -> bytes:
    """The hash of a block of ``n`` events from event ``seq`` (schema 2)."""
    digest = _sha256(prev + _BLOCK.pack(seq, n, t_first, t_last))
    digest.update(body)  # apart: hashlib releases the GIL on large inputs
    return digest.digest()


def command_hash(prev: bytes, seq: int, t: float, wall: float, body: str) -> bytes:
    return _sha256(prev + _SEQ_T_T.pack(seq, t, wall) + body.encode()).digest()


def annotation_hash(
    prev: bytes,
    ident: int,
    t: float,
    call_id: str | None,
    author: str,
    text: str,
    created: float,
    supersedes: int | None,
) -> bytes:
    body = json.dumps(
        [call_id, author, text, supersedes], separators=(",", ":"), ensure_ascii=False
    )
    return _sha256(prev + _SEQ_T_T.pack(ident, t, created) + body.encode()).digest()
