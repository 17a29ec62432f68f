#!/usr/bin/env bash
# Install the Prometheus-stack binaries that the tests run, without touching the
# system: Debian packages (trixie, or the suite a PACKAGES line names) are fetched
# with `apt-get download` through a private apt configuration and unpacked with
# `dpkg -x` into <repo>/.tools/.
#
# Then builds the Go programs the tests run (Prometheus and promtool, Alertmanager
# and amtool, node_exporter, Pulumi CLI, Kubernetes provider, kube-apiserver & co,
# etcd, kwok) with scripts/build-go-tools.js, cached outside the clone.
#
# Usage: scripts/install-test-tools.sh [--with-system-packages] [--force] [--no-go-tools] [--help]
#   --with-system-packages  also apt-get install redis-server and postgresql from
#                           the system's own (bookworm) sources; needs root/sudo
#   --force                 re-download and re-unpack even if .tools/ is current
#   --no-go-tools           skip the Go builds (scripts/build-go-tools.js)
#
# Result: .tools/bin/{redis_exporter,postgres_exporter,blackbox_exporter} and the Go
#         tools (prometheus, promtool, alertmanager, amtool, node_exporter, ...)
# Env:    TRIXIE_MIRROR   override the Debian mirror URL (default: the one the
#                         system's apt sources already use)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "$0")" && pwd)"
TOOLS_DIR="$(cd "$SCRIPT_DIR/.." && pwd)/.tools"
APT_DIR="$TOOLS_DIR/apt"     # private apt config, lists and cache
DEB_DIR="$APT_DIR/debs"      # downloaded .deb files (removed after unpacking)
ROOT_DIR="$TOOLS_DIR/root"   # dpkg -x target (a fake /)
BIN_DIR="$TOOLS_DIR/bin"     # stable names the tests use
STAMP="$TOOLS_DIR/.stamp"
SUITE="trixie"               # the suite of a PACKAGES line that names none

# package  expected upstream series (checked so a surprise upgrade fails loudly)  [suite]
PACKAGES=(
  "prometheus-redis-exporter 1.69."
  "prometheus-postgres-exporter 0.17."
  # The release components/kube/images.ts pins (trixie has 0.26; the Go module proxy does not
  # serve the blackbox_exporter module). A static Go binary: forky's libraries are not needed.
  "prometheus-blackbox-exporter 0.28. forky"
)

# stable name in .tools/bin  ->  file inside the unpacked packages.
# Debian renames the upstream binaries (e.g. blackbox_exporter is
# /usr/bin/prometheus-blackbox-exporter). Prometheus, promtool, Alertmanager, amtool and
# node_exporter are built from their Go modules (scripts/build-go-tools.js) at the releases
# the images pin.
BINARIES=(
  "redis_exporter usr/bin/prometheus-redis-exporter"
  "postgres_exporter usr/bin/prometheus-postgres-exporter"
  "blackbox_exporter usr/bin/prometheus-blackbox-exporter"
)

WITH_SYSTEM_PACKAGES=0
FORCE=0
GO_TOOLS=1

die() { echo "install-test-tools: ERROR: $*" >&2; exit 1; }
log() { echo "install-test-tools: $*" >&2; }

for arg in "$@"; do
  case "$arg" in
    --with-system-packages) WITH_SYSTEM_PACKAGES=1 ;;
    --force) FORCE=1 ;;
    --no-go-tools) GO_TOOLS=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (see --help)" ;;
  esac
done

# --- preconditions -----------------------------------------------------------
# Everything below relies on Debian tooling; say so plainly instead of failing
# somewhere in the middle.
for cmd in apt-get apt-cache dpkg dpkg-query; do
  command -v "$cmd" >/dev/null 2>&1 ||
    die "'$cmd' not found: this script needs a Debian-based machine (apt/dpkg)."
done
[ "$(dpkg --print-architecture)" = amd64 ] ||
  log "warning: architecture is $(dpkg --print-architecture), not amd64; trying anyway"

# --- helpers -----------------------------------------------------------------

# Identifies the wanted set; if it changes (new package, new series) the stamp
# no longer matches and everything is fetched again.
spec() { printf '%s;' "$SUITE" "${PACKAGES[@]}" "${BINARIES[@]}"; }

# Every suite PACKAGES uses, the default first.
suites() {
  local entry pkg series suite out="$SUITE"
  for entry in "${PACKAGES[@]}"; do
    read -r pkg series suite <<<"$entry"
    [ -z "$suite" ] || [[ " $out " == *" $suite "* ]] || out="$out $suite"
  done
  echo "$out"
}

# True when every binary is in place and the stamp was written for this spec.
tools_current() {
  [ -f "$STAMP" ] || return 1
  [ "$(sed -n 's/^spec=//p' "$STAMP")" = "$(spec)" ] || return 1
  local entry
  for entry in "${BINARIES[@]}"; do
    [ -x "$BIN_DIR/${entry%% *}" ] || return 1
  done
}

