"""Intake declarations: strict validation with field paths, and idempotent resends."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from fleet.cargo.consignments import (
    ConsignmentState,
    Direction,
    FruitKind,
    GoodsCategory,
    LabTest,
)
from fleet.cargo.declarations import (
    DeclarationError,
    canonical_declaration,
    conflicting_fields,
    parse_declaration,
    same_declaration,
)

CORRIDORS = frozenset({"huu-nghi", "tan-thanh"})


def durian() -> dict[str, Any]:
    return {
        "id": "VN-2026-000123",
        "container_number": "CSQU 305438 3",
        "seal_number": "ml-1234567",
        "goods": {
            "category": "fruit",
            "fruit_kind": "durian",
            "temperature_c": {"min": 2, "max": 5},
        },
        "direction": "export",
        "corridor": "huu-nghi",
        "customs_declaration": "305123456789",
        "gross_weight_kg": 24500,
        "priority": 3,
        "quarantine_certificate": "KD-2026-0042",
        "lab_certificates": {"cadmium": "LAB-CD-1", "auramine_o": "LAB-AO-1"},
    }


def chips() -> dict[str, Any]:
    return {
        "id": "CN-77",
        "container_number": "MSKU9070323",
        "seal_number": "CN0123456",
        "goods": {"category": "electronics"},
        "direction": "import",
        "corridor": "tan-thanh",
        "customs_declaration": "104000000001",
        "gross_weight_kg": 12000.5,
    }


def parse(data: object) -> Any:
    return parse_declaration(data, corridors=CORRIDORS, now=42.0)


def problems(data: object) -> list[tuple[str, str]]:
    with pytest.raises(DeclarationError) as e:
        parse(data)
    return e.value.problems


def test_full_declaration() -> None:
    c = parse(durian())
    assert c.state is ConsignmentState.DECLARED and c.history == []
    assert (c.id, c.container_number, c.seal_number) == (
        "VN-2026-000123",
        "CSQU3054383",
        "ML-1234567",
    )
    assert c.goods.category is GoodsCategory.FRUIT and c.goods.fruit_kind is FruitKind.DURIAN
    assert (c.goods.temp_min_c, c.goods.temp_max_c) == (2.0, 5.0)
    assert (c.direction, c.corridor) == (Direction.EXPORT, "huu-nghi")
    assert (c.gross_weight_kg, c.priority, c.declared_at) == (24500.0, 3, 42.0)
    assert c.quarantine_certificate == "KD-2026-0042"
    assert c.lab_certificates == {LabTest.CADMIUM: "LAB-CD-1", LabTest.AURAMINE_O: "LAB-AO-1"}
    assert not c.customs_cleared and not c.quarantine_cleared  # clearance comes later


def test_minimal_declaration_gets_defaults() -> None:
    c = parse(chips())
    assert c.goods.category is GoodsCategory.ELECTRONICS and c.goods.fruit_kind is None
    assert not c.goods.refrigerated
    assert (c.priority, c.quarantine_certificate, c.lab_certificates) == (0, None, {})


def test_enum_values_are_case_insensitive() -> None:
    d = durian()
    d["direction"], d["goods"]["category"], d["goods"]["fruit_kind"] = "EXPORT", "Fruit", "DURIAN"
    d["lab_certificates"] = {"Cadmium": "x", "AURAMINE_O": "y"}
    c = parse(d)
    assert c.direction is Direction.EXPORT and c.goods.fruit_kind is FruitKind.DURIAN
    assert set(c.lab_certificates) == {LabTest.CADMIUM, LabTest.AURAMINE_O}


def test_frozen_durian_is_a_sane_temperature() -> None:
    d = durian()
    d["goods"]["temperature_c"] = {"min": -20, "max": -18}
    assert parse(d).goods.temp_max_c == -18.0


@pytest.mark.parametrize(
    ("not_an_object", "kind"), [([], "a list"), ("{}", "a string"), (None, "null"), (3, "a number")]
)
def test_declaration_must_be_an_object(not_an_object: object, kind: str) -> None:
    assert problems(not_an_object) == [("", f"a declaration must be a JSON object, got {kind}")]


def _set(path: str, value: Any) -> dict[str, Any]:
    d = durian()
    *parents, last = path.split(".")
    node = d
    for p in parents:
        node = node[p]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return d


_DELETE = object()

RULES = [
    # (field path to change, new value, expected problem path, message fragment)
    ("id", _DELETE, "id", "required field is missing"),
    ("id", None, "id", "required field is missing"),
    ("id", "has space", "id", "is not valid (expected letters, digits"),
    ("id", 123, "id", "must be a string, got a number"),
    ("id", "x" * 65, "id", "65 characters long; at most 64"),
    ("container_number", "CSQU3054381", "container_number", "check digit is 1, expected 3"),
    ("container_number", "CSQX3054383", "container_number", "category identifier 'X'"),
    ("container_number", 3054383, "container_number", "must be a string, got int"),
    ("container_number", _DELETE, "container_number", "required field is missing"),
    ("seal_number", "", "seal_number", "must not be empty"),
    ("seal_number", "AB", "seal_number", "is not valid (expected 3-20 of A-Z 0-9 -)"),
    ("seal_number", "seal #1", "seal_number", "is not valid"),
    ("goods", "durian", "goods", "must be an object, got a string"),
    ("goods", _DELETE, "goods", "required field is missing"),
    ("goods.category", _DELETE, "goods.category", "required field is missing"),
    ("goods.category", "vegetables", "goods.category", "is not one of: fruit, electronics"),
    ("goods.fruit_kind", _DELETE, "goods.fruit_kind", "required for fruit"),
    ("goods.fruit_kind", "lychee", "goods.fruit_kind", "is not one of: durian, dragon_fruit"),
    ("goods.colour", "green", "goods.colour", "unknown field"),
    ("goods.temperature_c", [2, 5], "goods.temperature_c", "must be an object {min, max}"),
    ("goods.temperature_c.max", _DELETE, "goods.temperature_c.max", "required field is missing"),
    ("goods.temperature_c.min", "2", "goods.temperature_c.min", "must be a number, got a string"),
    ("goods.temperature_c.min", True, "goods.temperature_c.min", "must be a number, got a bool"),
    ("goods.temperature_c.min", math.nan, "goods.temperature_c.min", "finite"),
    ("goods.temperature_c.min", 9, "goods.temperature_c", "min 9 °C is above max 5 °C"),
    ("goods.temperature_c.max", 45, "goods.temperature_c.max", "45 °C is not a sane set point"),
    ("goods.temperature_c.min", -60, "goods.temperature_c.min", "-60 °C is not a sane"),
    ("goods.temperature_c.unit", "F", "goods.temperature_c.unit", "unknown field"),
    ("direction", "sideways", "direction", "is not one of: export, import"),
    ("direction", _DELETE, "direction", "required field is missing"),
    ("corridor", "lao-cai", "corridor", "unknown corridor 'lao-cai' (known: huu-nghi, tan-thanh)"),
    ("customs_declaration", "30512345678", "customs_declaration", "(expected 12 digits)"),
    ("customs_declaration", 305123456789, "customs_declaration", "must be a string"),
    ("gross_weight_kg", 0, "gross_weight_kg", "0 kg is outside (0, 45000] kg"),
    ("gross_weight_kg", -5, "gross_weight_kg", "is outside"),
    ("gross_weight_kg", 45000.1, "gross_weight_kg", "45000.1 kg is outside"),
    ("gross_weight_kg", "24500", "gross_weight_kg", "must be a number, got a string"),
    ("gross_weight_kg", math.inf, "gross_weight_kg", "must be a finite number"),
    ("priority", 10, "priority", "10 is outside 0-9"),
    ("priority", -1, "priority", "is outside 0-9"),
    ("priority", 1.5, "priority", "must be a whole number, got a number"),
    ("priority", True, "priority", "must be a whole number, got a boolean"),
    ("quarantine_certificate", "  ", "quarantine_certificate", "must not be empty (omit it"),
    ("quarantine_certificate", 7, "quarantine_certificate", "must be a string"),
    ("lab_certificates", ["cadmium"], "lab_certificates", "must be an object {test: certificate"),
    ("lab_certificates.lead", "L-1", "lab_certificates.lead", "unknown lab test (known: cadmium"),
    ("lab_certificates.cadmium", "", "lab_certificates.cadmium", "must not be empty"),
    ("lab_certificates.cadmium", None, "lab_certificates.cadmium", "certificate number is null"),
    ("sender", "NSW", "sender", "unknown field"),
]


@pytest.mark.parametrize(("path", "value", "where", "fragment"), RULES)
def test_each_rule(path: str, value: Any, where: str, fragment: str) -> None:
    found = problems(_set(path, value))
    assert len(found) == 1, found
    assert found[0][0] == where
    assert fragment in found[0][1]


def test_bool_is_named_as_such() -> None:
    # JSON true is not a number, even though Python's bool is an int.
    found = problems(_set("gross_weight_kg", True))
    assert found == [("gross_weight_kg", "must be a number, got a boolean")]


def test_electronics_cannot_have_a_fruit_kind() -> None:
    d = chips()
    d["goods"]["fruit_kind"] = "mango"
    assert problems(d) == [("goods.fruit_kind", "only fruit has a fruit kind, not electronics")]


def test_electronics_temperature_bounds() -> None:
    d = chips()
    d["goods"]["temperature_c"] = {"min": -35, "max": 50}
    assert parse(d).goods.temp_min_c == -35.0  # fine for electronics, not for fruit
    d["goods"]["temperature_c"] = {"min": -35, "max": 80}
    assert problems(d)[0][0] == "goods.temperature_c.max"


def test_every_problem_is_reported_at_once() -> None:
    d = durian()
    d["container_number"] = "CSQU3054381"
    d["gross_weight_kg"] = 90_000
    d["corridor"] = "mong-cai"
    d["goods"]["fruit_kind"] = "lychee"
    del d["seal_number"]
    d["extra"] = 1
    with pytest.raises(DeclarationError) as e:
        parse(d)
    paths = [p for p, _ in e.value.problems]
    assert sorted(paths) == sorted(
        [
            "extra",
            "seal_number",
            "container_number",
            "goods.fruit_kind",
            "corridor",
            "gross_weight_kg",
        ]
    )
    message = str(e.value)
    assert message.startswith("declaration 'VN-2026-000123' rejected (6 problems): ")
    assert "container_number: container number CSQU3054381: check digit is 1, expected 3" in message
    assert isinstance(e.value, ValueError) and e.value.declaration_id == "VN-2026-000123"


def test_single_problem_message() -> None:
    with pytest.raises(
        DeclarationError, match=r"^declaration rejected \(1 problem\): id: required"
    ):
        parse(_set("id", _DELETE))


def test_parsing_does_not_modify_the_input() -> None:
    d = durian()
    before = copy.deepcopy(d)
    parse(d)
    assert d == before


# -- idempotency ----------------------------------------------------------------


def test_identical_resend_is_the_same() -> None:
    assert same_declaration(durian(), durian())
    assert conflicting_fields(durian(), durian()) == []


def test_spelling_that_does_not_change_meaning_is_the_same() -> None:
    a, b = durian(), durian()
    b["container_number"] = "csqu3054383"
    b["seal_number"] = " ML-1234567 "
    b["direction"] = "Export"
    b["gross_weight_kg"] = 24500.0
    b["goods"]["fruit_kind"] = "DURIAN"
    b["lab_certificates"] = {"Cadmium": "LAB-CD-1", "auramine_o": "LAB-AO-1"}
    b = {k: b[k] for k in reversed(list(b))}  # key order does not matter
    assert same_declaration(a, b), conflicting_fields(a, b)


def test_absent_null_and_default_are_the_same() -> None:
    a, b = chips(), chips()
    b["priority"] = 0
    b["quarantine_certificate"] = None
    b["lab_certificates"] = {}
    assert same_declaration(a, b)
    b["priority"] = 1
    assert conflicting_fields(a, b) == ["priority"]


def test_conflicting_resend_names_the_fields() -> None:
    a, b = durian(), durian()
    b["gross_weight_kg"] = 24600
    b["goods"]["temperature_c"]["max"] = 6
    del b["lab_certificates"]["auramine_o"]
    assert not same_declaration(a, b)
    assert conflicting_fields(a, b) == [
        "goods.temperature_c.max",
        "gross_weight_kg",
        "lab_certificates.auramine_o",
    ]


def test_true_is_not_one() -> None:
    a, b = chips(), chips()
    a["priority"], b["priority"] = 1, True
    assert conflicting_fields(a, b) == ["priority"]


def test_canonical_form() -> None:
    flat = canonical_declaration(chips())
    assert flat["goods.category"] == "electronics"
    assert flat["gross_weight_kg"] == 12000.5
    assert flat["priority"] == 0
    assert "quarantine_certificate" not in flat
