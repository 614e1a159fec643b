#!/usr/bin/env bash
# Installs what is missing, builds comfy-router, and runs it headless with SIMULATED ComfyUI
# nodes (--demo: no GPU, placeholder images). Submits one example workflow, prints its
# result, then keeps the router running on http://127.0.0.1:${PORT} until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build_dir=${BUILD_DIR:-build}
# A new build folder skips the tests; an existing one (e.g. the test command's) keeps its options.
[ -f "$build_dir/CMakeCache.txt" ] ||
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF
cmake --build "$build_dir" -j"$(nproc)" --target comfy-router

PORT=${PORT:-8080}
auth=admin:admin
# The demo keeps its state, cache and the simulated nodes' folder apart from a real setup's.
demo_dir=$(mktemp -d -t comfy-router-demo.XXXXXX)
"$build_dir/app/comfy-router" --server --demo --host 127.0.0.1 --port "$PORT" \
  --data-dir "$demo_dir/data" --download-cache-dir "$demo_dir/cache" \
  --download-root-dir "$demo_dir/comfyui" --download-record-path "$demo_dir/cache.json" &
router=$!
trap 'kill $router 2>/dev/null || true; wait $router 2>/dev/null; rm -rf "$demo_dir"' EXIT INT TERM

for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/health_check" >/dev/null && break
  sleep 0.1
done
# Wait until the simulated nodes have answered their first health check.
for _ in $(seq 1 100); do
  curl -fs -u "$auth" "http://127.0.0.1:$PORT/cluster/nodes" | grep -q '"status":"idle"' && break
  sleep 0.1
done

echo
echo "== Submitting an example Raw workflow (LoadImage -> ImageInvert -> SaveImage) to the SIMULATED nodes"
id=$(curl -fs -u "$auth" -H 'Content-Type: application/json' "http://127.0.0.1:$PORT/workflow" -d '{
  "type": "Raw",
  "params": {"prompt": {
    "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
    "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
    "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "demo"}}
  }}}' | sed -E 's/.*"id":"([^"]+)".*/\1/')
echo "task id: $id"
for _ in $(seq 1 100); do
  status=$(curl -fs -u "$auth" "http://127.0.0.1:$PORT/workflow/$id")
  echo "$status" | grep -qE '"status":"(done|error)"' && break
  sleep 0.1
done
echo "$status" | sed -E 's/"data":\["[^"]{40}[^"]*"\]/"data":["<base64 PNG>"]/'
echo
echo "== The router keeps running with its SIMULATED nodes: http://127.0.0.1:$PORT (user admin, password admin)"
echo "   curl -u admin:admin http://127.0.0.1:$PORT/cluster/nodes      Ctrl-C stops it."
wait $router