# The Debian mirror the system already uses (keeps proxies/mirrors working on
# machines that can reach only that host). deb822 first, then one-line format;
# the security archive is skipped because it has no "trixie" suite.
detect_mirror() {
  local uri
  uri="$(
    {
      cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
        sed -n 's/^URIs:[[:space:]]*//p' | tr ' ' '\n'
      cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\{0,1\}\([^[:space:]]\+\).*/\2/p'
    } | grep -E '^https?://[^ ]+/debian/?$' | head -n1
  )" || true
  echo "${uri:-http://deb.debian.org/debian}"
}

# apt-get/apt-cache with a private configuration: no system source list,
# preferences or dpkg status are read, and lists/cache live under .tools/apt/.
# (The system's apt.conf.d still applies, e.g. a proxy setting.)
APT_OPTS=(
  -o "Dir::Etc::SourceList=/dev/null"
  -o "Dir::Etc::SourceParts=$APT_DIR/sources.list.d"
  -o "Dir::Etc::Preferences=/dev/null"
  -o "Dir::Etc::PreferencesParts=$APT_DIR/preferences.d"
  -o "Dir::State::Lists=$APT_DIR/lists"
  -o "Dir::State::status=/dev/null"
  -o "Dir::Cache=$APT_DIR/cache"
  -o "APT::Architecture=amd64"
  -o "Acquire::Languages=none"
)
# As root, apt would hand downloads to the _apt user, which may not be able to
# write into the work tree; download as the invoking user instead. Signatures
# and checksums are still verified.
[ "$(id -u)" -eq 0 ] && APT_OPTS+=(-o "APT::Sandbox::User=root")

papt_get() { apt-get "${APT_OPTS[@]}" "$@"; }
papt_cache() { apt-cache "${APT_OPTS[@]}" "$@"; }

