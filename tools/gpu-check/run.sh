#!/usr/bin/env bash
# Runs the GPU check from the bundle prepare.sh built (no Node.js or registry needed on the machine):
#   bash tools/gpu-check/run.sh [--search-sizes 129,321,513 ...]    (settings: see check.ts / README.md)
# Writes gpu-check.json and each measurement's JSON under $OUT (default ./gpu-check-out).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUNDLE="$ROOT/gpu-check-bundle"
export OUT="${OUT:-$ROOT/gpu-check-out}"
mkdir -p "$OUT"
if [ ! -f "$BUNDLE/node_modules/autodeeplab-gpu-check/check.mjs" ]; then
  echo "run.sh: $BUNDLE is missing: run 'bash tools/gpu-check/prepare.sh' first (and carry gpu-check-bundle)" >&2
  exit 2
fi

# xz, or Python's lzma where xz is not installed.
unxz_to() {
  if command -v xz > /dev/null; then xz -dc "$1" > "$2.part"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2.part"; fi
  mv "$2.part" "$2"
}
[ -x "$BUNDLE/bin/node" ] || { unxz_to "$BUNDLE/bin/node.xz" "$BUNDLE/bin/node" && chmod +x "$BUNDLE/bin/node"; }
DAWN="$BUNDLE/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$DAWN" ] || unxz_to "$DAWN.xz" "$DAWN"

# Our Vulkan loader, and the NVIDIA driver's libraries and ICD where a container mounts them.
LIBS="$BUNDLE/lib"
for dir in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$dir" ] && LIBS="$LIBS:$dir"; done
# dawn.node needs GLIBCXX_3.4.30: the carried libstdc++ only where the machine's own is older.
SYSTEM_STDCXX="$(ldconfig -p 2> /dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ { print $NF; exit }' || true)"
if [ -z "$SYSTEM_STDCXX" ] || ! grep -qa GLIBCXX_3.4.30 "$SYSTEM_STDCXX"; then LIBS="$LIBS:$BUNDLE/lib/compat"; fi
export LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$ICD" ] && export VK_ICD_FILENAMES="$ICD"

{
  echo "date: $(date -u +%FT%TZ)"
  echo "node: $("$BUNDLE/bin/node" --version)"
  echo "glibc: $(getconf GNU_LIBC_VERSION 2> /dev/null) (dawn.node needs 2.34 or later); libstdc++: ${SYSTEM_STDCXX:-none found}"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  echo "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
  ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2> /dev/null || true
  command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
} 2>&1 | tee "$OUT/environment.txt"

# The whole check stays within 9 minutes (its parts have their own budgets inside that).
timeout -k 10 540 "$BUNDLE/bin/node" "$BUNDLE/node_modules/autodeeplab-gpu-check/check.mjs" "$@"
