# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # globals shared with the script that sources this file
# Shared by the bench/run-* scripts (sourced, never run): a temporary directory and the processes
# started in it (stopped and removed on exit), fake accounts, the fake upstream, provisioning
# through the admin CLI and starting `codex-pooler serve`.
#
# Before sourcing, set `bench_name` (prefix of messages). Afterwards `$tmp` exists and the EXIT
# trap is installed; `bench_track PID` adds a process to stop (last started, first stopped) and
# `bench_on_exit 'command'` adds a command to run after the processes were stopped.

die() {
  echo "$bench_name: $*" >&2
  exit 2
}
note() { echo "== $*" >&2; }

# Last lines of a log, for error messages.
show_log() {
  echo "--- last lines of $1:" >&2
  tail -n 20 "$1" >&2 || true
}

# Reads one field of the JSON document on stdin: `json_field key` or `json_field key.sub`.
json_field() {
  python3 -c '
import json, sys
value = json.load(sys.stdin)
for part in sys.argv[1].split("."):
    value = value[part]
print(value)' "$1"
}

# A loopback port nobody listens on right now.
free_port() {
  python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Percentage of CPU time not idle over one second (the load average lags by a minute). Other work
# on the machine moves the percentiles by milliseconds; callers warn above 10 %.
cpu_busy_pct() {
  python3 -c '
import time
def sample():
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(fields), fields[3] + fields[4]
total0, idle0 = sample()
time.sleep(1)
total1, idle1 = sample()
print(round(100 * (1 - (idle1 - idle0) / max(1, total1 - total0))))'
}

# cpu_seconds_in_window WARMUP_S DURATION_S PID…: sleeps WARMUP_S, reads each process's CPU time
# (user + system, /proc/PID/stat), sleeps DURATION_S and reads again; prints a JSON object of
# seconds spent per PID inside that window. Started next to a load generator with the same warmup
# and duration, it measures the CPU the measured requests cost each process.
cpu_seconds_in_window() {
  python3 - "$@" <<'PY'
import json, os, sys, time

warmup, duration, pids = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
ticks = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    # Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks

time.sleep(warmup)
before = {pid: cpu(pid) for pid in pids}
time.sleep(duration)
print(json.dumps({pid: round(cpu(pid) - before[pid], 3) for pid in pids}))
PY
}

machine_description() {
  echo "$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -sr)"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cxp-bench.XXXXXX")
bench_pids=()
bench_exit_hooks=()

bench_track() { bench_pids+=("$1"); }
# Runs a command in the background and waits for it, so SIGTERM/SIGINT reach the traps at once
# (bash runs a trap only after a foreground command ended) and the command is stopped on exit.
bench_run() {
  "$@" &
  local pid=$!
  bench_track "$pid"
  wait "$pid"
}
bench_on_exit() { bench_exit_hooks+=("$1"); }

stop_process() {
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
bench_cleanup() {
  local status=$? i
  for ((i = ${#bench_pids[@]} - 1; i >= 0; i--)); do
    stop_process "${bench_pids[i]}"
  done
  for hook in "${bench_exit_hooks[@]}"; do
    eval "$hook" || true
  done
  if [[ ${BENCH_KEEP_TMP:-0} == 1 ]]; then
    echo "$bench_name: kept $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$status"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bench_fake_accounts COUNT: fake accounts (unsigned JWTs as the fake issues them) in
# $tmp/fake-accounts.json, matching auth.json files in $tmp/auth-files.json, the first account's
# id and bearer in $tmp/direct-account and $tmp/direct-token, and a Codex-shaped Responses body in
# $tmp/body.json.
bench_fake_accounts() {
  python3 - "$tmp" "$1" <<'PY'
import base64, datetime, json, sys, time, uuid

out, count = sys.argv[1], int(sys.argv[2])

def b64url(obj):
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

def jwt(claims):
    return b64url({"alg": "none", "typ": "JWT"}) + "." + b64url(claims) + ".sig"

now = int(time.time())
fake_accounts, auth_files = [], []
for i in range(1, count + 1):
    account = f"acct-bench-{i}"
    auth = {"chatgpt_account_id": account, "chatgpt_plan_type": "plus",
            "chatgpt_user_id": f"user-{account}"}
    # The fake compares the bearer byte for byte; exp is a day out so the gateway never refreshes.
    access = jwt({"exp": now + 86400, "gen": 0, "https://api.openai.com/auth": auth})
    id_token = jwt({"exp": now + 86400, "email": f"{account}@bench.invalid",
                    "https://api.openai.com/auth": auth})
    refresh = f"rt-{account}-0"
    # Limits far above what a run can serve, so quota never shapes routing or answers 429.
    fake_accounts.append({"account_id": account, "access_token": access, "refresh_token": refresh,
                          "primary_limit": 1_000_000_000, "secondary_limit": 1_000_000_000})
    auth_files.append({"auth_mode": "chatgpt", "OPENAI_API_KEY": None,
                       "tokens": {"id_token": id_token, "access_token": access,
                                  "refresh_token": refresh, "account_id": account},
                       "last_refresh": datetime.datetime.now(datetime.timezone.utc)
                           .strftime("%Y-%m-%dT%H:%M:%SZ")})

json.dump(fake_accounts, open(f"{out}/fake-accounts.json", "w"))
json.dump(auth_files, open(f"{out}/auth-files.json", "w"))
open(f"{out}/direct-account", "w").write(fake_accounts[0]["account_id"])
open(f"{out}/direct-token", "w").write(fake_accounts[0]["access_token"])

# Shaped like a Codex CLI turn: instructions, one shell tool, reasoning, a short user message.
instructions = ("You are Codex, a coding agent running in a terminal. Be concise and precise. "
                "Read files before editing them, prefer small focused changes, run the tests "
                "that cover what you changed, and explain what you did in a few sentences. ") * 5
body = {
    "model": "gpt-5.5",
    "instructions": instructions,
    "input": [{"type": "message", "role": "user",
               "content": [{"type": "input_text", "text": "say hi"}]}],
    "tools": [{"type": "function", "name": "shell",
               "description": "Runs a shell command and returns its output.",
               "strict": False,
               "parameters": {"type": "object",
                              "properties": {
                                  "command": {"type": "array", "items": {"type": "string"},
                                              "description": "The command and its arguments."},
                                  "workdir": {"type": "string",
                                              "description": "Working directory."},
                                  "timeout_ms": {"type": "number",
                                                 "description": "Timeout in milliseconds."}},
                              "required": ["command"], "additionalProperties": False}}],
    "tool_choice": "auto",
    "parallel_tool_calls": False,
    "reasoning": {"effort": "medium", "summary": "auto"},
    "store": False,
    "stream": True,
    "include": ["reasoning.encrypted_content"],
    "prompt_cache_key": str(uuid.uuid4()),
    "text": {"verbosity": "medium"},
}
open(f"{out}/body.json", "w").write(json.dumps(body))
PY
}

# bench_start_fake BINARY THREADS: starts the fake upstream on an ephemeral port with
# $tmp/fake-accounts.json; sets fake_pid and fake_port.
bench_start_fake() {
  "$1" --port 0 --accounts "$tmp/fake-accounts.json" --threads "$2" >"$tmp/fake.log" 2>&1 &
  fake_pid=$!
  bench_track "$fake_pid"
  fake_port=
  for _ in $(seq 100); do
    fake_port=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("msg") == "listening":
        print(msg["port"]); break
' "$tmp/fake.log")
    [[ -n $fake_port ]] && break
    kill -0 "$fake_pid" 2>/dev/null || { show_log "$tmp/fake.log"; die "fake-upstream exited"; }
    sleep 0.1
  done
  [[ -n $fake_port ]] || { show_log "$tmp/fake.log"; die "fake-upstream did not report its port"; }
}

# The gateway's environment for the fake upstream on $fake_port: bench_gateway_env DATABASE_URL
# LOG_LEVEL fills the array gateway_env (callers append to it).
bench_gateway_env() {
  gateway_env=(
    "DATABASE_URL=$1"
    "CODEX_POOLER_DATA_DIR=$tmp"
    "CODEX_POOLER_BIND_ADDRESS=127.0.0.1"
    "CODEX_POOLER_UPSTREAM_BASE_URL=http://127.0.0.1:$fake_port/backend-api"
    "CODEX_POOLER_OAUTH_TOKEN_URL=http://127.0.0.1:$fake_port/oauth/token"
    "CODEX_POOLER_LOG_LEVEL=$2"
    "CODEX_POOLER_SHUTDOWN_GRACE_MS=1000"
  )
}

# bench_provision GATEWAY_BIN: migrate, one pool, the accounts of $tmp/auth-files.json and an API
# key, through the admin CLI with gateway_env; sets pool_id and pool_key.
bench_provision() {
  local bin=$1 pool_json import_json key_json
  env "${gateway_env[@]}" "$bin" migrate >"$tmp/migrate.log" 2>&1 \
    || { show_log "$tmp/migrate.log"; die "migrate failed"; }
  pool_json=$(env "${gateway_env[@]}" "$bin" admin pool create --name bench 2>"$tmp/admin.err") \
    || { show_log "$tmp/admin.err"; die "admin pool create failed"; }
  pool_id=$(json_field id <<<"$pool_json")
  import_json=$(env "${gateway_env[@]}" "$bin" admin account import \
    --json-array "$tmp/auth-files.json" --pool "$pool_id" 2>"$tmp/admin.err") \
    || { show_log "$tmp/admin.err"; die "admin account import failed"; }
  python3 -c '
import json, sys
failed = [r for r in json.load(sys.stdin) if r.get("error")]
for r in failed:
    print(r["source"] + ": " + json.dumps(r["error"]), file=sys.stderr)
sys.exit(1 if failed else 0)' <<<"$import_json" || die "admin account import rejected accounts"
  key_json=$(env "${gateway_env[@]}" "$bin" admin key create --pool "$pool_id" --name bench \
    2>"$tmp/admin.err") || { show_log "$tmp/admin.err"; die "admin key create failed"; }
  pool_key=$(json_field key <<<"$key_json")
}

# bench_start_gateway GATEWAY_BIN LOG [VAR=value …]: `serve` with gateway_env plus the extra
# variables on a free port, waiting for /readyz; sets gateway_pid and gateway_port. At log level
# warn the gateway does not print its port, so pick a free one; a port taken in the meantime
# makes serve exit, and the next attempt picks another.
bench_start_gateway() {
  local bin=$1 log=$2 port attempt
  shift 2
  gateway_port=
  gateway_pid=
  for attempt in 1 2 3; do
    port=$(free_port)
    note "starting codex-pooler serve on 127.0.0.1:$port (attempt $attempt)"
    env "${gateway_env[@]}" "$@" "PORT=$port" "$bin" serve >"$log" 2>&1 &
    gateway_pid=$!
    bench_track "$gateway_pid"
    for _ in $(seq 300); do
      if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/readyz" 2>/dev/null; then
        gateway_port=$port
        break
      fi
      kill -0 "$gateway_pid" 2>/dev/null || break
      sleep 0.1
    done
    [[ -n $gateway_port ]] && break
    show_log "$log"
    stop_process "$gateway_pid"
    gateway_pid=
  done
  [[ -n $gateway_port ]] || die "codex-pooler serve did not become ready"
}
