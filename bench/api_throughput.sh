#!/usr/bin/env bash
# API throughput benchmark (issue #6): requests per second of the router's GET /workflow/{id}
# (Basic auth, a finished task with its image) measured with wrk, beside a private nginx serving
# a static file of exactly the same bytes in the same run: the HTTP limit of this machine.
# Loopback only.
#
#   bench/api_throughput.sh                          # 3 rounds of 10 s each, 32 connections
#   DURATION_S=5 ROUNDS=5 bench/api_throughput.sh    # options are environment variables
#
# Environment:
#   DURATION_S   seconds of one wrk run (default 10)
#   ROUNDS       rounds of nginx then router (default 3; the medians count)
#   CONNECTIONS  wrk connections (default 32); wrk runs one thread
#   BUILD_DIR    CMake build folder (default build; configured here if it does not exist)
#   STRICT=1     exit with 3 when the target is missed (default: report PASS/FAIL, exit 0)
#
# The router is the real comfy-router (--server --demo: one SIMULATED node, COMFY_ROUTER__ENV=prod,
# state in the temporary folder); one Raw workflow (LoadImage -> ImageInvert -> SaveImage) runs
# to done, and its GET /workflow/{id} answer (the task and its base64 PNG) is the body. nginx runs
# with one worker (the router answers HTTP in one thread), access log off (the router logs no
# request in prod), keep-alive, the same body with the same Content-Type. wrk sends the same
# Authorization header to both.
#
# It installs wrk, nginx (nginx-light, else nginx) and curl with apt-get when they are missing
# (as root, or through sudo). nginx runs as the current user with its own nginx.conf, pid, logs
# and temporary folders in a temporary folder, on 127.0.0.1 and a free port; no system service
# is used, started or stopped by the benchmark. Both servers are stopped and the temporary folder
# removed on exit.
#
# Prints (and writes to bench/results/api_throughput.txt and api_throughput.json): every run,
# the median requests/s of nginx and of the router, the ratio router/nginx and the target (at
# least 0.5).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION_S=${DURATION_S:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
BUILD_DIR=${BUILD_DIR:-build}
STRICT=${STRICT:-0}
for v in DURATION_S ROUNDS CONNECTIONS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "$v must be a positive integer" >&2; exit 2; }
done

source bench/lib.sh
ensure_tools nginx wrk curl
build_target comfy-router app/comfy-router
router_bin="$BUILD_DIR/app/comfy-router"

# --- temporary folder, router, nginx --------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/comfy-bench-api.XXXXXX")
router_pid=""
cleanup() {
  if [ -n "$router_pid" ]; then
    kill "$router_pid" 2>/dev/null || true # SIGTERM: the router stops within a second
    for _ in $(seq 1 50); do kill -0 "$router_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  nginx_stop "$tmp"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

user=bench
password=bench-password
auth_header="Authorization: Basic $(printf '%s:%s' "$user" "$password" | base64 -w0)"
router_port=$(free_port)
say "starting comfy-router --server --demo on 127.0.0.1:$router_port"
COMFY_ROUTER__ENV=prod \
COMFY_ROUTER__DATA_DIR="$tmp/data" \
COMFY_ROUTER__DOWNLOAD__CACHE_DIR="$tmp/cache" \
COMFY_ROUTER__DOWNLOAD__ROOT_DIR="$tmp/root" \
COMFY_ROUTER__DOWNLOAD__RECORD_PATH="$tmp/record.json" \
  "$router_bin" --server --demo --demo-nodes 1 --host 127.0.0.1 --port "$router_port" \
  --username "$user" --password "$password" >"$tmp/router.log" 2>&1 &
router_pid=$!
router="http://127.0.0.1:$router_port"
for _ in $(seq 1 100); do curl -fs --noproxy '*' "$router/health_check" >/dev/null && break; sleep 0.1; done
for _ in $(seq 1 100); do
  curl -fs --noproxy '*' -H "$auth_header" "$router/cluster/nodes" | grep -q '"status":"idle"' && break
  sleep 0.1
done
id=$(curl -fsS --noproxy '*' -H "$auth_header" -H 'Content-Type: application/json' "$router/workflow" -d '{
  "type": "Raw",
  "params": {"prompt": {
    "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
    "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
    "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "bench"}}
  }}}' | sed -E 's/.*"id":"([^"]+)".*/\1/')
