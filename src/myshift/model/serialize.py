"""Model <-> JSON-able dicts, and fingerprints.

Used for plan files and history snapshots.  ``fingerprint`` hashes only the
fields that take part in equality (``compare=True``), so two schemas have the
same fingerprint exactly when ``same_objects`` says they are equal (both ignore
the order of indexes, foreign keys and checks, see ``Schema.canonical``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import marshal
import operator
import struct
import types
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from myshift.model.schema import Event, Routine, Schema, Table, Trigger, View

T = TypeVar("T")


_FIELDS: dict[tuple[type, bool], tuple[str, ...]] = {}


def _field_names(cls: type, compare_only: bool) -> tuple[str, ...]:
    """Field names of a dataclass, cached: fingerprints walk ~10^6 objects."""
    key = (cls, compare_only)
    names = _FIELDS.get(key)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls) if f.compare or not compare_only)
        _FIELDS[key] = names
    return names


def to_dict(obj: Any, *, compare_only: bool = False) -> Any:
    cls = type(obj)
    if obj is None or cls in (str, int, bool, float):
        return obj
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, tuple | list):
        return [to_dict(x, compare_only=compare_only) for x in obj]
    if hasattr(cls, "__dataclass_fields__"):
        return {
            name: to_dict(getattr(obj, name), compare_only=compare_only)
            for name in _field_names(cls, compare_only)
        }
    return obj


def _identity(value: Any) -> Any:
    return value


_CONVERTERS: dict[Any, Callable[[Any], Any]] = {}


def _none_safe(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    if fn is _identity:
        return fn
    return lambda v: None if v is None else fn(v)


def _json_converter(tp: Any) -> Callable[[Any], Any]:
    """JSON value (not None) -> model value for a field type, built once per type.

    Deciding per value (get_origin, is_dataclass...) made reading a 1,000-table
    plan file take seconds; the decisions depend on the type only.
    """
    fn = _CONVERTERS.get(tp)
    if fn is not None:
        return fn
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        fn = _json_converter(members[0]) if len(members) == 1 else _identity
    elif origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _none_safe(_json_converter(args[0]))
        fn = _identity_tuple if item is _identity else lambda v: tuple(map(item, v))
    elif origin is tuple:
        items = [_none_safe(_json_converter(a)) for a in args]
        fn = lambda v: tuple(c(x) for c, x in zip(items, v, strict=True))  # noqa: E731
    elif isinstance(tp, type) and dataclasses.is_dataclass(tp):
        cls = tp
        fn = lambda v: from_dict(cls, v)  # noqa: E731
    elif isinstance(tp, type) and issubclass(tp, Enum):
        fn = tp
    else:
        fn = _identity
    _CONVERTERS[tp] = fn
    return fn


def _identity_tuple(value: Any) -> Any:
    return tuple(value)


_FROM_DICT: dict[type, tuple[tuple[str, Callable[[Any], Any]], ...]] = {}


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    fields = _FROM_DICT.get(cls)
    if fields is None:
        # get_type_hints evaluates every annotation again on each call: once per class.
        hints = get_type_hints(cls)
        fields = tuple(
            (f.name, _json_converter(hints[f.name]))
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        )
        _FROM_DICT[cls] = fields
    kwargs = {}
    for name, conv in fields:
        if name in data:
            value = data[name]
            kwargs[name] = None if value is None else conv(value)
    return cls(**kwargs)


def schema_to_json(schema: Schema) -> str:
    return json.dumps(to_dict(schema), sort_keys=True, separators=(",", ":"))


def schema_from_json(text: str) -> Schema:
    return from_dict(Schema, json.loads(text))


_GETTERS: dict[type, Any] = {}


def _structure(obj: Any) -> Any:
    """Nested tuples of the compare=True field values (C-speed attrgetter per class)."""
    cls = type(obj)
    if obj is None or cls in (str, int, bool, float):
        return obj
    if isinstance(obj, tuple | list):
        return tuple(_structure(x) for x in obj)
    if isinstance(obj, Enum):
        return obj.value
    getter = _GETTERS.get(cls)
    if getter is None:
        names = _field_names(cls, True)
        getter = (
            operator.attrgetter(*names)
            if len(names) > 1
            else (lambda o, n=names[0]: (getattr(o, n),))
        )
        _GETTERS[cls] = getter
    return tuple(_structure(v) for v in getter(obj))


# ---- compiled structure functions (the fingerprint's hot path)
#
# ``_structure`` above dispatches on every value, ~6x10^6 calls for 10,000
# tables.  The model's field types are known, so each class gets one function
# that fetches its compare=True fields with a C attrgetter and converts only
# the fields that need it (nested dataclasses, tuples of them, enums); strings,
# ints and tuples of them are already their own structure.  The result is
# identical to ``_structure`` of ``Schema.canonical()``.

_Conv = typing.Callable[[Any], Any]
_COMPILED: dict[type, _Conv] = {}

# The canonical order of a table's children (Schema.canonical): PRIMARY first.
_CANONICAL_KEYS: dict[str, _Conv] = {
    "indexes": lambda i: (not i.is_primary, i.name),
    "foreign_keys": operator.attrgetter("name"),
    "checks": operator.attrgetter("name"),
}


def _is_plain(tp: Any) -> bool:
    """Whether values of this type are their own structure (str/int/bool, tuples of them)."""
    if tp in (str, int, bool, float, type(None)):
        return True
    origin = get_origin(tp)
    if origin in (Union, types.UnionType, tuple):
        return all(a is Ellipsis or _is_plain(a) for a in get_args(tp))
    return False


def _converter(tp: Any, sort_key: _Conv | None) -> _Conv | None:
    """How to turn one field value into its structure; None when it already is."""
    if _is_plain(tp):
        return None
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if (
            len(members) == 1
            and isinstance(members[0], type)
            and dataclasses.is_dataclass(members[0])
        ):
            inner = _compiled(members[0])
            return lambda v: None if v is None else inner(v)
    elif origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        if isinstance(args[0], type) and dataclasses.is_dataclass(args[0]):
            inner = _compiled(args[0])
            if sort_key is not None:
                key = sort_key
                return lambda v: tuple(map(inner, sorted(v, key=key) if len(v) > 1 else v))
            return lambda v: tuple(map(inner, v))
    elif isinstance(tp, type) and issubclass(tp, Enum):
        return operator.attrgetter("value")
    return _structure  # anything else: the generic walk


def _compiled(cls: type) -> _Conv:
    fn = _COMPILED.get(cls)
    if fn is not None:
        return fn
    names = _field_names(cls, True)
    hints = get_type_hints(cls)
    canonical = cls.__name__ == "Table"
    convs = [
        (i, c)
        for i, name in enumerate(names)
        if (c := _converter(hints[name], _CANONICAL_KEYS.get(name) if canonical else None))
        is not None
    ]
    if len(names) == 1:
        name = names[0]
        conv = convs[0][1] if convs else None

        def fn(obj: Any) -> Any:
            v = getattr(obj, name)
            return (conv(v) if conv is not None else v,)

    else:
        getter = operator.attrgetter(*names)
        if not convs:
            fn = getter
        else:

            def fn(obj: Any) -> Any:
                values = list(getter(obj))
                for i, conv in convs:
                    values[i] = conv(values[i])
                return tuple(values)

    _COMPILED[cls] = fn
    return fn


# marshal format 2 writes a tuple as "(" + its length (int32, little-endian) +
# its items, with no references between objects: a tuple's bytes are the
# concatenation of its items' bytes, so per-object bytes can be cached.
_TUPLE = b"("


def _tuple_bytes(items: list[bytes]) -> bytes:
    return _TUPLE + struct.pack("<i", len(items)) + b"".join(items)


FingerprintCache = dict[int, tuple[object, bytes]]


def fingerprint(schema: Schema, cache: FingerprintCache | None = None) -> str:
    """sha256 over the structural fields of every object (not the schema name).

    The canonical form ignores the order of indexes, FKs and checks, like
    ``same_objects``.  Hashes nested tuples serialised by ``marshal`` format 2
    (C speed, 3x faster than their repr; format 2 has no object sharing, so
    equal values give equal bytes whichever objects hold them): ~10x faster
    than JSON over dicts, and stable for one myshift version (plan files
    carry the tool version and are re-made, not migrated).

    ``cache`` (by object identity; it keeps the objects alive) lets the two
    sides of a plan, which share most Table objects, serialise each once.
    """
    kinds = []
    for cls, objs in (
        (Table, schema.tables),
        (View, schema.views),
        (Routine, schema.routines),
        (Trigger, schema.triggers),
        (Event, schema.events),
    ):
        conv = _compiled(cls)
        items = []
        for obj in objs:
            hit = cache.get(id(obj)) if cache is not None else None
            if hit is None:
                hit = (obj, marshal.dumps(conv(obj), 2))
                if cache is not None:
                    cache[id(obj)] = hit
            items.append(hit[1])
        kinds.append(_tuple_bytes(items))
    return "sha256:" + hashlib.sha256(_tuple_bytes(kinds)).hexdigest()


__all__ = ["fingerprint", "from_dict", "schema_from_json", "schema_to_json", "to_dict"]
_ = typing  # keep the import for get_type_hints' forward references
