#!/usr/bin/env bash
# Placement benchmark (issue #6): a mixed workload over 4 checkpoints on 8 simulated nodes that
# take 300 ms to switch models, 400 tasks, model affinity on vs off (Settings::nodeAffinity): model
# switches and total time of both, once with arrivals the cluster keeps up with and once faster
# (a backlog: tasks wait in the queue). See bench/placement_bench.cpp. About a minute.
#
#   bench/placement.sh                     # the defaults above
#   bench/placement.sh --seed 7            # options go to comfy-bench-placement (--help)
#
# Environment:
#   BUILD_DIR  CMake build folder (default build; configured here if it does not exist)
#   TMPDIR     where the temporary folders (node folders, the router's state) go
#
# Builds comfy-bench-placement, runs it on 127.0.0.1, prints its figures and writes them to
# bench/results/placement.txt and placement.json (--out DIR elsewhere; --strict: exit 3 on a missed target).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
source bench/lib.sh
build_target comfy-bench-placement bench/comfy-bench-placement
bin="$BUILD_DIR/bench/comfy-bench-placement"
exec "$bin" --out bench/results "$@"
