"""Intake declarations: strict validation of a declaration into a :class:`Consignment`.

A declaration arrives as JSON from the National Single Window. It is checked
completely before anything is created, and every problem is reported at once
with its field path (``goods.temperature_c.min``), so the sender can fix the
message in one round trip. Unknown fields are rejected rather than ignored: a
misspelt ``lab_certificate`` must not silently drop a durian's lab results.

Expected shape (optional fields marked ``?``)::

    {
      "id": "VN-2026-000123",
      "container_number": "CSQU 305438 3",
      "seal_number": "ML-1234567",
      "goods": {"category": "fruit", "fruit_kind": "durian",
                "temperature_c?": {"min": 2, "max": 5}},
      "direction": "export",
      "corridor": "huu-nghi",
      "customs_declaration": "305123456789",
      "gross_weight_kg": 24500,
      "priority?": 0,
      "quarantine_certificate?": "KD-2026-0042",
      "lab_certificates?": {"cadmium": "LAB-1", "auramine_o": "LAB-2"}
    }

:func:`same_declaration` and :func:`conflicting_fields` make intake idempotent:
the same message twice creates one consignment, and a resend that changes
something is rejected with the fields that differ.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from fleet.cargo.consignments import (
    MAX_GROSS_WEIGHT_KG,
    Consignment,
    ConsignmentError,
    Direction,
    FruitKind,
    Goods,
    GoodsCategory,
    LabTest,
)
from fleet.cargo.iso6346 import ContainerNumberError, validate_container_number

FIELDS = frozenset(
    {
        "id",
        "container_number",
        "seal_number",
        "goods",
        "direction",
        "corridor",
        "customs_declaration",
        "gross_weight_kg",
        "priority",
        "quarantine_certificate",
        "lab_certificates",
    }
)
REQUIRED = frozenset(FIELDS - {"priority", "quarantine_certificate", "lab_certificates"})
GOODS_FIELDS = frozenset({"category", "fruit_kind", "temperature_c"})
TEMPERATURE_FIELDS = frozenset({"min", "max"})

CONSIGNMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
SEAL_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9-]{2,19}")  # as printed on an ISO 17712 seal
CUSTOMS_DECLARATION = re.compile(r"\d{12}")  # Vietnamese customs (VNACCS) declaration number
MAX_TEXT = 64
PRIORITY_RANGE = (0, 9)  # 0 normal ... 9 most urgent
# Reefer set points that make sense: frozen durian travels at -18 °C, fresh fruit at 2-15 °C.
TEMPERATURE_BOUNDS_C = {
    GoodsCategory.FRUIT: (-30.0, 30.0),
    GoodsCategory.ELECTRONICS: (-40.0, 60.0),
}


class DeclarationError(ValueError):
    """A declaration rejected; ``problems`` lists every (field path, what is wrong)."""

    def __init__(self, declaration_id: str | None, problems: list[tuple[str, str]]) -> None:
        self.declaration_id = declaration_id
        self.problems = problems
        who = f"declaration {declaration_id!r}" if declaration_id else "declaration"
        n = len(problems)
        listed = "; ".join(f"{path}: {msg}" if path else msg for path, msg in problems)
        super().__init__(f"{who} rejected ({n} problem{'s' if n != 1 else ''}): {listed}")


def parse_declaration(data: object, *, corridors: Collection[str], now: float) -> Consignment:
    """Validate ``data`` (a decoded JSON object) into a consignment in state ``declared``.

    ``corridors`` are the known corridor ids; ``now`` becomes ``declared_at``.
    Raises :class:`DeclarationError` listing every problem found.
    """
    p = _Problems()
    if not isinstance(data, Mapping):
        p.add("", f"a declaration must be a JSON object, got {_kind(data)}")
        raise DeclarationError(None, p.items)
    for key in sorted(set(data) - FIELDS, key=str):
        p.add(str(key), "unknown field")
    for key in sorted(REQUIRED):
        if data.get(key) is None:
            p.add(key, "required field is missing")

    cid = _text(p, data, "id", pattern=CONSIGNMENT_ID, hint="letters, digits, '.', '_', '-'")
    container = None
    raw_container = data.get("container_number")
    if raw_container is not None:
        try:
            container = validate_container_number(raw_container)
        except ContainerNumberError as e:
            p.add("container_number", str(e))
    seal = _text(p, data, "seal_number", pattern=SEAL_NUMBER, upper=True, hint="3-20 of A-Z 0-9 -")
    goods = _goods(p, data.get("goods"))
    direction = _choice(p, data, "direction", Direction)
    corridor = _text(p, data, "corridor")
    if corridor is not None and corridor not in corridors:
        known = ", ".join(sorted(corridors)) or "none configured"
        p.add("corridor", f"unknown corridor {corridor!r} (known: {known})")
        corridor = None
    customs = _text(p, data, "customs_declaration", pattern=CUSTOMS_DECLARATION, hint="12 digits")
    weight = _number(p, data, "gross_weight_kg")
    if weight is not None and not (0.0 < weight <= MAX_GROSS_WEIGHT_KG):
        p.add("gross_weight_kg", f"{weight:g} kg is outside (0, {MAX_GROSS_WEIGHT_KG:.0f}] kg")
        weight = None
    priority = _priority(p, data.get("priority"))
    quarantine = _text(p, data, "quarantine_certificate", required=False)
    labs = _lab_certificates(p, data.get("lab_certificates"))

    if p.items:
        raise DeclarationError(cid, p.items)
    assert cid and container and seal and goods and direction and corridor and customs and weight
    try:
        return Consignment(
            id=cid,
            container_number=container,
            seal_number=seal,
            goods=goods,
            direction=direction,
            corridor=corridor,
            customs_declaration=customs,
            gross_weight_kg=weight,
            declared_at=now,
            priority=priority,
            quarantine_certificate=quarantine,
            lab_certificates=labs,
        )
    except ConsignmentError as e:  # defensive: the checks above should have caught it
        raise DeclarationError(cid, [("", str(e))]) from None


# -- idempotency --------------------------------------------------------------


def canonical_declaration(data: Mapping[str, Any]) -> dict[str, object]:
    """Flatten ``data`` to ``{field path: normalised value}`` for comparison.

    Spelling that does not change meaning is normalised (container number spaces
    and case, enum case, surrounding whitespace, 24500 vs 24500.0); absent and
    null are the same; a missing priority is the default 0.
    """
    flat: dict[str, object] = {}
    _flatten(data, "", flat)
    flat.setdefault("priority", 0)
    return flat


def conflicting_fields(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Field paths whose normalised values differ between two declarations, sorted."""
    ca, cb = canonical_declaration(a), canonical_declaration(b)
    return sorted(k for k in ca.keys() | cb.keys() if ca.get(k) != cb.get(k))


