#!/usr/bin/env bash
# Scale benchmark (issue #6): 200 simulated nodes (a child process) and 20,000 tasks: all done,
# router CPU time per task, memory per finished task in the history, health-check cost per node.
# See bench/scale_bench.cpp. Takes about a minute on 2 cores (bounded by --timeout-s 900).
#
#   bench/scale.sh                         # 200 nodes, 20000 tasks
#   bench/scale.sh --nodes 50 --tasks 2000 # options go to comfy-bench-scale (--help)
#
# Environment:
#   BUILD_DIR  CMake build folder (default build; configured here if it does not exist)
#   TMPDIR     where the temporary folders (node folders, the router's state) go
#
# Builds comfy-bench-scale, runs it on 127.0.0.1, prints its figures and writes them to
# bench/results/scale.txt and scale.json (--out DIR elsewhere; no target, so no --strict).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
source bench/lib.sh
build_target comfy-bench-scale bench/comfy-bench-scale
bin="$BUILD_DIR/bench/comfy-bench-scale"
exec "$bin" --out bench/results "$@"
