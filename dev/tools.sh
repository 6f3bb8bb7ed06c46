#!/usr/bin/env bash
# Installs the pinned tools of the local stack into .tools/bin (git-ignored).
# Idempotent: a tool whose stamp file matches its pinned version is skipped, so the
# first run builds (a few minutes) and later runs return at once.
#
#   dev/tools.sh            Temporal CLI and FerretDB
#   dev/tools.sh --browser  also Debian's chromium, for the browser tests
#   dev/tools.sh --cluster  also the Temporal server, its SQL schema tool and the Temporal UI
#                           server, and Debian's PostgreSQL when missing, for the cluster profile
#                           (docs/cluster.md)
#
# Skips: TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH (Temporal), MONGODB_URI or FERRETDB_PATH
# (FerretDB), CHROMIUM_PATH or an installed chromium (browser).
set -euo pipefail

TEMPORAL_CLI_VERSION=v1.5.1
FERRETDB_VERSION=v1.24.2
# Bumped whenever patch_ferretdb changes, so an installed binary without the patches is rebuilt.
FERRETDB_PATCH_LEVEL=optinflow.5
# The server docker-compose.yml runs too (temporalio/auto-setup:1.29.1).
TEMPORAL_SERVER_VERSION=v1.29.1
# The Temporal UI for the cluster profile: the ui-server version Temporal CLI v1.5.1 embeds (its Go
# module carries the built web assets, so no Node build is needed).
TEMPORAL_UI_SERVER_VERSION=v2.42.1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="$ROOT/.tools/bin"

# Module-cache checkouts carry no VCS metadata; stamping it would fail outside a git tree.
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export CGO_ENABLED=0

log() { echo "[tools] $*"; }
fail() {
  echo "[tools] FAILED: $*" >&2
  exit 1
}

ferretdb_src=""
cleanup() { if [[ -n "$ferretdb_src" ]]; then rm -rf "$ferretdb_src"; fi; }
trap cleanup EXIT

want_browser=0
want_cluster=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    --cluster) want_cluster=1 ;;
    -h | --help)
      sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) fail "unknown argument '$arg' (expected --browser or --cluster)" ;;
  esac
done

mkdir -p "$BIN"

stamp_matches() { # tool version
  [[ -x "$BIN/$1" && -f "$BIN/.$1.version" && "$(cat "$BIN/.$1.version")" == "$2" ]]
}

# An overridden path must be usable: silently falling back to a build would hide a typo.
override_is_usable() { # variable-name
  local path="${!1}"
  [[ -x "$path" && ! -d "$path" ]] || fail "$1=$path is not an executable file: fix the path or unset $1"
}