def same_declaration(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """True if ``b`` is a resend of ``a`` (same meaning), so it must not create a second one."""
    return not conflicting_fields(a, b)


_LOWER = frozenset({"direction", "corridor", "goods.category", "goods.fruit_kind"})


def _flatten(value: object, path: str, out: dict[str, object]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            key = str(k).strip()
            if path == "lab_certificates":
                key = key.lower()
            _flatten(v, f"{path}.{key}" if path else key, out)
        return
    if value is None:
        return
    out[path] = _normalise(path, value)


def _normalise(path: str, value: object) -> object:
    if isinstance(value, bool):
        return ("bool", value)  # keep True distinct from 1
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        s = value.strip()
        if path == "container_number":
            return re.sub(r"[\s\-]+", "", s).upper()
        if path == "seal_number":
            return s.upper()
        if path in _LOWER:
            return s.lower()
        return s
    if isinstance(value, list | tuple):
        return tuple(_normalise(path, v) for v in value)
    return repr(value)


# -- field checks -------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))


def _kind(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int | float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list | tuple):
        return "a list"
    if isinstance(v, Mapping):
        return "an object"
    return type(v).__name__


def _text(
    p: _Problems,
    data: Mapping[Any, Any],
    key: str,
    *,
    path: str | None = None,
    required: bool = True,
    pattern: re.Pattern[str] | None = None,
    upper: bool = False,
    hint: str = "",
) -> str | None:
    """A non-empty string field, stripped; None (and a problem, if required) otherwise."""
    where = path or key
    v = data.get(key)
    if v is None:
        return None  # a missing required field is reported once, by the caller
    if not isinstance(v, str):
        p.add(where, f"must be a string, got {_kind(v)}")
        return None
    s = v.strip().upper() if upper else v.strip()
    if not s:
        p.add(where, "must not be empty" if required else "must not be empty (omit it instead)")
        return None
    if len(s) > MAX_TEXT:
        p.add(where, f"is {len(s)} characters long; at most {MAX_TEXT}")
        return None
    if pattern is not None and not pattern.fullmatch(s):
        p.add(where, f"{s!r} is not valid" + (f" (expected {hint})" if hint else ""))
        return None
    return s


def _number(
    p: _Problems, data: Mapping[Any, Any], key: str, *, path: str | None = None
) -> float | None:
    where = path or key
    v = data.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        p.add(where, f"must be a number, got {_kind(v)}")
        return None
    if not math.isfinite(v):
        p.add(where, "must be a finite number")
        return None
    return float(v)


E = TypeVar("E", Direction, GoodsCategory, FruitKind)


def _choice(
    p: _Problems, data: Mapping[Any, Any], key: str, enum: type[E], *, path: str | None = None
) -> E | None:
    where = path or key
    s = _text(p, data, key, path=where)
    if s is None:
        return None
    try:
        return enum(s.lower())
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        p.add(where, f"{s!r} is not one of: {allowed}")
        return None


def _priority(p: _Problems, v: object) -> int:
    lo, hi = PRIORITY_RANGE
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, int):
        p.add("priority", f"must be a whole number, got {_kind(v)}")
        return 0
    if not lo <= v <= hi:
        p.add("priority", f"{v} is outside {lo}-{hi}")
        return 0
    return v


def _goods(p: _Problems, v: object) -> Goods | None:
    if v is None:
        return None
    if not isinstance(v, Mapping):
        p.add("goods", f"must be an object, got {_kind(v)}")
        return None
    for key in sorted(set(v) - GOODS_FIELDS, key=str):
        p.add(f"goods.{key}", "unknown field")
    if v.get("category") is None:
        p.add("goods.category", "required field is missing")
    category = _choice(p, v, "category", GoodsCategory, path="goods.category")
    kind = None
    if category is GoodsCategory.FRUIT:
        if v.get("fruit_kind") is None:
            p.add("goods.fruit_kind", "required for fruit")
        kind = _choice(p, v, "fruit_kind", FruitKind, path="goods.fruit_kind")
    elif category is not None and v.get("fruit_kind") is not None:
        p.add("goods.fruit_kind", f"only fruit has a fruit kind, not {category}")
    temps_ok, temps = _temperature(p, v.get("temperature_c"), category)
    if category is None or (category is GoodsCategory.FRUIT and kind is None) or not temps_ok:
        return None
    lo, hi = temps if temps else (None, None)
    return Goods(category, kind, lo, hi)


def _temperature(
    p: _Problems, v: object, category: GoodsCategory | None
) -> tuple[bool, tuple[float, float] | None]:
    """(valid, range): the range is None when absent; valid is False after any problem."""
    where = "goods.temperature_c"
    if v is None:
        return True, None
    if not isinstance(v, Mapping):
        p.add(where, f"must be an object {{min, max}}, got {_kind(v)}")
        return False, None
    n_before = len(p.items)
    for key in sorted(set(v) - TEMPERATURE_FIELDS, key=str):
        p.add(f"{where}.{key}", "unknown field")
    for key in ("min", "max"):
        if v.get(key) is None:
            p.add(f"{where}.{key}", "required field is missing")
    lo = _number(p, v, "min", path=f"{where}.min")
    hi = _number(p, v, "max", path=f"{where}.max")
    if lo is not None and hi is not None:
        if lo > hi:
            p.add(where, f"min {lo:g} °C is above max {hi:g} °C")
        if category is not None:
            bmin, bmax = TEMPERATURE_BOUNDS_C[category]
            for name, t in (("min", lo), ("max", hi)):
                if not bmin <= t <= bmax:
                    p.add(
                        f"{where}.{name}",
                        f"{t:g} °C is not a sane set point for {category} "
                        f"({bmin:g} to {bmax:g} °C)",
                    )
    if len(p.items) != n_before or lo is None or hi is None:
        return False, None
    return True, (lo, hi)


def _lab_certificates(p: _Problems, v: object) -> dict[LabTest, str]:
    where = "lab_certificates"
    if v is None:
        return {}
    if not isinstance(v, Mapping):
        p.add(where, f"must be an object {{test: certificate number}}, got {_kind(v)}")
        return {}
    out: dict[LabTest, str] = {}
    allowed = ", ".join(t.value for t in LabTest)
    for key in sorted(v, key=str):
        path = f"{where}.{key}"
        try:
            test = LabTest(str(key).strip().lower())
        except ValueError:
            p.add(path, f"unknown lab test (known: {allowed})")
            continue
        number = _text(p, v, key, path=path)
        if number is None and v[key] is None:
            p.add(path, "certificate number is null")
        if number is not None:
            out[test] = number
    return out
