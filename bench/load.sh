#!/usr/bin/env bash
# Load benchmark (issue #5): comfy-router with SIMULATED ComfyUI nodes under wrk, on loopback.
#
#   bench/load.sh                               # defaults below
#   TASKS=500 POLL_SECONDS=10 bench/load.sh     # options are environment variables
#
# Environment:
#   TASKS            tasks submitted during phase (a) (default 2000)
#   POLL_SECONDS     how long wrk polls GET /workflow/{id} in phase (a) (default 30)
#   POST_SECONDS     how long wrk floods POST /workflow in phase (b) (default 15)
#   POST_MAX         most POST requests phase (b) sends (default 50000)
#   CONNECTIONS      wrk connections (default 32); THREADS wrk threads (default 2)
#   NODES            simulated nodes (default 4); STEP_DELAY_MS their step delay (default 1)
#   PENDING_LIMIT    the router's --pending-limit (default TASKS + 500: phase (a) never sees
#                    a 429, phase (b) floods past it)
#   DRAIN_SECONDS    longest wait for the accepted tasks to finish (default 600)
#   STEADY_SECONDS   how long phase (c) polls once everything is done (default 10)
#   BUILD_DIR        CMake build folder (default build; configured here if it does not exist)
#   TMPDIR           where the temporary folder goes
#
# It installs wrk (and curl) with apt-get when missing (as root, or through sudo), builds
# comfy-router, and starts `comfy-router --server --demo --demo-nodes NODES
# --demo-step-delay-ms STEP_DELAY_MS` on 127.0.0.1 (a free port) with its cache, root, record
# and data in a temporary folder, the history limit above anything the run can accept, and
# --env prod (no debug line per request). Then:
#   (a) wrk polls GET /workflow/{id} (Basic auth, round robin over ids of tasks submitted
#       before) for POLL_SECONDS while curl submits TASKS Raw tasks (LoadImage -> ImageInvert
#       -> SaveImage) one after another on one keep-alive connection;
#   (b) wrk floods POST /workflow with the same small Raw body for at most POST_SECONDS and
#       POST_MAX requests; 429s (the pending limit) are expected and counted on their own;
# and waits until nothing is pending or running; then
#   (c) wrk polls GET /workflow/{id} again for STEADY_SECONDS with nothing submitted, to see
#       whether memory grows per request rather than per task kept.
# Checks, through the API and the log:
#   - no 5xx and no socket error in any wrk run; every poll answered 200, every POST 200 or
#     429;
#   - every task id a client was given (curl's, and those wrk's script saw) is in the
#     router's list (GET /workflow), and every task of that list has status "done"
#     (GET /workflow/{id}, each one) and exactly one "done after" line in the log; tasks the
#     router accepted whose answer wrk dropped when its time was up (at most one per
#     connection) are listed separately and must be done as well;
#   - the router's VmRSS / VmHWM (/proc/PID/status) at start, after (a), after (b) and the
#     drain, and after (c). The history limit is set above anything the run can accept (so
#     that every task stays readable), so memory grows with the tasks kept; (c) shows what a
#     request alone costs. The simulated nodes run inside the router's process (--demo), so
#     its RSS includes theirs: each keeps the history of its last 10000 prompts, as ComfyUI
#     does.
# Prints a table, writes bench/results/load.txt and load.json, and stops the router and
# removes the temporary folder on exit. Exit status 1 when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

TASKS=${TASKS:-2000}
POLL_SECONDS=${POLL_SECONDS:-30}
POST_SECONDS=${POST_SECONDS:-15}
POST_MAX=${POST_MAX:-50000}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
NODES=${NODES:-4}
STEP_DELAY_MS=${STEP_DELAY_MS:-1}
PENDING_LIMIT=${PENDING_LIMIT:-$((TASKS + 500))}
DRAIN_SECONDS=${DRAIN_SECONDS:-600}
STEADY_SECONDS=${STEADY_SECONDS:-10}
BUILD_DIR=${BUILD_DIR:-build}
for v in TASKS POLL_SECONDS POST_SECONDS POST_MAX CONNECTIONS THREADS NODES PENDING_LIMIT DRAIN_SECONDS STEADY_SECONDS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "$v must be a positive integer" >&2; exit 2; }
done
[[ $STEP_DELAY_MS =~ ^[0-9]+$ ]] || { echo "STEP_DELAY_MS must be a whole number" >&2; exit 2; }
[ "$CONNECTIONS" -ge "$THREADS" ] || { echo "CONNECTIONS must be at least THREADS" >&2; exit 2; }
[ "$POLL_SECONDS" -le 600 ] && [ "$POST_SECONDS" -le 600 ] && [ "$STEADY_SECONDS" -le 600 ] ||
  { echo "at most 600 s per phase" >&2; exit 2; }

