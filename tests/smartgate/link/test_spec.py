"""The spec, the .proto and the generated code agree: a foreign team implements from the first
two, we run the third, so drift between them is a bug."""

from __future__ import annotations

import re

import pytest
from google.protobuf import text_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor

from smartgate.link.codec import decode_frame, encode_frame
from smartgate.link.proto import handoff_pb2 as pb
from tests.conftest import REPO

SPEC = (REPO / "docs" / "handoff-protocol.md").read_text(encoding="utf-8")
PROTO = (REPO / "proto" / "smartgate" / "handoff" / "v1" / "handoff.proto").read_text(
    encoding="utf-8"
)
EXAMPLES = re.findall(r"```textproto\n(.*?)```", SPEC, re.DOTALL)


def _messages() -> list[Descriptor]:
    return list(pb.DESCRIPTOR.message_types_by_name.values())


def _enums() -> list[EnumDescriptor]:
    return list(pb.DESCRIPTOR.enum_types_by_name.values())


def test_generated_code_matches_proto_source() -> None:
    """Catches a .proto edit without running tools/gen_proto.sh."""
    assert set(re.findall(r"^message (\w+)", PROTO, re.M)) == {m.name for m in _messages()}
    assert set(re.findall(r"^enum (\w+)", PROTO, re.M)) == {e.name for e in _enums()}
    values = set(re.findall(r"^\s+([A-Z][A-Z0-9_]+) = \d+;", PROTO, re.M))
    assert values == {v.name for e in _enums() for v in e.values}
    for m in _messages():
        block = re.search(rf"^message {m.name} \{{(.*?)^\}}", PROTO, re.M | re.DOTALL)
        assert block is not None
        declared = dict(re.findall(r"(\w+) = (\d+);", block.group(1)))
        assert {f.name: str(f.number) for f in m.fields} == declared, m.name


def test_package_is_versioned() -> None:
    assert pb.DESCRIPTOR.package == "smartgate.handoff.v1"
    assert "reserved 2 to 9;" in PROTO


@pytest.mark.parametrize("name", [m.name for m in _messages()])
def test_every_message_and_field_is_specified(name: str) -> None:
    assert name in SPEC
    for f in pb.DESCRIPTOR.message_types_by_name[name].fields:
        assert f"`{f.name}" in SPEC or f"{f.name}`" in SPEC, f"{name}.{f.name} not in the spec"


def test_every_error_code_and_refusal_reason_is_specified() -> None:
    for v in pb.ErrorCode.DESCRIPTOR.values[1:]:
        assert f"`{v.name}`" in SPEC, v.name
    for v in pb.RefusalReason.DESCRIPTOR.values[1:]:
        assert f"`{v.name.removeprefix('REFUSAL_REASON_')}`" in SPEC, v.name


def test_spec_has_required_sections() -> None:
    for needle in (
        "mutual certificate authentication",
        "### 2.2 Authorisation",
        "sequenceDiagram",
        "stateDiagram-v2",
        "## 7. Timeouts and retries",
        "## 9. Error codes",
        "## 10. Versioning",
        "## 11. Mapping to public references",
    ):
        assert needle.lower() in SPEC.lower(), needle
    assert SPEC.count("sequenceDiagram") >= 5


def test_worked_examples_are_valid_frames() -> None:
    assert len(EXAMPLES) >= 15
    kinds = set()
    for text in EXAMPLES:
        env = text_format.Parse(text, pb.Envelope())
        assert decode_frame(encode_frame(env)) == env
        kinds.add(env.WhichOneof("body"))
    assert {"hello", "offer", "accept", "crossing", "custody", "ack"} <= kinds


def test_wire_bytes_example() -> None:
    block = SPEC.split("### 12.3 Bytes on the wire", 1)[1].split("```text\n", 1)[1]
    data = bytes.fromhex(block.split("```", 1)[0].replace("\n", " "))
    env = decode_frame(data)
    assert env.ack.ack_sequence == 2
    assert encode_frame(env) == data
    assert data == encode_frame(text_format.Parse(EXAMPLES[3], pb.Envelope()))
