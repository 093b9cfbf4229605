#!/usr/bin/env bash
# On the GPU machine, from the repo root: unpack the carried Debian packages (Abseil, Protobuf),
# build gpu_check against PyTorch's LibTorch, run it: the trainer's CUDA path, then serving's
# (libs/serving's loader on cpu, cuda and auto). Prepared here with prepare.sh. Arguments go to
# gpu_check ([--cpu_only] [ROWS]).
#
# On a machine without a GPU, the same program checks its CPU halves against Debian's LibTorch
# and the system's Abseil and Protobuf (DEPS=/), with the protobuf code of a main build (GEN):
#
#   cmake -S tools/gpu_check -B /tmp/gpu_check -G Ninja -DCMAKE_BUILD_TYPE=Release \
#     -DDEPS=/ -DGEN=$PWD/build/gen
#   cmake --build /tmp/gpu_check -j2
#   /tmp/gpu_check/gpu_check --cpu_only 50000   # ends "CPU CHECK PASSED (CUDA not checked)"
#
# (50000 rows: fewer leave the 2048-row batches short of the AUC floor.)
set -euo pipefail
deps=/tmp/fabrique-deps
mkdir -p "$deps"
for deb in .gpu/debs/*.deb; do
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$deb" "$deps"
  else  # A .deb is an ar archive holding data.tar.*.
    (cd "$deps" && ar x "$OLDPWD/$deb" && tar xf data.tar.* && rm -f data.tar.* control.tar.* debian-binary)
  fi
done
export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))'
cmake -S tools/gpu_check -B /tmp/gpu_check -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DDEPS="$deps" -DGEN="$PWD/.gpu/gen" >/tmp/gpu_check.cmake.log 2>&1 \
  || { tail -30 /tmp/gpu_check.cmake.log; exit 1; }
cmake --build /tmp/gpu_check -j16 2>&1 | grep -E "error|warning: unused|Linking" | head -40
/tmp/gpu_check/gpu_check "$@"
