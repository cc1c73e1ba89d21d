"""Event blocks: a batch of events as the body of one ``event_blocks`` row (schema 2), and back.

One job: the exact bytes a block of events is stored as. A block's *body* (what its hash
covers) holds, for ``n`` events:

- ``n`` little-endian uint16: each event's kind, as an index into the kind table below;
- a pickle (protocol 5) of ``[table, values]``: ``table`` is ``[[kind, [field, ...]], ...]``,
  every kind the recording has met so far with its fields, ``t`` first, the others sorted;
  ``values`` holds one tuple per event, its fields in its kind's order.

Writing the field names into every block keeps each block readable alone and lets a block
outlive a change to an event class: a block whose names are not the class's fields is decoded
through the class's ``__init__`` (defaults filled in, or a ``CodecError`` that says why).

Why a pickle and not JSON: encoding a block is then a handful of C calls over the whole batch
(``map`` of ``attrgetter``, ``array``, one pickle) costing about 1 us per event, where JSON
spent 1-2 us per event escaping strings and formatting floats, and wrote twice the bytes (a
pickle refers to a repeated string instead of writing it again). Only plain values are written
(``_Pickler`` turns number and text subclasses, such as numpy's, into the plain type and
refuses anything else), and ``_Unpickler`` refuses every global but those plain types: reading
a block builds lists, tuples, dicts and plain values, and never runs code.
"""

from __future__ import annotations

import contextlib
import gc
import io
import operator
import pickle
import sys
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ambsim_gui.record import codec
from ambsim_gui.record.codec import CodecError
from ambsim_gui.sim import events as ev

PROTOCOL = 5
_BIG_ENDIAN = sys.byteorder == "big"
_PLAIN_TYPES = (bool, int, float, str)
_PLAIN_GLOBALS = {("builtins", t.__name__): t for t in _PLAIN_TYPES}


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside: for building many objects that form no cycles
    (a block's tuples, a session's events). Each allocation counts towards a collection, and
    a collection may walk the engine's whole heap: decoding a long session took half again as
    long with it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _Pickler(pickle.Pickler):
    """Writes plain values only; consulted for anything but exact builtin types."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, type) and obj in _PLAIN_TYPES:
            return NotImplemented  # the constructor named by a reduction below
        for plain in _PLAIN_TYPES:
            if isinstance(obj, plain):  # e.g. numpy.float64, a str enum
                return plain, (plain(obj),)
        item = getattr(obj, "item", None)  # other numpy scalars
        if callable(item):
            value = item()
            if type(value) in _PLAIN_TYPES:
                return type(value), (value,)
        raise TypeError(f"an event holds a {type(obj).__name__}, which a session cannot store")


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        plain = _PLAIN_GLOBALS.get((module, name))
        if plain is None:
            raise pickle.UnpicklingError(f"a block may not refer to {module}.{name}")
        return plain


def _dumps(value: Any) -> bytes:
    out = io.BytesIO()
    try:
        _Pickler(out, PROTOCOL).dump(value)
    except pickle.PicklingError as exc:
        raise TypeError(str(exc)) from None
    return out.getvalue()


def stored_names(cls: type[ev.Event]) -> tuple[str, ...]:
    """The fields of ``cls`` in the order a block stores them: ``t``, then the others sorted."""
    return ("t", *codec.field_names(cls)[0])


def _getter(names: tuple[str, ...]) -> Callable[[ev.Event], tuple[Any, ...]]:
    """The event's values in the order ``names``, always a tuple."""
    if len(names) > 1:
        return operator.attrgetter(*names)
    get_one = operator.attrgetter(names[0])  # alone, attrgetter gives the bare value

    def one(event: ev.Event) -> tuple[Any, ...]:
        return (get_one(event),)

    return one


@dataclass
class Content:
    """A block's body taken apart: what ``pack`` writes and ``unpack`` reads."""

    kinds: array[int]  # per event, an index into table
    table: list[list[Any]]  # [[kind, [field, ...]], ...]
    values: list[tuple[Any, ...]]  # per event, its fields in its kind's order

    @property
    def n(self) -> int:
        return len(self.kinds)


def _is_table(table: Any) -> bool:
    return isinstance(table, list) and all(
        isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], list)
        and all(isinstance(name, str) for name in entry[1])
        for entry in table
    )


def pack(content: Content) -> bytes:
    """A block's body; TypeError for a value a session cannot store."""
    if len(content.kinds) != len(content.values):
        raise ValueError("a block needs a kind for every event")
    kinds = content.kinds
    if _BIG_ENDIAN:
        kinds = array("H", kinds)
        kinds.byteswap()
    return kinds.tobytes() + _dumps([content.table, content.values])


