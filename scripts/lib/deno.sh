# Sourced by every launcher: find (or install) the pinned Deno and set $DENO to the real binary.
# Order: $HALB_DENO; the copy installed under .tools/; a `deno` on PATH of the pinned version;
# install the pinned version from the npm registry; any `deno` on PATH (with a warning).
# The real binary is used, never npm's node wrapper, so signals sent to our pid reach Deno itself.
HALB_DENO_VERSION=2.9.6
halb_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

halb_deno_pkg() {
  case "$(uname -m)" in
    x86_64) echo "@deno/linux-x64-glibc" ;;
    aarch64|arm64) echo "@deno/linux-arm64-glibc" ;;
    *) echo "halb: no Deno build for $(uname -m)" >&2; return 1 ;;
  esac
}

halb_find_deno() {
  if [ -n "${HALB_DENO:-}" ]; then DENO=$HALB_DENO; return 0; fi
  local pkg; pkg=$(halb_deno_pkg) || return 1
  local local_bin="$halb_root/.tools/node_modules/$pkg/deno"
  if [ -x "$local_bin" ]; then DENO=$local_bin; return 0; fi
  local path_bin; path_bin=$(command -v deno 2>/dev/null || true)
  if [ -n "$path_bin" ] && "$path_bin" --version 2>/dev/null | head -1 | grep -q "^deno $HALB_DENO_VERSION "; then
    DENO=$path_bin; return 0
  fi
  if command -v npm >/dev/null 2>&1; then
    echo "halb: installing Deno $HALB_DENO_VERSION from the npm registry into .tools/ (first use only)" >&2
    mkdir -p "$halb_root/.tools"
    # The platform package carries the real binary; the `deno` package itself is only a node wrapper.
    if npm install --prefix "$halb_root/.tools" --no-save --no-audit --no-fund --loglevel=error \
      "$pkg@$HALB_DENO_VERSION" >&2 && [ -x "$local_bin" ]; then
      DENO=$local_bin; return 0
    fi
    echo "halb: npm could not install $pkg@$HALB_DENO_VERSION" >&2
  fi
  if [ -n "$path_bin" ]; then
    echo "halb: warning: using $("$path_bin" --version | head -1) from PATH; the pinned version is $HALB_DENO_VERSION" >&2
    DENO=$path_bin; return 0
  fi
  echo "halb: need node/npm (to install Deno $HALB_DENO_VERSION) or deno on PATH" >&2
  return 1
}
