#!/usr/bin/env bash
# Download benchmark (issue #4): the same file from a local nginx, through curl and through the
# router's real download path (DownloadCache -> Transfer -> QNetworkAccessManager, streamed into
# the cache folder, renamed and linked), alternately, RUNS times each. Loopback only.
#
#   bench/download.sh                      # 1 GiB, 3 runs of each
#   SIZE_MIB=256 RUNS=5 bench/download.sh  # options are environment variables
#
# Environment:
#   SIZE_MIB   size of the test file in MiB (default 1024)
#   RUNS       runs of curl and of the router, alternating (default 3)
#   BUILD_DIR  CMake build folder (default build; configured here if it does not exist)
#   STRICT=1   exit with 3 when a target is missed (default: report PASS/FAIL, exit 0)
#   TMPDIR     where the temporary folder goes (needs about 3 x SIZE_MIB free)
#
# It installs nginx (nginx-light, else nginx) and curl with apt-get when they are missing (as
# root, or through sudo), makes a file of random bytes in a temporary folder, and serves it
# with a private nginx (its own nginx.conf, pid, logs and temp folders in the temporary folder,
# run as the current user, listening on 127.0.0.1 on a free port). No system service is used,
# started or stopped by the benchmark itself (Debian's package may start its own nginx service
# when it is first installed; the benchmark leaves it alone). nginx is stopped and the temporary
# folder removed on exit.
#
# Prints (and writes to bench/results/download.txt and download.json): every run, the median
# curl and router times, the ratio router/curl, the router's peak RSS growth (VmHWM after the
# download minus VmHWM before it; the worst run counts), and the targets: within 10% of curl,
# memory growth under 32 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-3}
BUILD_DIR=${BUILD_DIR:-build}
STRICT=${STRICT:-0}
[[ $SIZE_MIB =~ ^[1-9][0-9]*$ ]] || { echo "SIZE_MIB must be a positive integer" >&2; exit 2; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer" >&2; exit 2; }
size_bytes=$((SIZE_MIB * 1024 * 1024))

source bench/lib.sh
ensure_tools nginx curl
build_target comfy-bench-download bench/comfy-bench-download
bench_bin="$BUILD_DIR/bench/comfy-bench-download"

# --- temporary folder, test file, private nginx ---------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/comfy-bench-download.XXXXXX")
cleanup() {
  nginx_stop "$tmp"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_kib=$(df -Pk "$tmp" | awk 'NR == 2 { print $4 }')
need_kib=$((3 * SIZE_MIB * 1024 + 65536))
if [ "$free_kib" -lt "$need_kib" ]; then
  echo "$tmp has $((free_kib / 1024)) MiB free, the benchmark needs $((need_kib / 1024)) MiB" >&2
  exit 1
fi

mkdir -p "$tmp/www" "$tmp/out"
file_name=model.safetensors
say "writing $SIZE_MIB MiB of random bytes"
head -c "$size_bytes" /dev/urandom >"$tmp/www/$file_name"
[ "$(stat -c %s "$tmp/www/$file_name")" -eq "$size_bytes" ] || { echo "cannot write the test file" >&2; exit 1; }
chmod 755 "$tmp" "$tmp/www"
chmod 644 "$tmp/www/$file_name"

nginx_start "$tmp" "access_log $tmp/nginx-access.log; default_type application/octet-stream; sendfile on; tcp_nopush on;" ""
port=$nginx_port
url="http://127.0.0.1:$port/$file_name"
curl -fsS --noproxy '*' -o /dev/null -I "$url" || { echo "nginx does not serve $url" >&2; exit 1; }
say "nginx (pid $nginx_pid) serves $url"

# --- the runs ------------------------------------------------------------------------------
curl_times=()
router_times=()
router_growth_kib=()
router_baseline_kib=()
for run in $(seq 1 "$RUNS"); do
  rm -f "$tmp/out/$file_name"
  sync
  t=$(curl -fsS --noproxy '*' -o "$tmp/out/$file_name" -w '%{time_total}' "$url")
  got=$(stat -c %s "$tmp/out/$file_name")
  [ "$got" -eq "$size_bytes" ] || { echo "curl got $got bytes, expected $size_bytes" >&2; exit 1; }
  rm -f "$tmp/out/$file_name"
  curl_times+=("$t")
  say "run $run/$RUNS curl:   $t s"

  rm -rf "$tmp/cache" "$tmp/root" # each run really downloads
  sync
  if ! out=$("$bench_bin" --expect-bytes "$size_bytes" "$url" "$tmp/cache" "$tmp/root" 2>"$tmp/router.log"); then
    echo "$out" >&2
    tail -n 20 "$tmp/router.log" >&2
    echo "router run $run failed" >&2
    exit 1
  fi
  result=$(printf '%s\n' "$out" | grep '^RESULT ')
  field() { printf '%s\n' "$result" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  [ "$(field bytes)" -eq "$size_bytes" ] || { echo "router got $(field bytes) bytes" >&2; exit 1; }
  router_times+=("$(field seconds)")
  router_growth_kib+=("$(field hwm_growth_kib)")
  router_baseline_kib+=("$(field hwm_before_kib)")
  say "run $run/$RUNS router: $(field seconds) s, peak RSS growth $(field hwm_growth_kib) KiB (baseline $(field hwm_before_kib) KiB)"
  rm -rf "$tmp/cache" "$tmp/root"
done
gets=$(grep -c "GET /$file_name " "$tmp/nginx-access.log" || true)

# --- figures -------------------------------------------------------------------------------
max() { printf '%s\n' "$@" | sort -g | tail -n 1; }
curl_median=$(median "${curl_times[@]}")
router_median=$(median "${router_times[@]}")
ratio=$(awk -v r="$router_median" -v c="$curl_median" 'BEGIN { printf "%.3f", r / c }')
growth_max_kib=$(max "${router_growth_kib[@]}")
growth_mib=$(awk -v k="$growth_max_kib" 'BEGIN { printf "%.1f", k / 1024 }')
baseline_mib=$(awk -v k="$(median "${router_baseline_kib[@]}")" 'BEGIN { printf "%.1f", k / 1024 }')
mibps() { awk -v s="$1" -v m="$SIZE_MIB" 'BEGIN { printf "%.0f", m / s }'; }
speed_ok=$(awk -v x="$ratio" 'BEGIN { print (x <= 1.10) ? "PASS" : "FAIL" }')
memory_ok=$(awk -v k="$growth_max_kib" 'BEGIN { print (k < 32 * 1024) ? "PASS" : "FAIL" }')

machine_facts
fs=$(df -PT "$tmp" | awk 'NR == 2 { print $2 }')
nginx_version=$(nginx_version)
curl_version=$(curl --version | head -n 1 | awk '{ print $2 }')
commit_facts core/downloads

mkdir -p bench/results
{
  echo "Download benchmark (bench/download.sh): $SIZE_MIB MiB of random bytes from a local nginx on 127.0.0.1"
  echo "curl -o FILE vs comfy-bench-download (DownloadCache -> Transfer -> QNetworkAccessManager), alternating, $RUNS runs each"
  echo "date $date_utc; commit $commit$dirty; $cpu, $cores cores, $mem_gib GiB RAM; $os, Linux $kernel; $fs"
  echo "nginx $nginx_version, curl $curl_version, Qt $qt_version; nginx saw $gets GETs of the file"
  echo
  printf '%-5s %12s %14s %22s\n' run "curl s" "router s" "router RSS growth MiB"
  for i in $(seq 0 $((RUNS - 1))); do
    printf '%-5s %12.3f %14.3f %22.1f\n' "$((i + 1))" "${curl_times[$i]}" "${router_times[$i]}" \
      "$(awk -v k="${router_growth_kib[$i]}" 'BEGIN { print k / 1024 }')"
  done
  echo
  printf '%-34s %s\n' "median curl" "$(printf '%.3f' "$curl_median") s ($(mibps "$curl_median") MiB/s)"
  printf '%-34s %s\n' "median router" "$(printf '%.3f' "$router_median") s ($(mibps "$router_median") MiB/s)"
  printf '%-34s %s\n' "ratio router/curl" "$ratio"
  printf '%-34s %s\n' "router peak RSS growth (worst run)" "$growth_mib MiB (baseline VmHWM $baseline_mib MiB)"
  echo
  printf '%-34s %s\n' "target: within 10% of curl" "$speed_ok (ratio $ratio, at most 1.10)"
  printf '%-34s %s\n' "target: memory growth under 32 MiB" "$memory_ok ($growth_mib MiB)"
} | tee bench/results/download.txt

cat >bench/results/download.json <<EOF
{
  "benchmark": "download",
  "date": $(json_str "$date_utc"),
  "commit": $(json_str "$commit$dirty"),
  "machine": {"cpu": $(json_str "$cpu"), "cores": $cores, "mem_gib": $mem_gib, "os": $(json_str "$os"), "kernel": $(json_str "$kernel"), "filesystem": $(json_str "$fs")},
  "versions": {"nginx": $(json_str "$nginx_version"), "curl": $(json_str "$curl_version"), "qt": $(json_str "$qt_version")},
  "size_bytes": $size_bytes,
  "runs": $RUNS,
  "nginx_gets": $gets,
  "curl_seconds": $(json_list "${curl_times[@]}"),
  "router_seconds": $(json_list "${router_times[@]}"),
  "router_hwm_growth_kib": $(json_list "${router_growth_kib[@]}"),
  "router_hwm_baseline_kib": $(json_list "${router_baseline_kib[@]}"),
  "median_curl_seconds": $curl_median,
  "median_router_seconds": $router_median,
  "ratio_router_curl": $ratio,
  "router_peak_rss_growth_mib": $growth_mib,
  "targets": {"within_10_percent_of_curl": $( [ "$speed_ok" = PASS ] && echo true || echo false ), "memory_growth_under_32_mib": $( [ "$memory_ok" = PASS ] && echo true || echo false )}
}
EOF
say "written bench/results/download.txt and bench/results/download.json"

if [ "$STRICT" = 1 ] && { [ "$speed_ok" != PASS ] || [ "$memory_ok" != PASS ]; }; then
  exit 3
fi