def unpack(body: bytes, n: int) -> Content:
    """A body of ``n`` events taken apart (not yet events); CodecError when it is not one."""
    if n < 1 or len(body) < 2 * n:
        raise CodecError(f"a block of {n} events cannot be {len(body)} bytes long")
    kinds = array("H")
    kinds.frombytes(body[: 2 * n])
    if _BIG_ENDIAN:
        kinds.byteswap()
    try:
        content = _Unpickler(io.BytesIO(body[2 * n :])).load()
    except Exception as exc:  # noqa: BLE001 - any broken pickle is a bad block
        raise CodecError(f"the block does not unpickle: {exc}") from None
    if not isinstance(content, list) or len(content) != 2:
        raise CodecError("the block is not [table, values]")
    table, values = content
    if not _is_table(table) or not isinstance(values, list) or len(values) != n:
        raise CodecError(f"the block does not hold a kind table and {n} events")
    if max(kinds) >= len(table):
        raise CodecError("an event's kind is not in the block's table")
    return Content(kinds, table, values)


@dataclass(frozen=True)
class EncodedBlock:
    """A block ready to be chained and stored."""

    n: int
    t_first: float
    t_last: float
    body: bytes
    classes: frozenset[type[ev.Event]]  # the kinds it holds (is the shift's end among them?)


class BlockEncoder:
    """Encodes the blocks of one recording; its kind table grows as new kinds appear."""

    def __init__(self) -> None:
        self._index: dict[type[ev.Event], int] = {}
        self._getters: dict[type[ev.Event], Callable[[ev.Event], tuple[Any, ...]]] = {}
        self._table: list[list[Any]] = []

    def _learn(self, classes: Iterable[type[ev.Event]]) -> None:
        for cls in sorted(classes, key=lambda c: c.KIND):  # a stable order for a set
            names = stored_names(cls)
            self._index[cls] = len(self._table)
            self._getters[cls] = _getter(names)
            self._table.append([cls.KIND, list(names)])
        if len(self._table) > 0xFFFF:
            raise ValueError("more than 65535 kinds of event in one recording")

    def encode(self, events: list[ev.Event]) -> EncodedBlock:
        """The block of ``events`` (at least one); TypeError/ValueError for a value a
        session cannot store."""
        classes = list(map(type, events))
        present = frozenset(classes)
        if not present.issubset(self._index.keys()):
            self._learn(present.difference(self._index))
        kinds = array("H", map(self._index.__getitem__, classes))
        with paused_gc():
            values = list(map(operator.call, map(self._getters.__getitem__, classes), events))
            body = pack(Content(kinds, self._table, values))
        t_first, t_last = float(values[0][0]), float(values[-1][0])
        return EncodedBlock(len(events), t_first, t_last, body, present)


def compress(body: bytes) -> tuple[str, bytes]:
    """(compression, stored bytes) of a block's body: stored as it is. A pickle refers to a
    repeated string instead of writing it again, which keeps a block to about 40 bytes an
    event; zlib would take it to 20 for more time than the whole encoding."""
    return "none", body


def inflate(compression: str, data: bytes) -> bytes:
    """A block's body from its stored bytes; CodecError when they do not decompress."""
    if compression == "none":
        return bytes(data)
    if compression != "zlib":
        raise CodecError(f"unknown compression {compression!r}")
    try:
        return zlib.decompress(data)
    except zlib.error as exc:
        raise CodecError(f"the block does not decompress: {exc}") from None


# --- decoding ------------------------------------------------------------------------------------

Maker = Callable[[tuple[Any, ...]], ev.Event]
_MAKERS: dict[tuple[str, tuple[str, ...]], Maker] = {}


def _maker(kind: str, stored: tuple[str, ...]) -> Maker:
    """Rebuilds events of ``kind`` from value tuples in the order ``stored``."""
    found = _MAKERS.get((kind, stored))
    if found is not None:
        return found
    cls = ev.EVENT_TYPES.get(kind)
    if cls is None:
        raise CodecError(f"unknown event kind {kind!r}")
    width = len(stored)

    def checked(values: Any) -> tuple[Any, ...]:
        if type(values) is not tuple or len(values) != width:
            raise CodecError(f"{kind}: expected {width} values, found {values!r}")
        return values

    if frozenset(stored) == frozenset(stored_names(cls)):
        # the class's own fields: the same object as __init__ would make, without calling it
        # (events are frozen dataclasses of plain values), several times faster
        new = object.__new__

        def fast(values: Any) -> ev.Event:
            event = new(cls)
            event.__dict__.update(zip(stored, checked(values), strict=True))
            return event

        maker: Maker = fast
    else:

        def slow(values: Any) -> ev.Event:
            try:
                return cls(**dict(zip(stored, checked(values), strict=True)))
            except TypeError as exc:
                raise CodecError(f"{kind}: {exc}") from None

        maker = slow
    _MAKERS[(kind, stored)] = maker
    return maker


def decode(body: bytes, n: int) -> list[ev.Event]:
    """The ``n`` events of a block's body; CodecError when it is not one."""
    with paused_gc():
        content = unpack(body, n)
        makers = [_maker(kind, tuple(names)) for kind, names in content.table]
        return list(map(operator.call, map(makers.__getitem__, content.kinds), content.values))
