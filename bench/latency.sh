#!/usr/bin/env bash
# Latency benchmark (issue #6): dispatch latency (a task queued while a node is idle -> the
# node accepted its POST /prompt) and completion latency (the node's last message -> the task done),
# median and p99 over 2000 tasks per graph, target under 1 ms; the router's state on the disk of
# TMPDIR (as deployed), then on tmpfs for comparison. See bench/latency_bench.cpp.
#
#   bench/latency.sh                       # 2000 tasks per graph (about a minute)
#   bench/latency.sh --tasks 500           # options go to comfy-bench-latency (--help)
#
# Environment:
#   BUILD_DIR  CMake build folder (default build; configured here if it does not exist)
#   TMPDIR     where the temporary folders (node folders, the router's state) go
#
# Builds comfy-bench-latency, runs it on 127.0.0.1, prints its figures and writes them to
# bench/results/latency.txt and latency.json (--out DIR elsewhere; --strict: exit 3 on a missed target).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
source bench/lib.sh
build_target comfy-bench-latency bench/comfy-bench-latency
bin="$BUILD_DIR/bench/comfy-bench-latency"
exec "$bin" --out bench/results "$@"