[ -n "$id" ] || { tail -n 20 "$tmp/router.log" >&2; echo "the router did not accept the workflow" >&2; exit 1; }
status=""
for _ in $(seq 1 200); do
  status=$(curl -fsS --noproxy '*' -H "$auth_header" "$router/workflow/$id")
  printf '%s' "$status" | grep -qE '"status":"(done|error)"' && break
  sleep 0.1
done
printf '%s' "$status" | grep -q '"status":"done"' || { echo "the task did not end done: $status" >&2; exit 1; }

mkdir -p "$tmp/www"
curl -fsS --noproxy '*' -H "$auth_header" -D "$tmp/router-headers.txt" -o "$tmp/www/workflow.json" "$router/workflow/$id"
body_bytes=$(stat -c %s "$tmp/www/workflow.json")
content_type=$(sed -n 's/^[Cc]ontent-[Tt]ype: *//p' "$tmp/router-headers.txt" | tr -d '\r' | head -n 1)
[ -n "$content_type" ] || content_type="application/json"
chmod 644 "$tmp/www/workflow.json"
say "GET /workflow/$id: $body_bytes bytes of $content_type"

# Access log off (the router logs no request in prod), keep-alive, the same body with the same
# Content-Type.
nginx_start "$tmp" "access_log off; default_type \"$content_type\"; keepalive_requests 1000000; etag off;" \
  "location = /workflow/$id { try_files /workflow.json =404; }"
nginx="http://127.0.0.1:$nginx_port"
nginx_bytes=$(curl -fsS --noproxy '*' -o /dev/null -w '%{size_download}' "$nginx/workflow/$id")
[ "$nginx_bytes" -eq "$body_bytes" ] || { echo "nginx serves $nginx_bytes bytes, expected $body_bytes" >&2; exit 1; }
say "nginx (pid $(cat "$tmp/nginx.pid")) serves the same $body_bytes bytes at $nginx/workflow/$id"

# --- the runs ------------------------------------------------------------------------------
run_wrk() { # $1: base URL; prints "requests_per_s avg_latency non2xx errors"
  local out rps latency non2xx errors
  out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION_S}s" -H "$auth_header" "$1/workflow/$id")
  printf '%s\n' "$out" >>"$tmp/wrk.log"
  rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ { print $2 }')
  latency=$(printf '%s\n' "$out" | awk '$1 == "Latency" { print $2 }')
  non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx or 3xx responses:/ { print $5 }')
  errors=$(printf '%s\n' "$out" | awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }')
  echo "${rps:-0} ${latency:-?} ${non2xx:-0} ${errors:-0}"
}
nginx_rps=()
router_rps=()
nginx_lat=()
router_lat=()
for round in $(seq 1 "$ROUNDS"); do
  read -r rps lat bad errs < <(run_wrk "$nginx")
  [ "$bad" -eq 0 ] || { echo "nginx answered $bad requests with non-2xx" >&2; exit 1; }
  nginx_rps+=("$rps"); nginx_lat+=("$lat")
  say "round $round/$ROUNDS nginx:  $rps requests/s (latency avg $lat, socket errors $errs)"
  read -r rps lat bad errs < <(run_wrk "$router")
  [ "$bad" -eq 0 ] || { tail -n 20 "$tmp/router.log" >&2; echo "the router answered $bad requests with non-2xx" >&2; exit 1; }
  router_rps+=("$rps"); router_lat+=("$lat")
  say "round $round/$ROUNDS router: $rps requests/s (latency avg $lat, socket errors $errs)"
