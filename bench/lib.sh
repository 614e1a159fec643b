# Shared by the bench/*.sh scripts (sourced, from the repository's top folder).

say() { printf '== %s\n' "$*" >&2; }

find_nginx() {
  command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}

# ensure_tools TOOL...: installs the missing ones with apt-get (root, or through sudo);
# "nginx" means nginx-light where Debian has it, else nginx.
ensure_tools() {
  local missing=() packages=() tool
  for tool in "$@"; do
    if [ "$tool" = nginx ]; then
      [ -n "$(find_nginx)" ] || missing+=(nginx)
    else
      command -v "$tool" >/dev/null || missing+=("$tool")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q >&2
  for tool in "${missing[@]}"; do
    if [ "$tool" = nginx ] && apt-cache show nginx-light >/dev/null 2>&1; then
      packages+=(nginx-light)
    else
      packages+=("$tool")
    fi
  done
  say "installing ${packages[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${packages[@]}" >&2
}

# build_target TARGET PATH: configures $BUILD_DIR when it is new, builds TARGET, and checks
# that $BUILD_DIR/PATH exists.
build_target() {
  local target=$1 path=$2
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    scripts/install-deps.sh
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
      -DCOMFY_BUILD_BENCH=ON
  fi
  say "building $target in $BUILD_DIR"
  cmake --build "$BUILD_DIR" --target "$target" >&2
  [ -x "$BUILD_DIR/$path" ] || { echo "$BUILD_DIR/$path was not built (COMFY_BUILD_BENCH=OFF?)" >&2; exit 1; }
}

# free_port: a TCP port nobody listens on at 127.0.0.1 now (tried by whoever binds it next).
free_port() {
  local candidate
  for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 40000))
    ss -Htln "sport = :$candidate" 2>/dev/null | grep -q . || { echo "$candidate"; return; }
  done
  return 1
}

# A private nginx for a benchmark: loopback only, one worker running as the current user, its
# nginx.conf, pid, logs and temporary folders in DIR, its files served from DIR/www; no system
# service is used, started or stopped.
#   nginx_start DIR "HTTP-DIRECTIVES" "SERVER-DIRECTIVES"   # sets nginx_port and nginx_pid
#   nginx_stop DIR                                          # safe to call when none runs
nginx_start() {
  local dir=$1 http_extra=$2 server_extra=$3 nginx_bin candidate user_line=""
  nginx_bin=$(find_nginx)
  [ -n "$nginx_bin" ] || { echo "nginx is not installed" >&2; return 1; }
  # As root, nginx's workers would drop to "nobody": keep them the current user.
  [ "$(id -u)" -eq 0 ] && user_line="user $(id -un) $(id -gn);"
  mkdir -p "$dir/www" "$dir/nginx-temp"
  chmod 755 "$dir" "$dir/www"
  nginx_port=""
  for _ in $(seq 1 30); do
    candidate=$(free_port) || break
    cat >"$dir/nginx.conf" <<CONF
# Private nginx of a comfy-router benchmark: loopback only, everything in $dir.
$user_line
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 1024; }
http {
  client_body_temp_path $dir/nginx-temp/body;
  proxy_temp_path $dir/nginx-temp/proxy;
  fastcgi_temp_path $dir/nginx-temp/fastcgi;
  uwsgi_temp_path $dir/nginx-temp/uwsgi;
  scgi_temp_path $dir/nginx-temp/scgi;
  types { }
  $http_extra
  server {
    listen 127.0.0.1:$candidate;
    root $dir/www;
    $server_extra
  }
}
CONF
    if "$nginx_bin" -p "$dir" -e "$dir/nginx-error.log" -c "$dir/nginx.conf" 2>>"$dir/nginx-start.log"; then
      nginx_port=$candidate
      break
    fi
  done
  [ -n "$nginx_port" ] || { echo "cannot start nginx:" >&2; cat "$dir/nginx-start.log" >&2; return 1; }
  for _ in $(seq 1 50); do [ -s "$dir/nginx.pid" ] && break; sleep 0.1; done
  nginx_pid=$(cat "$dir/nginx.pid")
}

nginx_stop() {
  local dir=$1 pid=""
  [ -f "$dir/nginx.pid" ] && pid=$(cat "$dir/nginx.pid" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true # the master we started; it stops its worker
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

# nginx_version: what `nginx -v` says, without the name.
nginx_version() { "$(find_nginx)" -v 2>&1 | sed 's/.*nginx\///'; }

# median N...: the median of the numbers.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# For the .json results: a list of numbers, a quoted string.
json_list() { local IFS=,; echo "[$*]"; }
json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

# machine_facts: sets date_utc, cpu, cores, mem_gib, os, kernel and qt_version for a result's
# header line.
machine_facts() {
  date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  cores=$(nproc)
  mem_gib=$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
  os=$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null || uname -s)
  kernel=$(uname -r)
  qt_version=$(dpkg-query -W -f='${Version}' libqt6core6 2>/dev/null || echo unknown)
}

# commit_facts PATH...: sets commit, and dirty (" (PATHS modified)" when those have uncommitted
# changes: the figures are then not the commit's).
commit_facts() {
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=""
  if git status --porcelain -- "$@" 2>/dev/null | grep -q .; then
    dirty=" ($(IFS=/; echo "$*") modified)"
  fi
}