source bench/lib.sh
ensure_tools wrk curl
build_target comfy-router app/comfy-router
router_bin="$BUILD_DIR/app/comfy-router"

# --- temporary folder, router ----------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/comfy-bench-load.XXXXXX")
router_pid=""
wrk_pids=()
cleanup() {
  for p in "${wrk_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$router_pid" ]; then
    kill "$router_pid" 2>/dev/null || true # SIGTERM: a graceful stop
    for _ in $(seq 1 100); do kill -0 "$router_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$router_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

auth="admin:admin"
auth_header="Basic $(printf '%s' "$auth" | base64)"
log="$tmp/router.log"
"$router_bin" --server --demo --demo-nodes "$NODES" --demo-step-delay-ms "$STEP_DELAY_MS" \
  --host 127.0.0.1 --port 0 --env prod --username admin --password admin \
  --pending-limit "$PENDING_LIMIT" --history-limit 100000000 \
  --download-cache-dir "$tmp/cache" --download-root-dir "$tmp/root" \
  --download-record-path "$tmp/record.json" --data-dir "$tmp/data" >"$log" 2>&1 &
router_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*HTTP API listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n 1)
  [ -n "$port" ] && break
  kill -0 "$router_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || { echo "the router did not start:" >&2; tail -n 20 "$log" >&2; exit 1; }
base="http://127.0.0.1:$port"
api() { curl -sS --noproxy '*' -u "$auth" "$@"; }
for _ in $(seq 1 100); do
  idle=$(api "$base/cluster/nodes" | grep -o '"status":"idle"' | wc -l || true)
  [ "$idle" -ge "$NODES" ] && break
  sleep 0.1
done
[ "$idle" -ge "$NODES" ] || { echo "the simulated nodes did not become idle" >&2; exit 1; }
say "router (pid $router_pid) on $base with $NODES SIMULATED nodes"

memory() { # "VmRSS VmHWM" in KiB
  awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r, h }' "/proc/$router_pid/status"
}

body='{"type":"Raw","params":{"prompt":{"1":{"class_type":"LoadImage","inputs":{"image":"example.png"}},"2":{"class_type":"ImageInvert","inputs":{"image":["1",0]}},"3":{"class_type":"SaveImage","inputs":{"images":["2",0],"filename_prefix":"load"}}}}}'
printf '%s' "$body" >"$tmp/body.json"

# Submits $1 tasks on one keep-alive connection (one curl, one URL per task); appends
# "<status> <id>" lines to $2.
submit() {
  local n=$1 out=$2 config="$tmp/submit.curl"
  : >"$config"
  for _ in $(seq 1 "$n"); do printf 'url = "%s/workflow"\n' "$base" >>"$config"; done
  curl -sS --noproxy '*' -u "$auth" -H 'Content-Type: application/json' \
    --data-binary "@$tmp/body.json" -w '\n%{http_code}\n' -K "$config" |
    awk 'NR % 2 == 1 { id = ""; if (match($0, /"id":"[^"]+"/)) id = substr($0, RSTART + 6, RLENGTH - 7) }
         NR % 2 == 0 { print $0, id }' >>"$out"
}

# --- wrk scripts -------------------------------------------------------------------------------
# Shared: counts answers per status in each thread; done() writes the summary as key=value.
cat >"$tmp/common.lua" <<'EOF'
wrk.headers["Authorization"] = os.getenv("WRK_AUTH")
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
counts = {}
function count(status)
  counts[status] = (counts[status] or 0) + 1