print_versions() {
  local entry name out
  echo "Tools in $BIN_DIR:"
  for entry in "${BINARIES[@]}"; do
    name="${entry%% *}"
    # Go tools print their version on stdout or stderr depending on the tool.
    out="$("$BIN_DIR/$name" --version 2>&1)" ||
      die "$BIN_DIR/$name --version failed: $out"
    out="${out%%$'\n'*}"   # first line only
    # redis_exporter prints its version as a log line: keep just the message.
    if [[ "$out" =~ msg=\"([^\"]*)\" ]]; then out="$(tr -s ' ' <<<"${BASH_REMATCH[1]}")"; fi
    printf '  %-18s %s\n' "$name" "$out"
  done
  echo "Debian packages:"
  sed -n 's/^pkg=/  /p' "$STAMP"
}

# --- Debian tools into .tools/ -------------------------------------------------
install_tools() {
  local keyring="/usr/share/keyrings/debian-archive-keyring.gpg"
  [ -r "$keyring" ] ||
    die "$keyring missing: apt-get install debian-archive-keyring"

  mkdir -p "$APT_DIR/sources.list.d" "$APT_DIR/preferences.d" \
           "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
  # .tools/ must never be committed, whatever the repo's .gitignore says.
  echo '*' > "$TOOLS_DIR/.gitignore"

  local mirror="${TRIXIE_MIRROR:-$(detect_mirror)}"
  # deb822 format: apt only reads files ending in .sources from SourceParts.
  # Signed-By: the stock keyring; bookworm's debian-archive-keyring
  # (2023.3+deb12u*) already carries the keys that sign trixie and forky.
  rm -f "$APT_DIR"/sources.list.d/*.sources
  cat > "$APT_DIR/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $(suites)
Components: main
Architectures: amd64
Signed-By: $keyring
EOF

  log "updating private package lists for $(suites) from $mirror"
  local update_log="$APT_DIR/update.log"
  # apt-get update exits 0 when an index fails to download (only a W: line),
  # so also look for the fetch/signature warnings in its output.
  if ! papt_get -q update >"$update_log" 2>&1 ||
     grep -qE '^E: |^W: (Failed to fetch|Some index files|GPG error|An error occurred)' "$update_log"; then
    cat "$update_log" >&2
    if grep -qE 'NO_PUBKEY|EXPKEYSIG|not signed|signature' "$update_log"; then
      die "signature check of $(suites) failed; a newer debian-archive-keyring is needed" \
          "(e.g. download debian-archive-keyring from $SUITE and point Signed-By at its keyring)."
    fi
    die "apt-get update for $(suites) from $mirror failed (log: $update_log)."
  fi

  # Resolve exact versions first so the download is pinned and recorded: the
  # version in the package's own suite (madison lists every suite's).
  local entry pkg series suite version wanted=() versions=()
  for entry in "${PACKAGES[@]}"; do
    read -r pkg series suite <<<"$entry"; suite="${suite:-$SUITE}"
    version="$(papt_cache madison "$pkg" 2>/dev/null |
               awk -F' *[|] *' -v s=" $suite/main " 'index($3, s) { print $2; exit }')" || true
    [ -n "$version" ] || die "package '$pkg' not found in Debian $suite/main."
    case "${version#*:}" in
      "$series"*) ;;
      *) die "$pkg is $version in $suite, expected ${series}x; update PACKAGES in $0." ;;
    esac
    wanted+=("$pkg=$version"); versions+=("pkg=$pkg $version ($suite)")
  done

  log "downloading: ${wanted[*]}"
  rm -rf "$DEB_DIR"; mkdir -p "$DEB_DIR"
  (cd "$DEB_DIR" && papt_get -q download "${wanted[@]}") ||
    die "apt-get download failed for: ${wanted[*]}"
  for entry in "${wanted[@]}"; do
    pkg="${entry%%=*}"
    compgen -G "$DEB_DIR/${pkg}_*.deb" >/dev/null ||
      die "download of $pkg produced no .deb in $DEB_DIR"
  done

  # Unpack into a fresh tree and swap it in, so a failed run never leaves a
  # half-updated .tools/root behind.
  log "unpacking into $ROOT_DIR"
  rm -rf "$ROOT_DIR.new"; mkdir -p "$ROOT_DIR.new"
  local deb
  for deb in "$DEB_DIR"/*.deb; do
    dpkg -x "$deb" "$ROOT_DIR.new" || die "dpkg -x $deb failed"
  done
  rm -rf "$ROOT_DIR"; mv "$ROOT_DIR.new" "$ROOT_DIR"
  rm -rf "$DEB_DIR"   # ~60 MB; the unpacked tree is all we need

  # Relative symlinks keep working if the checkout is moved.
  rm -rf "$BIN_DIR"; mkdir -p "$BIN_DIR"
  local name path
  for entry in "${BINARIES[@]}"; do
    name="${entry%% *}"; path="${entry#* }"
    [ -x "$ROOT_DIR/$path" ] || die "expected binary $path not found in the packages"
    ln -s "../root/$path" "$BIN_DIR/$name"
    # Catch missing shared libraries etc. now rather than in a test.
    "$BIN_DIR/$name" --version >/dev/null 2>&1 ||
      die "$BIN_DIR/$name does not run on this machine: $("$BIN_DIR/$name" --version 2>&1 | head -n3)"
  done

  # Written last: its presence means the whole install succeeded.
  { echo "spec=$(spec)"; printf '%s\n' "${versions[@]}"; } > "$STAMP"
}

# --- optional: redis-server and PostgreSQL from the system's sources ---------
install_system_packages() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "--with-system-packages needs root or sudo"
    sudo=(sudo)
  fi
  local pkgs=(redis-server postgresql) missing=() p
  for p in "${pkgs[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] ||
      missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    # Refresh the system lists only when apt does not know a package yet
    # (fresh image with empty lists); otherwise install straight away.
    local need_update=0
    for p in "${missing[@]}"; do
      apt-cache show --no-all-versions "$p" >/dev/null 2>&1 || need_update=1
    done
    [ "$need_update" -eq 0 ] || "${sudo[@]}" apt-get -q update || die "apt-get update failed"
    log "installing ${missing[*]}"
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
         apt-get install -y -q --no-install-recommends "${missing[@]}"; then
      # Stale lists point at files the mirror no longer has: refresh once.
      log "install failed; refreshing package lists and retrying once"
      "${sudo[@]}" apt-get -q update || die "apt-get update failed"
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        die "apt-get install ${missing[*]} failed"
    fi
  fi
  # PostgreSQL's server binaries are not on PATH; report where they are.
  local pgbin
  # (Newest major version wins: 15 on bookworm, 17 on trixie.)
  pgbin="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
  [ -x "$pgbin/initdb" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
  command -v redis-server >/dev/null 2>&1 || die "redis-server not on PATH after install"
  echo "System packages:"
  printf '  %-18s %s (%s)\n' redis-server "$(command -v redis-server)" "$(redis-server --version)"
  printf '  %-18s %s (%s)\n' postgres "$pgbin/{initdb,postgres,pg_ctl}" "$("$pgbin/postgres" --version)"
}

# --- main ----------------------------------------------------------------------
if [ "$FORCE" -eq 0 ] && tools_current; then
  log "tools already installed in $TOOLS_DIR (use --force to refetch)"
else
  install_tools
fi
print_versions
[ "$WITH_SYSTEM_PACKAGES" -eq 0 ] || install_system_packages
if [ "$GO_TOOLS" -eq 1 ]; then
  command -v node >/dev/null 2>&1 || die "node not found: the Go tool builder is scripts/build-go-tools.js"
  node "$SCRIPT_DIR/build-go-tools.js" || die "building the Go tools failed (see above)"
fi