done
kill -0 "$router_pid" 2>/dev/null || { echo "the router died" >&2; tail -n 20 "$tmp/router.log" >&2; exit 1; }

# --- figures -------------------------------------------------------------------------------
nginx_median=$(median "${nginx_rps[@]}")
router_median=$(median "${router_rps[@]}")
ratio=$(awk -v r="$router_median" -v n="$nginx_median" 'BEGIN { printf "%.3f", r / n }')
verdict=$(awk -v x="$ratio" 'BEGIN { print (x >= 0.5) ? "PASS" : "FAIL" }')

machine_facts
nginx_version=$(nginx_version)
wrk_version=$( (wrk -v 2>&1 || true) | head -n 1 | awk '{ print $2 }')
commit_facts core server app

mkdir -p bench/results
{
  echo "API throughput benchmark (bench/api_throughput.sh): GET /workflow/{id} of comfy-router vs the same $body_bytes bytes from nginx, 127.0.0.1"
  echo "wrk -t1 -c$CONNECTIONS -d${DURATION_S}s with the same Basic auth header; $ROUNDS rounds of nginx then router; nginx 1 worker, access log off; router COMFY_ROUTER__ENV=prod"
  echo "date $date_utc; commit $commit$dirty; $cpu, $cores cores, $mem_gib GiB RAM; $os, Linux $kernel"
  echo "nginx $nginx_version, wrk $wrk_version, Qt $qt_version; body: a done Raw task with one PNG ($content_type)"
  echo
  printf '%-7s %16s %14s %16s %14s\n' round "nginx req/s" "nginx latency" "router req/s" "router latency"
  for i in $(seq 0 $((ROUNDS - 1))); do
    printf '%-7s %16.0f %14s %16.0f %14s\n' "$((i + 1))" "${nginx_rps[$i]}" "${nginx_lat[$i]}" "${router_rps[$i]}" "${router_lat[$i]}"
  done
  echo
  printf '%-34s %s\n' "median nginx" "$(printf '%.0f' "$nginx_median") requests/s"
  printf '%-34s %s\n' "median router" "$(printf '%.0f' "$router_median") requests/s"
  printf '%-34s %s\n' "ratio router/nginx" "$ratio"
  echo
  printf '%-34s %s\n' "target: ratio at least 0.5" "$verdict ($ratio)"
} | tee bench/results/api_throughput.txt

cat >bench/results/api_throughput.json <<EOF
{
  "benchmark": "api_throughput",
  "date": $(json_str "$date_utc"),
  "commit": $(json_str "$commit$dirty"),
  "machine": {"cpu": $(json_str "$cpu"), "cores": $cores, "mem_gib": $mem_gib, "os": $(json_str "$os"), "kernel": $(json_str "$kernel")},
  "versions": {"nginx": $(json_str "$nginx_version"), "wrk": $(json_str "$wrk_version"), "qt": $(json_str "$qt_version")},
  "body_bytes": $body_bytes,
  "content_type": $(json_str "$content_type"),
  "duration_s": $DURATION_S,
  "rounds": $ROUNDS,
  "connections": $CONNECTIONS,
  "nginx_requests_per_s": $(json_list "${nginx_rps[@]}"),
  "router_requests_per_s": $(json_list "${router_rps[@]}"),
  "median_nginx_requests_per_s": $nginx_median,
  "median_router_requests_per_s": $router_median,
  "ratio_router_nginx": $ratio,
  "targets": {"ratio_at_least_0_5": $( [ "$verdict" = PASS ] && echo true || echo false )}
}
EOF
say "written bench/results/api_throughput.txt and bench/results/api_throughput.json"

if [ "$STRICT" = 1 ] && [ "$verdict" != PASS ]; then
  exit 3
fi