end
function write_summary(summary, latency, extra)
  local out = assert(io.open(os.getenv("WRK_SUMMARY"), "w"))
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do
      total[status] = (total[status] or 0) + n
    end
    if extra then extra(t) end
  end
  local s2xx, s429, s4xx, s5xx, other = 0, 0, 0, 0, 0
  for status, n in pairs(total) do
    if status >= 200 and status < 300 then s2xx = s2xx + n
    elseif status == 429 then s429 = s429 + n
    elseif status >= 400 and status < 500 then s4xx = s4xx + n
    elseif status >= 500 then s5xx = s5xx + n
    else other = other + n end
  end
  local e = summary.errors
  out:write(string.format("requests=%d\nseconds=%.3f\nrps=%.1f\n", summary.requests,
    summary.duration / 1e6, summary.requests / (summary.duration / 1e6)))
  out:write(string.format("p50_ms=%.3f\np90_ms=%.3f\np99_ms=%.3f\nmax_ms=%.3f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  out:write(string.format("s2xx=%d\ns429=%d\ns4xx_other=%d\ns5xx=%d\nsother=%d\nnon2xx=%d\n",
    s2xx, s429, s4xx, s5xx, other, e.status))
  out:write(string.format("socket_errors=%d\nconnect=%d\nread=%d\nwrite=%d\ntimeout=%d\n",
    e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout))
  out:close()
end
EOF

# (a) GET /workflow/{id}, round robin over the ids in $WRK_IDS.
cat >"$tmp/poll.lua" <<'EOF'
dofile(os.getenv("WRK_COMMON"))
local ids = {}
for line in io.lines(os.getenv("WRK_IDS")) do
  if #line > 0 then ids[#ids + 1] = line end
end
local i = 0
function init(args)
  i = math.random(#ids)
end
function request()
  i = i % #ids + 1
  return wrk.format("GET", "/workflow/" .. ids[i])
end
function response(status, headers, body)
  count(status)
end
function done(summary, latency, requests)
  write_summary(summary, latency)
end
EOF

# (b) POST /workflow; keeps the ids it was given; stops after $WRK_MAX requests in all.
cat >"$tmp/post.lua" <<'EOF'
dofile(os.getenv("WRK_COMMON"))
local f = assert(io.open(os.getenv("WRK_BODY")))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
ids = {}
local limit = 0
local answered = 0
function init(args)
  limit = tonumber(args[1])
end
function response(status, headers, body)
  count(status)
  if status == 200 then
    local id = body:match('"id":"([^"]+)"')
    if id then ids[#ids + 1] = id end
  end
  answered = answered + 1
  if answered >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("WRK_IDS_OUT"), "w"))
  write_summary(summary, latency, function(t)
    for _, id in ipairs(t:get("ids")) do out:write(id, "\n") end
  end)
  out:close()
end
EOF

export WRK_AUTH="$auth_header" WRK_COMMON="$tmp/common.lua" WRK_BODY="$tmp/body.json"
summary_value() { sed -n "s/^$2=//p" "$1"; }

mem_start=$(memory)

# --- (a) polling while TASKS tasks are submitted ------------------------------------------------
: >"$tmp/seeds.txt"
: >"$tmp/submitted.txt"
submit 20 "$tmp/seeds.txt" # the tasks wrk polls
awk '$1 == 200 { print $2 }' "$tmp/seeds.txt" >"$tmp/poll-ids.txt"
[ "$(wc -l <"$tmp/poll-ids.txt")" -eq 20 ] || { echo "the first tasks were not accepted:" >&2; cat "$tmp/seeds.txt" >&2; exit 1; }
say "(a) wrk: GET /workflow/{id} for $POLL_SECONDS s, $CONNECTIONS connections, while curl submits $TASKS tasks"
WRK_IDS="$tmp/poll-ids.txt" WRK_SUMMARY="$tmp/poll.summary" \
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${POLL_SECONDS}s" --timeout 5s --latency \
  -s "$tmp/poll.lua" "$base" >"$tmp/poll.wrk" 2>&1 &
wrk_pids+=($!)
submit_start=$(date +%s.%N)
submit "$TASKS" "$tmp/submitted.txt"
submit_end=$(date +%s.%N)
wait "${wrk_pids[0]}" || { cat "$tmp/poll.wrk" >&2; echo "wrk (a) failed" >&2; exit 1; }
wrk_pids=()
mem_a=$(memory)
submit_seconds=$(awk -v a="$submit_start" -v b="$submit_end" 'BEGIN { printf "%.2f", b - a }')
submit_ok=$(awk '$1 == 200' "$tmp/submitted.txt" | wc -l)
submit_429=$(awk '$1 == 429' "$tmp/submitted.txt" | wc -l)
submit_other=$(awk '$1 != 200 && $1 != 429' "$tmp/submitted.txt" | wc -l)
submit_5xx=$(awk '$1 >= 500 || $1 == 0' "$tmp/submitted.txt" | wc -l)
say "(a) $(summary_value "$tmp/poll.summary" rps) GET/s; curl: $submit_ok of $TASKS tasks accepted in $submit_seconds s"

