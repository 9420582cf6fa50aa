#!/usr/bin/env bash
# Regenerate smartgate/link/proto/handoff_pb2.py(+.pyi) from proto/smartgate/handoff/v1/handoff.proto.
#
# Pinned generator: grpcio-tools==1.85.1, which bundles libprotoc 35.1 (gencode version 7.35.1).
# The generated code checks at import that the protobuf runtime is not older than the gencode,
# so the generator's protobuf must stay <= the runtime pinned in requirements.txt (7.36.2).
# The generator lives in a throwaway venv, never in the project venv.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
GEN_VENV="${GEN_VENV:-/tmp/protoc-venv}"
GRPCIO_TOOLS_VERSION="1.85.1"
OUT="$REPO/smartgate/link/proto"

if [ ! -x "$GEN_VENV/bin/python" ]; then
    python3 -m venv "$GEN_VENV"
fi
"$GEN_VENV/bin/pip" install --quiet --disable-pip-version-check \
    "grpcio-tools==$GRPCIO_TOOLS_VERSION"
"$GEN_VENV/bin/python" -m grpc_tools.protoc --version

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$GEN_VENV/bin/python" -m grpc_tools.protoc \
    --proto_path="$REPO/proto" \
    --python_out="$TMP" \
    --pyi_out="$TMP" \
    smartgate/handoff/v1/handoff.proto

# Generated code is not ours to lint or reformat; the pyi uses bare `Mapping` in __init__
# signatures, which strict mypy rejects as a missing generic argument.
{ printf '# ruff: noqa\n# fmt: off\n'; cat "$TMP/smartgate/handoff/v1/handoff_pb2.py"; } \
    >"$OUT/handoff_pb2.py"
{ printf '# ruff: noqa\n# fmt: off\n# mypy: allow-any-generics\n'
  cat "$TMP/smartgate/handoff/v1/handoff_pb2.pyi"; } >"$OUT/handoff_pb2.pyi"
echo "generated $OUT/handoff_pb2.py and handoff_pb2.pyi"
