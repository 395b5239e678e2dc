#!/usr/bin/env bash
# Proves the README's promise that a fresh clone needs nothing but `npm run dev`:
# clones the committed HEAD into a temporary directory (no node_modules), runs
# `npm run dev` there on free ports and waits until the Convex runtime, its site
# (/healthz), the provider simulator and Vite all answer. Then stops everything
# and removes the clone.
#
#   bash scripts/check-fresh-clone.sh     (or npm run check:fresh-clone)
#
# FRESH_CLONE_TIMEOUT (seconds, default 240) bounds the wait, install included.
# The clone's `npm ci` may reuse the npm cache (prefer-offline); it still has to run.
set -euo pipefail

root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
timeout_s="${FRESH_CLONE_TIMEOUT:-240}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/fresh-clone.XXXXXX")"
clone="$tmp/repo"
log="$tmp/dev.log"
pid=""

stop_dev() {
  [ -n "$pid" ] || return 0
  # The whole process group: npm, tsx, the runtime, Vite (and npm ci if still running).
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}
cleanup() {
  set +e # clean up as far as possible, whatever fails
  stop_dev
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "check-fresh-clone: FAILED: $*" >&2
  if [ -s "$log" ]; then
    echo "--- last lines of npm run dev ---" >&2
    tail -n 40 "$log" >&2
  fi
  exit 1
}

git clone --quiet "$root" "$clone"
echo "check-fresh-clone: cloned $(git -C "$clone" rev-parse --short HEAD) (no node_modules); running npm run dev"

# Four distinct free ports, so a running `npm run dev` on the defaults does not matter.
read -r convex_port site_port simulator_port vite_port < <(node -e '
  const net = require("node:net");
  const servers = Array.from({ length: 4 }, () => net.createServer());
  Promise.all(servers.map((s) => new Promise((ok) => s.listen(0, "127.0.0.1", ok)))).then(() => {
    console.log(servers.map((s) => s.address().port).join(" "));
    for (const s of servers) s.close();
  });
')

start=$(date +%s)
set -m # its own process group, so stop_dev reaches every child
(
  cd "$clone"
  # A fresh shell's environment, not that of an npm script running this check.
  for v in $(compgen -e); do
    case "$v" in
      npm_config_cache | npm_config_registry | npm_config_userconfig) ;;
      npm_* | INIT_CWD) unset "$v" ;;
    esac
  done
  export CONVEX_PORT="$convex_port" CONVEX_SITE_PORT="$site_port" SIMULATOR_PORT="$simulator_port" \
    VITE_PORT="$vite_port" CONVEX_DATA_DIR="$tmp/data" npm_config_prefer_offline=true
  exec npm run dev
) </dev/null >"$log" 2>&1 &
pid=$!
set +m

probe() {
  # shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
  node -e '
    const [cloud, site, sim, vite] = process.argv.slice(1);
    const checks = {
      "Convex runtime": `http://127.0.0.1:${cloud}/version`,
      "Convex site /healthz": `http://127.0.0.1:${site}/healthz`,
      "provider simulator": `http://127.0.0.1:${sim}/_sim`,
      "Vite": `http://127.0.0.1:${vite}/`,
    };
    Promise.all(
      Object.entries(checks).map(async ([name, url]) => {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
          await res.arrayBuffer();
          return res.status === 200 ? null : `${name} (${url}: HTTP ${res.status})`;
        } catch {
          return `${name} (${url})`;
        }
      }),
    ).then((down) => {
      const missing = down.filter(Boolean);
      if (missing.length) console.log(missing.join(", "));
      process.exit(missing.length ? 1 : 0);
    });
  ' "$convex_port" "$site_port" "$simulator_port" "$vite_port"
}

waiting=""
while :; do
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" && code=0 || code=$?
    pid=""
    fail "npm run dev exited (code $code) before everything answered."
  fi
  if waiting="$(probe)"; then break; fi
  if [ $(($(date +%s) - start)) -ge "$timeout_s" ]; then
    fail "after ${timeout_s}s these still do not answer with 200: $waiting"
  fi
  sleep 2
done
elapsed=$(($(date +%s) - start))

grep -q "Installing dependencies (npm ci)" "$log" ||
  fail "npm run dev came up without announcing the npm ci it must have run."
[ -f "$clone/node_modules/.package-lock.json" ] || fail "npm run dev did not install node_modules."

echo "check-fresh-clone: OK in ${elapsed}s: npm ci, then runtime :$convex_port, site :$site_port/healthz, simulator :$simulator_port, Vite :$vite_port all answer."