# --- (b) POST flood ------------------------------------------------------------------------------
say "(b) wrk: POST /workflow for at most $POST_SECONDS s and $POST_MAX requests, $CONNECTIONS connections"
WRK_SUMMARY="$tmp/post.summary" WRK_IDS_OUT="$tmp/post-ids.txt" \
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${POST_SECONDS}s" --timeout 5s --latency \
  -s "$tmp/post.lua" "$base/workflow" -- "$(((POST_MAX + THREADS - 1) / THREADS))" >"$tmp/post.wrk" 2>&1 &
wrk_pids+=($!)
wait "${wrk_pids[0]}" || { cat "$tmp/post.wrk" >&2; echo "wrk (b) failed" >&2; exit 1; }
wrk_pids=()
say "(b) $(summary_value "$tmp/post.summary" rps) POST/s: $(summary_value "$tmp/post.summary" s2xx) accepted, $(summary_value "$tmp/post.summary" s429) got 429"

# --- drain -----------------------------------------------------------------------------------
say "waiting for the accepted tasks to finish"
total_of() { api "$base/workflow?status=$1&limit=1" | sed -n 's/.*"total":\([0-9]*\).*/\1/p'; }
drain_start=$(date +%s)
while :; do
  pending=$(total_of pending)
  running=$(total_of running)
  [ "${pending:-1}" -eq 0 ] && [ "${running:-1}" -eq 0 ] && break
  if [ $(($(date +%s) - drain_start)) -ge "$DRAIN_SECONDS" ]; then
    echo "still $pending pending and $running running after $DRAIN_SECONDS s" >&2
    break
  fi
  sleep 0.5
done
drain_seconds=$(($(date +%s) - drain_start))
mem_end=$(memory)

# --- (c) polling again, nothing submitted: memory per request must stay flat --------------------
say "(c) wrk: GET /workflow/{id} for $STEADY_SECONDS s, nothing submitted"
WRK_IDS="$tmp/poll-ids.txt" WRK_SUMMARY="$tmp/steady.summary" \
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${STEADY_SECONDS}s" --timeout 5s --latency \
  -s "$tmp/poll.lua" "$base" >"$tmp/steady.wrk" 2>&1 &
wrk_pids+=($!)
wait "${wrk_pids[0]}" || { cat "$tmp/steady.wrk" >&2; echo "wrk (c) failed" >&2; exit 1; }
wrk_pids=()
mem_steady=$(memory)

# --- checks ---------------------------------------------------------------------------------------
# Every id a client was given.
cat "$tmp/poll-ids.txt" >"$tmp/client-ids.txt"
awk '$1 == 200 { print $2 }' "$tmp/submitted.txt" >>"$tmp/client-ids.txt"
cat "$tmp/post-ids.txt" >>"$tmp/client-ids.txt"
sort "$tmp/client-ids.txt" >"$tmp/client-sorted.txt"
client_ids=$(wc -l <"$tmp/client-sorted.txt")
client_dups=$(uniq -d "$tmp/client-sorted.txt" | wc -l)
sort -u -o "$tmp/client-sorted.txt" "$tmp/client-sorted.txt"

