#!/usr/bin/env bash
# Here, before a GPU run: puts what gpu_check needs and the GPU machine lacks into .gpu/ (ignored
# by git, carried by the device tool): Debian's Abseil and Protobuf packages, and the protobuf
# code the main build generated.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
mkdir -p .gpu/debs .gpu/gen/fabrique/v1
(cd .gpu/debs && apt-get download libabsl-dev libabsl20220623 libprotobuf-dev libprotobuf32)
cp build/gen/fabrique/v1/common.pb.h build/gen/fabrique/v1/common.pb.cc .gpu/gen/fabrique/v1/
