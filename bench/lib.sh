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