# Every task the router has (newest first, 1000 a page).
: >"$tmp/router-ids.txt"
all_total=$(api "$base/workflow?limit=1" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
offset=0
while [ "$offset" -lt "$all_total" ]; do
  api "$base/workflow?limit=1000&offset=$offset" | grep -o '"id":"[^"]*"' | sed 's/"id":"//; s/"$//' >>"$tmp/router-ids.txt"
  offset=$((offset + 1000))
done
sort "$tmp/router-ids.txt" >"$tmp/router-sorted.txt"
router_ids=$(wc -l <"$tmp/router-sorted.txt")
router_dups=$(uniq -d "$tmp/router-sorted.txt" | wc -l)
sort -u -o "$tmp/router-sorted.txt" "$tmp/router-sorted.txt"
# Given to a client but unknown to the router: lost.
missing_ids=$(comm -23 "$tmp/client-sorted.txt" "$tmp/router-sorted.txt" | wc -l)
# Accepted while wrk stopped: the router has them, no client saw the answer.
unseen_ids=$(comm -13 "$tmp/client-sorted.txt" "$tmp/router-sorted.txt" | wc -l)

# Status of each task, one GET /workflow/{id} each (one curl, one keep-alive connection).
config="$tmp/status.curl"
: >"$config"
while read -r id; do printf 'url = "%s/workflow/%s"\n' "$base" "$id" >>"$config"; done <"$tmp/router-sorted.txt"
: >"$tmp/status.txt"
if [ -s "$config" ]; then
  # Keys come sorted: "id" before "status".
  curl -sS --noproxy '*' -u "$auth" -w '\n' -K "$config" |
    sed -n 's/.*"id":"\([^"]*\)".*"status":"\([a-z]*\)".*/\1 \2/p' >"$tmp/status.txt"
fi
done_ids=$(awk '$2 == "done"' "$tmp/status.txt" | wc -l)
not_done=$((router_ids - done_ids))
# "task <id> done after N ms" once per task.
sed -n 's/.*comfy\.tasks: task \([^ ]*\) done after .*/\1/p' "$log" | sort >"$tmp/done-lines.txt"
done_lines=$(wc -l <"$tmp/done-lines.txt")
dup_done=$(uniq -d "$tmp/done-lines.txt" | wc -l)
no_done_line=$(comm -23 "$tmp/router-sorted.txt" <(sort -u "$tmp/done-lines.txt") | wc -l)
lost=$((missing_ids + not_done))
duplicated=$((client_dups + router_dups + dup_done))
errors_a=$(summary_value "$tmp/poll.summary" socket_errors)
errors_b=$(summary_value "$tmp/post.summary" socket_errors)
errors_c=$(summary_value "$tmp/steady.summary" socket_errors)
s5xx=$(($(summary_value "$tmp/poll.summary" s5xx) + $(summary_value "$tmp/post.summary" s5xx) + $(summary_value "$tmp/steady.summary" s5xx) + submit_5xx))
router_alive=yes
kill -0 "$router_pid" 2>/dev/null || router_alive=no

verdict=PASS
reasons=()
[ "$s5xx" -eq 0 ] || reasons+=("$s5xx answers 5xx")
[ "$errors_a" -eq 0 ] && [ "$errors_b" -eq 0 ] && [ "$errors_c" -eq 0 ] ||
  reasons+=("socket errors: $errors_a in (a), $errors_b in (b), $errors_c in (c)")
poll_bad=0
for f in "$tmp/poll.summary" "$tmp/steady.summary"; do
  poll_bad=$((poll_bad + $(summary_value "$f" s429) + $(summary_value "$f" s4xx_other) + $(summary_value "$f" sother)))
done
post_bad=$(($(summary_value "$tmp/post.summary" s4xx_other) + $(summary_value "$tmp/post.summary" sother)))
[ "$poll_bad" -eq 0 ] || reasons+=("$poll_bad status polls not answered 200")
[ "$post_bad" -eq 0 ] || reasons+=("$post_bad POSTs answered neither 200 nor 429")
[ "$(summary_value "$tmp/post.summary" s2xx)" -gt 0 ] || reasons+=("no POST of (b) was accepted")
[ "$lost" -eq 0 ] || reasons+=("$lost tasks lost")
[ "$duplicated" -eq 0 ] || reasons+=("$duplicated duplicated")
[ "$done_lines" -eq "$router_ids" ] && [ "$no_done_line" -eq 0 ] ||
  reasons+=("$done_lines done lines for $router_ids tasks ($no_done_line tasks without one)")
[ "$unseen_ids" -le "$CONNECTIONS" ] || reasons+=("$unseen_ids tasks no client was told of (more than $CONNECTIONS connections)")
[ "$submit_other" -eq 0 ] || reasons+=("$submit_other curl submissions neither 200 nor 429")
[ "$router_alive" = yes ] || reasons+=("the router died")
[ ${#reasons[@]} -eq 0 ] || verdict=FAIL

# --- figures --------------------------------------------------------------------------------------
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
read -r rss_start hwm_start <<<"$mem_start"
read -r rss_a hwm_a <<<"$mem_a"
read -r rss_end hwm_end <<<"$mem_end"
read -r rss_steady hwm_steady <<<"$mem_steady"
steady_requests=$(summary_value "$tmp/steady.summary" requests)
per_request_bytes=$(awk -v a="$rss_end" -v b="$rss_steady" -v n="$steady_requests" 'BEGIN { printf "%.2f", n ? (b - a) * 1024 / n : 0 }')
per_task_kib=$(awk -v a="$rss_start" -v b="$rss_end" -v n="$router_ids" 'BEGIN { printf "%.1f", n ? (b - a) / n : 0 }')

machine_facts
fs=$(df -PT "$tmp" | awk 'NR == 2 { print $2 }')
wrk_version=$(wrk --version 2>&1 | head -n 1 | awk '{ print $2 }' || true)
commit_facts core server app
pa() { summary_value "$tmp/poll.summary" "$1"; }
pb() { summary_value "$tmp/post.summary" "$1"; }
pc() { summary_value "$tmp/steady.summary" "$1"; }

mkdir -p bench/results
{
  echo "Load benchmark (bench/load.sh): comfy-router --server --demo --demo-nodes $NODES --demo-step-delay-ms $STEP_DELAY_MS, loopback only"
  echo "wrk -t$THREADS -c$CONNECTIONS; pending limit $PENDING_LIMIT; Raw task LoadImage -> ImageInvert -> SaveImage on SIMULATED nodes"
  echo "date $date_utc; commit $commit$dirty; $cpu, $cores cores, $mem_gib GiB RAM; $os, Linux $kernel; $fs"
  echo "wrk $wrk_version, Qt $qt_version; RSS is the whole process, the $NODES simulated nodes (each keeping its last 10000 prompts) included"
  echo
  printf '%-36s %12s %10s %10s %10s %8s %8s %8s %8s\n' phase "requests" "req/s" "p50 ms" "p99 ms" "2xx" "429" "5xx" "errors"
  printf '%-36s %12s %10s %10s %10s %8s %8s %8s %8s\n' "(a) GET /workflow/{id}, ${POLL_SECONDS}s" \
    "$(pa requests)" "$(pa rps)" "$(pa p50_ms)" "$(pa p99_ms)" "$(pa s2xx)" "$(pa s429)" "$(pa s5xx)" "$(pa socket_errors)"
  printf '%-36s %12s %10s %10s %10s %8s %8s %8s %8s\n' "(a) curl POST /workflow, sequential" \
    "$TASKS" "$(awk -v n="$TASKS" -v s="$submit_seconds" 'BEGIN { printf "%.1f", n / s }')" "-" "-" \
    "$submit_ok" "$submit_429" "$submit_5xx" "0"
  printf '%-36s %12s %10s %10s %10s %8s %8s %8s %8s\n' "(b) wrk POST /workflow, ${POST_SECONDS}s max" \
    "$(pb requests)" "$(pb rps)" "$(pb p50_ms)" "$(pb p99_ms)" "$(pb s2xx)" "$(pb s429)" "$(pb s5xx)" "$(pb socket_errors)"
  printf '%-36s %12s %10s %10s %10s %8s %8s %8s %8s\n' "(c) GET /workflow/{id}, ${STEADY_SECONDS}s, idle" \
    "$(pc requests)" "$(pc rps)" "$(pc p50_ms)" "$(pc p99_ms)" "$(pc s2xx)" "$(pc s429)" "$(pc s5xx)" "$(pc socket_errors)"
  echo
  printf '%-44s %s\n' "tasks accepted (ids given to clients)" "$client_ids (20 polled + curl + wrk POST)"
  printf '%-44s %s\n' "tasks accepted, answer dropped by wrk at stop" "$unseen_ids"
  printf '%-44s %s\n' "tasks the router has" "$router_ids"
  printf '%-44s %s\n' "done (GET /workflow/{id})" "$done_ids"
  printf '%-44s %s\n' "\"done after\" log lines" "$done_lines"
  printf '%-44s %s\n' "lost" "$lost"
  printf '%-44s %s\n' "duplicated" "$duplicated"
  printf '%-44s %s\n' "drain after (b)" "$drain_seconds s"
  echo
  printf '%-44s %s\n' "router VmRSS start / (a) / (b)+drain / (c)" "$(mib "$rss_start") / $(mib "$rss_a") / $(mib "$rss_end") / $(mib "$rss_steady") MiB"
  printf '%-44s %s\n' "router VmHWM start / (a) / (b)+drain / (c)" "$(mib "$hwm_start") / $(mib "$hwm_a") / $(mib "$hwm_end") / $(mib "$hwm_steady") MiB"
  printf '%-44s %s\n' "RSS growth per task kept in the history" "$per_task_kib KiB (start to end of the drain)"
  printf '%-44s %s\n' "RSS growth per request in (c)" "$per_request_bytes bytes ($steady_requests requests)"
  echo
  if [ "$verdict" = PASS ]; then
    echo "PASS: no 5xx, no socket error, no task lost or duplicated"
  else
    echo "FAIL: ${reasons[*]}"
  fi
} | tee bench/results/load.txt

phase_json() { # $1: summary file
  local f=$1
  printf '{"requests": %s, "seconds": %s, "requests_per_second": %s, "latency_ms": {"p50": %s, "p90": %s, "p99": %s, "max": %s}, "status": {"2xx": %s, "429": %s, "4xx_other": %s, "5xx": %s, "other": %s}, "socket_errors": {"connect": %s, "read": %s, "write": %s, "timeout": %s}}' \
    "$(summary_value "$f" requests)" "$(summary_value "$f" seconds)" "$(summary_value "$f" rps)" \
    "$(summary_value "$f" p50_ms)" "$(summary_value "$f" p90_ms)" "$(summary_value "$f" p99_ms)" "$(summary_value "$f" max_ms)" \
    "$(summary_value "$f" s2xx)" "$(summary_value "$f" s429)" "$(summary_value "$f" s4xx_other)" "$(summary_value "$f" s5xx)" "$(summary_value "$f" sother)" \
    "$(summary_value "$f" connect)" "$(summary_value "$f" read)" "$(summary_value "$f" write)" "$(summary_value "$f" timeout)"
}
reasons_json=$(for r in "${reasons[@]}"; do json_str "$r"; echo; done | paste -sd, -)
cat >bench/results/load.json <<EOF
{
  "benchmark": "load",
  "date": $(json_str "$date_utc"),
  "commit": $(json_str "$commit$dirty"),
  "machine": {"cpu": $(json_str "$cpu"), "cores": $cores, "mem_gib": $mem_gib, "os": $(json_str "$os"), "kernel": $(json_str "$kernel"), "filesystem": $(json_str "$fs")},
  "versions": {"wrk": $(json_str "$wrk_version"), "qt": $(json_str "$qt_version")},
  "settings": {"tasks": $TASKS, "poll_seconds": $POLL_SECONDS, "post_seconds": $POST_SECONDS, "post_max": $POST_MAX, "connections": $CONNECTIONS, "threads": $THREADS, "nodes": $NODES, "step_delay_ms": $STEP_DELAY_MS, "pending_limit": $PENDING_LIMIT, "steady_seconds": $STEADY_SECONDS},
  "poll": $(phase_json "$tmp/poll.summary"),
  "submit": {"requests": $TASKS, "seconds": $submit_seconds, "accepted": $submit_ok, "status_429": $submit_429, "status_5xx": $submit_5xx},
  "post": $(phase_json "$tmp/post.summary"),
  "steady": $(phase_json "$tmp/steady.summary"),
  "tasks": {"accepted_seen": $client_ids, "accepted_unseen": $unseen_ids, "router": $router_ids, "done": $done_ids, "done_log_lines": $done_lines, "lost": $lost, "duplicated": $duplicated, "drain_seconds": $drain_seconds},
  "memory_kib": {"rss_start": $rss_start, "hwm_start": $hwm_start, "rss_after_poll": $rss_a, "hwm_after_poll": $hwm_a, "rss_end": $rss_end, "hwm_end": $hwm_end, "rss_after_steady": $rss_steady, "hwm_after_steady": $hwm_steady, "rss_growth_per_task": $per_task_kib, "rss_growth_bytes_per_steady_request": $per_request_bytes},
  "verdict": $(json_str "$verdict"),
  "failures": [$reasons_json]
}
EOF
say "wrote bench/results/load.txt and bench/results/load.json"
[ "$verdict" = PASS ]
