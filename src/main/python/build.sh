#!/bin/sh
# Builds the ringstore Python package into OUT_DIR/ringstore: the sources from here and
# ringstore_pb2.py generated from src/main/proto/ringstore.proto by protoc (never committed:
# generated where it is used, by the protoc of the system that uses it). Used by the tests
# (PythonClientTest) and by image-build/build-deb.sh for python3-ringstore.
#
#   sh src/main/python/build.sh OUT_DIR
#
# Needs protoc (Debian: protobuf-compiler) >= 3.15, for proto3 `optional` fields.
set -eu
[ $# = 1 ] || { echo "usage: build.sh OUT_DIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
PROTO_DIR=$(cd "$HERE/../proto" && pwd)
OUT=$1
command -v protoc >/dev/null 2>&1 || { echo "build.sh: protoc not found (apt-get install protobuf-compiler)" >&2; exit 3; }
rm -rf "$OUT/ringstore"
mkdir -p "$OUT/ringstore"
for f in "$HERE"/ringstore/*.py; do
    case "$(basename "$f")" in ringstore_pb2.py) continue ;; esac
    cp "$f" "$OUT/ringstore/"
done
protoc --python_out="$OUT/ringstore" -I "$PROTO_DIR" "$PROTO_DIR/ringstore.proto"
echo "$OUT/ringstore"