require_go() { # what-for, override-hint
  command -v go >/dev/null 2>&1 || fail "go not found (needed to build $1): install Go >= 1.25, or set $2"
  local version
  version=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
  local major=${version%%.*} rest=${version#*.}
  local minor=${rest%%.*}
  if ! [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || ((major < 1 || (major == 1 && minor < 25))); then
    fail "go $version is too old to build $1: install Go >= 1.25, or set $2"
  fi
}

elapsed_since() { echo "$(($(date +%s) - $1))s"; }

install_temporal() {
  if [[ -n "${TEMPORAL_ADDRESS:-}" ]]; then
    log "TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS is set: using that server, not installing the Temporal CLI"
    return
  fi
  if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
    override_is_usable TEMPORAL_CLI_PATH
    log "using TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH"
    return
  fi
  if stamp_matches temporal "$TEMPORAL_CLI_VERSION"; then
    log "temporal $TEMPORAL_CLI_VERSION already installed"
    return
  fi
  require_go "the Temporal CLI" "TEMPORAL_CLI_PATH / TEMPORAL_ADDRESS"
  log "building Temporal CLI $TEMPORAL_CLI_VERSION (first time takes ~3 min)…"
  local started
  started=$(date +%s)
  rm -f "$BIN/.temporal.version"
  GOBIN="$BIN" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" ||
    fail "building the Temporal CLI failed (see the go output above): check that the Go module proxy is reachable, or set TEMPORAL_CLI_PATH / TEMPORAL_ADDRESS"
  # The CLI reports itself as 0.0.0-DEV when built with go install, so the stamp is the only record of its version.
  "$BIN/temporal" --version >/dev/null || fail "the built $BIN/temporal does not run"
  echo "$TEMPORAL_CLI_VERSION" >"$BIN/.temporal.version"
  log "temporal $TEMPORAL_CLI_VERSION installed in $(elapsed_since "$started")"
}

# Small changes to FerretDB 1.24.2 (its SQLite backend, and one debugging aid), each checked to have applied. Without them
# every lookup by _id scans the whole table (found with EXPLAIN QUERY PLAN), so the embedded store
# slowed down with every contact it held, and concurrent writers busy-waited on SQLite's lock.
#  1. Lookups by _id use the expression the _id index was built on (`->"_id"`), not `->'$._id'`,
#     which returns the same value but which SQLite cannot match to that index.
#  2. A filter with _id and other keys is narrowed by _id in SQL too. The backend contract allows a
#     partial filter: every handler applies the whole filter to what the backend returns.
#  3. Writes to one database take a Go mutex before SQLite's lock, so writers queue in order
#     instead of sleeping in SQLite's busy handler (which left the lock idle under contention).
#  4. No cap on a database's SQLite connections (FerretDB caps them at 100). A read not yet
#     exhausted (a cursor between batches, an update reading its documents) holds a connection, and
#     an update writes on a second one with its read still open: 100 such reads left every write
#     waiting for a connection for good (bench:optout with 80 workflow-task slots stopped that way;
#     test/integration/store-harness.test.ts). Connections now follow the clients' open reads and
#     commands; idle ones are still closed down to 100.
#  5. `_id: {$in: [...]}` of strings or ObjectIDs is narrowed by the _id index too (`IN (...)`);
#     FerretDB scanned the whole table for it, so every lookup of many documents by _id (a campaign's
#     row check, a page of event deliveries, a consent import) cost a scan of its collection.
#  6. No lifetime tracking of its iterators and connections (internal/util/resource): a leak
#     detector that records every tracked object with its call stack in a pprof profile and a
#     finalizer, about a tenth of FerretDB's CPU under bench:journeys (`/debug/pprof/profile`), and
#     whose finalizer panics the whole server on a leak it finds.
#  7. Its SQLite driver (modernc.org/sqlite, built from a patched copy) keeps statements prepared per
#     connection instead of parsing and planning each one on every execution, about a seventh of
#     FerretDB's CPU under bench:journeys (`/debug/pprof/profile`): dev/ferretdb/sqlite-stmt-cache.patch
#     and dev/ferretdb/sqlite_stmt_cache.go.
patch_ferretdb() { # src
  local src=$1 f
  f="$src/internal/backends/sqlite/metadata/metadata.go"
  perl -0pi -e 's/IDColumn = DefaultColumn \+ "->\x27\$\._id\x27"/IDColumn = DefaultColumn + `->"_id"`/' "$f"
  grep -q 'IDColumn = DefaultColumn + `->"_id"`' "$f" || fail "patching FerretDB: the _id column expression in $f was not found"

  f="$src/internal/backends/sqlite/collection.go"
  perl -0pi -e 's/\tif params\.Filter\.Len\(\) == 1 \{\n\t\tv, _ := params\.Filter\.Get\("_id"\)/\tif params.Filter.Len() > 0 \&\& params.Filter.Has("_id") {\n\t\tv, _ := params.Filter.Get("_id")/g' "$f"
  [[ $(grep -c 'if params.Filter.Len() > 0 && params.Filter.Has("_id") {' "$f") == 2 ]] || fail "patching FerretDB: the _id pushdown in $f was not found"

  f="$src/internal/util/fsql/db.go"
  perl -0pi -e 's/\t"log\/slog"\n/\t"log\/slog"\n\t"sync"\n/; s/\tBatchSize int\n\}/\tBatchSize int\n\n\twriteMu sync.Mutex\n}/; s/(func \(db \*DB\) ExecContext\(ctx context\.Context, query string, args \.\.\.any\) \(sql\.Result, error\) \{\n)/$1\tdb.writeMu.Lock()\n\tdefer db.writeMu.Unlock()\n\n/; s/(func \(db \*DB\) InTransaction\(ctx context\.Context, f func\(\*Tx\) error\) \(err error\) \{\n)/$1\tdb.writeMu.Lock()\n\tdefer db.writeMu.Unlock()\n\n/' "$f"
  [[ $(grep -c 'db.writeMu.Lock()' "$f") == 2 ]] || fail "patching FerretDB: the write paths in $f were not found"

  f="$src/internal/backends/sqlite/metadata/pool/opendb.go"
  perl -0pi -e 's/\tdb\.SetMaxIdleConns\(100\)\n\tdb\.SetMaxOpenConns\(100\)\n/\tdb.SetMaxIdleConns(100)\n\tdb.SetMaxOpenConns(0)\n/' "$f"
  grep -q 'db.SetMaxOpenConns(0)' "$f" || fail "patching FerretDB: the connection cap in $f was not found"

  cp "$ROOT/dev/ferretdb/id_in.go" "$src/internal/backends/sqlite/optinflow_id_in.go"
  f="$src/internal/backends/sqlite/collection.go"
  perl -0pi -e 's/\n\tq \+= whereClause\n/\n\tif whereClause == "" {\n\t\twhereClause, args = idInClause(params.Filter)\n\t}\n\n\tq += whereClause\n/; s/\n(\torderByClause := prepareOrderByClause\(params\.Sort\)\n)/\n\tif whereClause == "" {\n\t\twhereClause, args = idInClause(params.Filter)\n\t\tfilterPushdown = whereClause != ""\n\t}\n\n$1/' "$f"
  [[ $(grep -c 'whereClause, args = idInClause(params.Filter)' "$f") == 2 ]] || fail "patching FerretDB: the query and explain paths in $f were not found"

  f="$src/internal/util/resource/resource.go"
  perl -0pi -e 's/(func (Track|Untrack)\(obj any, token \*Token\) \{\n\tcheckArgs\(obj, token\)\n)/$1\n\tif true {\n\t\treturn\n\t}\n/g' "$f"
  [[ $(grep -c '^		return$' "$f") -ge 2 && $(grep -c '^	if true {$' "$f") == 2 ]] || fail "patching FerretDB: Track and Untrack in $f were not found"

  local sqlite_version sqlite_dir
  sqlite_version=$(cd "$src" && go list -m -f '{{.Version}}' modernc.org/sqlite) || fail "patching FerretDB: its modernc.org/sqlite version could not be read"
  [[ "$sqlite_version" == "v1.32.0" ]] || fail "patching FerretDB: dev/ferretdb/sqlite-stmt-cache.patch is for modernc.org/sqlite v1.32.0, FerretDB uses $sqlite_version"
  sqlite_dir=$(cd "$src" && go mod download -json "modernc.org/sqlite@$sqlite_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [[ -n "$sqlite_dir" && -d "$sqlite_dir" ]] || fail "patching FerretDB: go mod download gave no source directory for modernc.org/sqlite"
  mkdir -p "$src/optinflow"
  cp -R "$sqlite_dir" "$src/optinflow/sqlite"
  chmod -R u+w "$src/optinflow/sqlite"
  patch --quiet -p1 -d "$src/optinflow/sqlite" <"$ROOT/dev/ferretdb/sqlite-stmt-cache.patch" || fail "patching FerretDB: dev/ferretdb/sqlite-stmt-cache.patch did not apply"
  cp "$ROOT/dev/ferretdb/sqlite_stmt_cache.go" "$src/optinflow/sqlite/optinflow_stmt_cache.go"
  (cd "$src" && go mod edit -replace modernc.org/sqlite=./optinflow/sqlite) || fail "patching FerretDB: the replace of modernc.org/sqlite failed"
}

install_ferretdb() {
  if [[ -n "${MONGODB_URI:-}" ]]; then
    log "MONGODB_URI is set: using that server, not installing FerretDB"
    return
  fi
  if [[ -n "${FERRETDB_PATH:-}" ]]; then
    override_is_usable FERRETDB_PATH
    log "using FERRETDB_PATH=$FERRETDB_PATH"
    return
  fi
  if stamp_matches ferretdb "$FERRETDB_VERSION+$FERRETDB_PATCH_LEVEL"; then
    log "ferretdb $FERRETDB_VERSION already installed"
    return
  fi
  require_go "FerretDB" "FERRETDB_PATH / MONGODB_URI"
  log "building FerretDB $FERRETDB_VERSION (first time takes ~1 min)…"
  local started
  started=$(date +%s)
  rm -f "$BIN/.ferretdb.version"

  # `go install …/cmd/ferretdb@version` cannot be used: the module proxy refuses the module's
  # version list, which go install reads to look for deprecations. Downloading the exact
  # version does not need that list.
  local download dir
  download=$(cd "$BIN" && go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION") ||
    fail "downloading the FerretDB $FERRETDB_VERSION module failed: check that the Go module proxy is reachable, or set FERRETDB_PATH / MONGODB_URI"
  dir=$(printf '%s\n' "$download" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [[ -n "$dir" && -d "$dir" ]] || fail "go mod download gave no source directory for FerretDB: $download"

  # A FerretDB binary built as the main module panics at start unless build/version/version.txt
  # exists (its release process writes it), so build from a writable copy that has it.
  ferretdb_src=$(mktemp -d "${TMPDIR:-/tmp}/ferretdb-src.XXXXXX")
  local src=$ferretdb_src
  cp -R "$dir/." "$src/"
  chmod -R u+w "$src"
  echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  patch_ferretdb "$src"
  (cd "$src" && go build -trimpath -o "$BIN/ferretdb" ./cmd/ferretdb) ||
    fail "building FerretDB failed (see the go output above): set FERRETDB_PATH / MONGODB_URI to use another MongoDB-compatible server"
  # Read the whole output first: `| grep -q` would close the pipe early, and with pipefail the
  # SIGPIPE that ferretdb then gets would fail this check at random.
  local reported
  reported=$("$BIN/ferretdb" --version 2>&1 || true)
  [[ "$reported" == *"version: $FERRETDB_VERSION"* ]] ||
    fail "the built $BIN/ferretdb does not report version $FERRETDB_VERSION (it says: ${reported%%$'\n'*})"
  echo "$FERRETDB_VERSION+$FERRETDB_PATCH_LEVEL" >"$BIN/.ferretdb.version"
  log "ferretdb $FERRETDB_VERSION installed in $(elapsed_since "$started")"
}

install_chromium() {
  if [[ -n "${CHROMIUM_PATH:-}" ]]; then
    override_is_usable CHROMIUM_PATH
    log "using CHROMIUM_PATH=$CHROMIUM_PATH"
    return
  fi
  if [[ -x /usr/bin/chromium ]]; then
    log "chromium already installed ($(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium))"
    return
  fi
  command -v apt-get >/dev/null 2>&1 ||
    fail "chromium is missing and apt-get is not available: install chromium yourself and set CHROMIUM_PATH"
  [[ "$(id -u)" == 0 ]] ||
    fail "chromium is missing and installing it needs root: run 'sudo apt-get install -y chromium', or set CHROMIUM_PATH"
  log "installing Debian's chromium for the browser tests…"
  local started
  started=$(date +%s)
  DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
    fail "apt-get update failed: check the Debian package sources, or set CHROMIUM_PATH"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null ||
    fail "apt-get install chromium failed: install it yourself and set CHROMIUM_PATH"
  log "chromium installed in $(elapsed_since "$started")"
}

# The real server (not the CLI's dev server) and its schema tool, both from the server's module, and
# the PostgreSQL schema files of that version, which the schema tool applies at start.
install_temporal_server() {
  if stamp_matches temporal-server "$TEMPORAL_SERVER_VERSION"; then
    log "temporal-server $TEMPORAL_SERVER_VERSION already installed"
  else
    require_go "the Temporal server" "nothing: the cluster profile needs it"
    log "building Temporal server $TEMPORAL_SERVER_VERSION and its SQL tool (first time takes ~10 min on 2 cores)…"
    local started tmp
    started=$(date +%s)
    tmp=$(mktemp -d)
    rm -f "$BIN/.temporal-server.version"
    GOBIN="$tmp" go install "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION" ||
      fail "building the Temporal server failed (see the go output above): check that the Go module proxy is reachable"
    mv "$tmp/server" "$BIN/temporal-server" && mv "$tmp/sql" "$BIN/temporal-sql-tool" && rmdir "$tmp"
    local schema
    schema="$(go env GOMODCACHE)/go.temporal.io/server@$TEMPORAL_SERVER_VERSION/schema/postgresql/v12"
    [[ -d "$schema/temporal/versioned" ]] || fail "the PostgreSQL schema of the Temporal server was not found in $schema"
    rm -rf "$ROOT/.tools/temporal-schema" && mkdir -p "$ROOT/.tools/temporal-schema" && cp -r "$schema/." "$ROOT/.tools/temporal-schema/"
    chmod -R u+w "$ROOT/.tools/temporal-schema"
    echo "$TEMPORAL_SERVER_VERSION" >"$BIN/.temporal-server.version"
    log "temporal-server $TEMPORAL_SERVER_VERSION installed in $(elapsed_since "$started")"
  fi
}

# The cluster profile starts it when present (TEMPORAL_UI_SERVER_PATH overrides); the profile runs without it.
install_temporal_ui_server() {
  if [[ -n "${TEMPORAL_UI_SERVER_PATH:-}" ]]; then
    override_is_usable TEMPORAL_UI_SERVER_PATH
    log "using TEMPORAL_UI_SERVER_PATH=$TEMPORAL_UI_SERVER_PATH"
    return
  fi
  if stamp_matches temporal-ui-server "$TEMPORAL_UI_SERVER_VERSION"; then
    log "temporal-ui-server $TEMPORAL_UI_SERVER_VERSION already installed"
    return
  fi
  require_go "the Temporal UI server" "TEMPORAL_UI_SERVER_PATH"
  log "building Temporal UI server $TEMPORAL_UI_SERVER_VERSION…"
  local started tmp
  started=$(date +%s)
  tmp=$(mktemp -d)
  GOBIN="$tmp" go install "github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_SERVER_VERSION" ||
    fail "building the Temporal UI server failed (see the go output above): check that the Go module proxy is reachable"
  mv "$tmp/server" "$BIN/temporal-ui-server" && rmdir "$tmp"
  echo "$TEMPORAL_UI_SERVER_VERSION" >"$BIN/.temporal-ui-server.version"
  log "temporal-ui-server $TEMPORAL_UI_SERVER_VERSION installed in $(elapsed_since "$started")"
}

install_postgres() {
  if compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
    log "PostgreSQL already installed ($(ls -d /usr/lib/postgresql/*/bin | head -1))"
    return
  fi
  command -v apt-get >/dev/null 2>&1 || fail "PostgreSQL is missing and apt-get is not available: install PostgreSQL 12+ yourself"
  [[ "$(id -u)" == 0 ]] || fail "PostgreSQL is missing and installing it needs root: run 'sudo apt-get install -y postgresql'"
  log "installing Debian's PostgreSQL for the cluster profile…"
  local started
  started=$(date +%s)
  DEBIAN_FRONTEND=noninteractive apt-get update -qq || fail "apt-get update failed: check the Debian package sources"
  # Only the server binaries: the package's own cluster (pg_createcluster) is not used.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || fail "apt-get install postgresql failed"
  log "PostgreSQL installed in $(elapsed_since "$started")"
}

install_temporal
install_ferretdb
if ((want_browser)); then install_chromium; fi
if ((want_cluster)); then
  install_temporal_server
  install_temporal_ui_server
  install_postgres
fi
