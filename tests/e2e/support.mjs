// Shared helpers of the end-to-end suites: child processes with guaranteed cleanup, the fake
// upstream (tests/fake_upstream), gateway provisioning through its admin CLI, and the real
// `@openai/codex` CLI run in a throwaway CODEX_HOME (shared/docs/codex-protocol.md §11).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = dirname(fileURLToPath(import.meta.url));
export const CODEX_BIN = join(E2E_DIR, 'node_modules', '.bin', 'codex');

/// Same secrets as tests/support/test_database.cpp `test_secrets_env` (required with PostgreSQL).
export const TEST_SECRETS_ENV = {
  SECRET_KEY_BASE: 'test-secret-key-base-test-secret-key-base',
  CODEX_POOLER_UPSTREAM_SECRET_KEY: '0123456789abcdef0123456789abcdef',
  CODEX_POOLER_TOTP_ENCRYPTION_KEY: 'fedcba9876543210fedcba9876543210',
};

/// Fails with an actionable message when the npm dependencies are not installed.
export function requireNodeModules() {
  if (!existsSync(CODEX_BIN)) {
    throw new Error(
      `${CODEX_BIN} is missing: the e2e npm dependencies are not installed. ` +
        'Run scripts/setup (it runs `npm ci` in tests/e2e).',
    );
  }
}

export function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`environment variable ${name} is required (CTest sets it; see tests/e2e/CMakeLists.txt)`);
  }
  if (!existsSync(value)) {
    throw new Error(`${name}=${value} does not exist (build it first)`);
  }
  return resolve(value); // children run in other directories
}

export function makeTempDir(prefix = 'cxp-e2e-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/// A minimal environment for children, so the developer's OPENAI_API_KEY, CODEX_HOME, proxy
/// settings, etc. never leak into a test.
export function baseEnv(extra = {}) {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const name of ['LANG', 'LC_ALL', 'TZ', 'TMPDIR']) {
    if (process.env[name]) env[name] = process.env[name];
  }
  return { ...env, ...extra };
}

// ------------------------------------------------------------------------------------------------
// JWTs and fingerprints exactly as the fake upstream produces and records them.

const b64url = (text) => Buffer.from(text, 'utf8').toString('base64url');

/// Mirrors `make_fake_jwt` in tests/fake_upstream/fake_upstream.cpp byte for byte (nlohmann::json
/// dumps object keys sorted, compact; base64url without padding; signature "fake").
export function makeFakeJwt(accountId, planType, generation, exp) {
  const header = JSON.stringify({ alg: 'none', typ: 'JWT' });
  const payload = JSON.stringify({
    exp,
    gen: generation,
    'https://api.openai.com/auth': {
      chatgpt_account_id: accountId,
      chatgpt_plan_type: planType,
      chatgpt_user_id: `user-${accountId}`,
    },
  });
  return `${b64url(header)}.${b64url(payload)}.fake`;
}

/// How the fake records an Authorization value: `<scheme> sha256:<first 12 hex of sha256(secret)>`.
export function fingerprint(secret) {
  return `sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 12)}`;
}

/// A fake account (`account_script` keys) plus the matching `auth.json` for the gateway import.
export function makeAccount(accountId, replyText, planType = 'plus') {
  // Ten days, like ChatGPT's tokens and the fake's own (fake_token_lifetime_s): the gateway's
  // token refresh sweep leaves them alone during a test.
  const exp = Math.floor(Date.now() / 1000) + 10 * 24 * 3600;
  const accessToken = makeFakeJwt(accountId, planType, 0, exp);
  const idToken = makeFakeJwt(accountId, planType, 0, exp + 1); // distinct from the access token
  const refreshToken = `rt-${accountId}-0-${createHash('sha256').update(`${accountId}${Date.now()}`).digest('hex').slice(0, 16)}`;
  return {
    script: {
      account_id: accountId,
      access_token: accessToken,
      refresh_token: refreshToken,
      plan_type: planType,
      reply_text: replyText,
    },
    authJson: {
      auth_mode: 'chatgpt',
      OPENAI_API_KEY: null,
      tokens: {
        id_token: idToken,
        access_token: accessToken,
        refresh_token: refreshToken,
        account_id: accountId,
      },
      last_refresh: new Date().toISOString(),
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Child processes. Every child gets its own process group (detached) so a timeout kills the
// whole tree (the codex npm wrapper spawns the native binary); all live children are SIGKILLed
// when this process exits, whatever the reason.

const liveChildren = new Set();

function killGroup(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

process.on('exit', () => {
  for (const child of liveChildren) killGroup(child, 'SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    for (const child of liveChildren) killGroup(child, 'SIGKILL');
    process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 })[signal]);
  });
}

export class ManagedProcess {
  constructor(name, command, args, { env, cwd, stdin = 'ignore' } = {}) {
    this.name = name;
    this.output = ''; // stdout and stderr interleaved, as received
    this.stdout = '';
    this.stderr = '';
    this.child = spawn(command, args, { env, cwd, stdio: [stdin, 'pipe', 'pipe'], detached: true });
    liveChildren.add(this.child);
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      this.stdout += chunk;
      this.output += chunk;
    });
    this.child.stderr.on('data', (chunk) => {
      this.stderr += chunk;
      this.output += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => {
        this.spawnError = error;
        liveChildren.delete(this.child);
        resolve({ code: null, signal: null, error });
      });
      this.child.on('close', (code, signal) => {
        liveChildren.delete(this.child);
        resolve({ code, signal });
      });
    });
  }

  get running() {
    return this.child.exitCode === null && this.child.signalCode === null && !this.spawnError;
  }

  /// Resolves with the first JSON line of stdout for which `predicate` holds; rejects when the
  /// process exits first or `timeoutMs` elapses.
  async waitForJsonLine(predicate, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const line of this.stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const parsed = JSON.parse(line);
          if (predicate(parsed)) return parsed;
        } catch {
          /* partial or non-JSON line */
        }
      }
      if (!this.running) break;
      await sleep(20);
    }
    throw new Error(
      `${this.name} did not print the expected line within ${timeoutMs} ms ` +
        `(running=${this.running}${this.spawnError ? `, spawn error: ${this.spawnError.message}` : ''}); ` +
        `it printed:\n${this.output}`,
    );
  }

  /// Sends `signal` to the process group and waits up to `timeoutMs`, then SIGKILLs.
  async stop(signal = 'SIGTERM', timeoutMs = 10000) {
    if (!this.running) return this.exited;
    killGroup(this.child, signal);
    let timer;
    const expired = new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    const result = await Promise.race([this.exited, expired]);
    clearTimeout(timer); // a pending timer would keep the test process alive
    if (result) return result;
    killGroup(this.child, 'SIGKILL');
    return this.exited;
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// Runs a command to completion with a hard timeout (process group SIGTERMed on expiry, then
/// SIGKILLed 2 s later).
export async function runCommand(command, args, { env, cwd, timeoutMs = 60000, name } = {}) {
  const started = Date.now();
  const proc = new ManagedProcess(name ?? command, command, args, { env, cwd });
  let timedOut = false;
  let killTimer;
  const timer = setTimeout(() => {
    timedOut = true;
    // SIGTERM first lets wrappers (the codex npm launcher) reap their children; then SIGKILL.
    killGroup(proc.child, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(proc.child, 'SIGKILL'), 2000);
  }, timeoutMs);
  const { code, signal, error } = await proc.exited;
  clearTimeout(timer);
  clearTimeout(killTimer);
  return {
    code,
    signal,
    error,
    timedOut,
    stdout: proc.stdout,
    stderr: proc.stderr,
    durationMs: Date.now() - started,
  };
}

// ------------------------------------------------------------------------------------------------
// Fake upstream.

export class FakeUpstream {
  static async start(binary, accounts, workDir) {
    const accountsFile = join(workDir, 'fake-accounts.json');
    writeFileSync(accountsFile, JSON.stringify({ accounts }, null, 2));
    const fake = new FakeUpstream();
    fake.process = new ManagedProcess('fake-upstream', binary, ['--port', '0', '--accounts', accountsFile], {
      env: baseEnv(),
      cwd: workDir,
    });
    const line = await fake.process.waitForJsonLine((l) => l.msg === 'listening', 15000);
    fake.port = line.port;
    fake.baseUrl = `http://127.0.0.1:${fake.port}`;
    return fake;
  }

  async control(method, path, body) {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`fake ${method} ${path} -> ${response.status}: ${text}`);
    return JSON.parse(text);
  }

  /// Every request received so far (control routes excepted), in arrival order:
  /// `{method, target, headers: {lower-case name: value}, body}`, Authorization fingerprinted.
  requests() {
    return this.control('GET', '/__control/requests');
  }

  /// Current scripts (tokens reflect refresh rotation) with `counters`.
  accounts() {
    return this.control('GET', '/__control/accounts');
  }

  async account(accountId) {
    const found = (await this.accounts()).find((a) => a.account_id === accountId);
    if (!found) throw new Error(`fake has no account ${accountId}`);
    return found;
  }

  /// Changes some fields of an account's script. `POST /__control/accounts` replaces the whole
  /// script (and resets counters), so the current script, current tokens included, is re-sent.
  async patchAccount(accountId, changes) {
    const { counters, ...current } = await this.account(accountId);
    return this.control('POST', '/__control/accounts', { ...current, ...changes });
  }

  stop() {
    return this.process.stop('SIGTERM', 5000);
  }
}

// ------------------------------------------------------------------------------------------------
// Gateway.

/// Parses the pretty JSON an admin command prints on stdout (JSON log lines may precede it).
export function parseAdminJson(stdout) {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line === '{' || line === '[');
  if (start < 0) throw new Error(`no JSON document in admin output:\n${stdout}`);
  return JSON.parse(lines.slice(start).join('\n'));
}

export class Gateway {
  constructor(binary, { databaseUrl, dataDir, home, extraEnv = {} }) {
    this.binary = binary;
    this.databaseUrl = databaseUrl;
    this.dataDir = dataDir;
    mkdirSync(dataDir, { recursive: true });
    const secrets = {};
    if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
      // PostgreSQL deployments must share these; SQLite generates local ones in the data dir.
      for (const [name, value] of Object.entries(TEST_SECRETS_ENV)) secrets[name] = process.env[name] ?? value;
    }
    this.env = baseEnv({
      HOME: home,
      DATABASE_URL: databaseUrl,
      CODEX_POOLER_DATA_DIR: dataDir,
      CODEX_POOLER_BIND_ADDRESS: '127.0.0.1',
      CODEX_POOLER_LOG_LEVEL: 'info',
      CODEX_POOLER_SHUTDOWN_GRACE_MS: '5000',
      ...secrets,
      ...extraEnv,
    });
  }

  async run(args, timeoutMs = 60000) {
    const result = await runCommand(this.binary, args, {
      env: this.env,
      cwd: this.dataDir,
      timeoutMs,
      name: `codex-pooler ${args.join(' ')}`,
    });
    if (result.code !== 0) {
      throw new Error(
        `codex-pooler ${args.join(' ')} exited ${result.code} (signal ${result.signal}, timedOut ${result.timedOut})\n` +
          `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
      );
    }
    return result;
  }

  async admin(args) {
    return parseAdminJson((await this.run(['admin', ...args])).stdout);
  }

  /// migrate, one pool, the accounts, one pool API key. Returns `{poolId, poolKey, accounts}`.
  async provision({ poolName, accounts, workDir }) {
    await this.run(['migrate']);
    const pool = await this.admin(['pool', 'create', '--name', poolName]);
    const imported = [];
    for (const account of accounts) {
      const file = join(workDir, `auth-${account.script.account_id}.json`);
      writeFileSync(file, JSON.stringify(account.authJson, null, 2), { mode: 0o600 });
      const [result] = await this.admin(['account', 'import', '--file', file, '--pool', pool.id]);
      if (!result || result.error) throw new Error(`import of ${file} failed: ${JSON.stringify(result)}`);
      imported.push(result.account);
      rmSync(file);
    }
    const key = await this.admin(['key', 'create', '--pool', pool.id, '--name', poolName]);
    if (!/^sk-cxp-/.test(key.key ?? '')) throw new Error(`unexpected key create output: ${JSON.stringify(key)}`);
    return { poolId: pool.id, poolKey: key.key, accounts: imported };
  }

  /// `oauthIssuerUrl` is where the sign-in flows go (the fake's base URL in tests); unset, the
  /// gateway's default (auth.openai.com) stays.
  async serve({ upstreamBaseUrl, oauthTokenUrl, oauthIssuerUrl }) {
    this.process = new ManagedProcess('codex-pooler serve', this.binary, ['serve'], {
      env: {
        ...this.env,
        PORT: '0',
        CODEX_POOLER_UPSTREAM_BASE_URL: upstreamBaseUrl,
        CODEX_POOLER_OAUTH_TOKEN_URL: oauthTokenUrl,
        ...(oauthIssuerUrl ? { CODEX_POOLER_OAUTH_ISSUER_URL: oauthIssuerUrl } : {}),
      },
      cwd: this.dataDir,
    });
    const line = await this.process.waitForJsonLine((l) => l.msg === 'listening' && l.port, 30000);
    this.port = line.port;
    this.baseUrl = `http://127.0.0.1:${this.port}`;
    return this;
  }

  /// What `codex-pooler serve` printed so far (stdout and stderr).
  output() {
    return this.process ? this.process.output : '';
  }

  stop() {
    return this.process ? this.process.stop('SIGTERM', 15000) : Promise.resolve(null);
  }

  /// A full text dump of the database (sqlite3 .dump or pg_dump).
  dumpDatabase() {
    const url = this.databaseUrl;
    let result;
    if (url.startsWith('sqlite://')) {
      const file = url.slice('sqlite://'.length).split('?')[0];
      result = spawnSync('sqlite3', [file, '.dump'], { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 60000 });
    } else {
      result = spawnSync('pg_dump', ['--no-owner', '--dbname', url], {
        encoding: 'utf8',
        maxBuffer: 1 << 30,
        timeout: 120000,
      });
    }
    if (result.error || result.status !== 0) {
      throw new Error(`database dump failed: ${result.error ?? ''} ${result.stderr}`);
    }
    return result.stdout;
  }
}

// ------------------------------------------------------------------------------------------------
// Codex CLI.

/// Writes `$codexHome/config.toml` for a custom Responses provider at `baseUrl` whose bearer is
/// read from `$envKey`. `httpHeaders` adds static headers (used only for the direct-to-fake check);
/// `extraToml` is appended as it is (e.g. an `[mcp_servers.…]` table).
export function writeCodexConfig(codexHome, { baseUrl, envKey = 'CODEX_POOLER_KEY', httpHeaders, extraToml } = {}) {
  mkdirSync(codexHome, { recursive: true });
  const lines = [
    'model = "gpt-5.5"',
    'model_provider = "pooler"',
    '',
    '[model_providers.pooler]',
    'name = "OpenAI"',
    `base_url = ${JSON.stringify(baseUrl)}`,
    `env_key = ${JSON.stringify(envKey)}`,
    'wire_api = "responses"',
    'supports_websockets = false',
    'request_max_retries = 0',
    'stream_max_retries = 0',
  ];
  if (httpHeaders) {
    const items = Object.entries(httpHeaders).map(([k, v]) => `${JSON.stringify(k)} = ${JSON.stringify(v)}`);
    lines.push(`http_headers = { ${items.join(', ')} }`);
  }
  if (extraToml) lines.push('', extraToml);
  writeFileSync(join(codexHome, 'config.toml'), `${lines.join('\n')}\n`);
}

/// Runs `codex exec --json --ephemeral --skip-git-repo-check <prompt> </dev/null` in a fresh
/// CODEX_HOME/HOME/cwd under `rootDir`; kills the process group after `timeoutMs`.
/// `extraArgs` go before the prompt (e.g. `['-c', 'model_providers.pooler.stream_max_retries=1']`);
/// `extraToml` is appended to config.toml and `extraEnv` added to the CLI's environment.
export async function runCodexExec({ rootDir, baseUrl, key, envKey = 'CODEX_POOLER_KEY', prompt, timeoutMs = 90000, httpHeaders, extraArgs = [], extraToml, extraEnv = {} }) {
  const runDir = mkdtempSync(join(rootDir, 'codex-run-'));
  const codexHome = join(runDir, 'codex-home');
  const home = join(runDir, 'home');
  const cwd = join(runDir, 'work');
  mkdirSync(home);
  mkdirSync(cwd);
  writeCodexConfig(codexHome, { baseUrl, envKey, httpHeaders, extraToml });
  const result = await runCommand(CODEX_BIN, ['exec', '--json', '--ephemeral', '--skip-git-repo-check', ...extraArgs, prompt], {
    env: baseEnv({ HOME: home, CODEX_HOME: codexHome, [envKey]: key, ...extraEnv }),
    cwd,
    timeoutMs,
    name: 'codex exec',
  });
  const events = [];
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      events.push(JSON.parse(line));
    } catch {
      /* not an event */
    }
  }
  const agentMessages = events
    .filter((e) => e.type === 'item.completed' && e.item?.type === 'agent_message')
    .map((e) => e.item.text);
  return { ...result, events, agentMessages, runDir };
}

/// Human-readable summary of a codex run for assertion messages.
export function describeRun(run) {
  return (
    `codex exec: code=${run.code} signal=${run.signal} timedOut=${run.timedOut} ${run.durationMs} ms\n` +
    `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`
  );
}

/// Not a test: proves the codex CLI configuration by pointing the CLI straight at the fake
/// upstream with an account's own access token (env_key mode does not send chatgpt-account-id,
/// so it is added through `http_headers`). Returns the codex run.
export async function directCheckAgainstFake({ fakeBinary, rootDir, prompt = 'say hi', timeoutMs = 90000 }) {
  requireNodeModules();
  const account = makeAccount('acct-e2e-1', 'pong from account one');
  const fake = await FakeUpstream.start(fakeBinary, [account.script], rootDir);
  try {
    return await runCodexExec({
      rootDir,
      baseUrl: `${fake.baseUrl}/backend-api/codex`,
      key: account.script.access_token,
      prompt,
      timeoutMs,
      httpHeaders: { 'chatgpt-account-id': account.script.account_id },
    });
  } finally {
    await fake.stop();
  }
}

/// Starts, in a fresh temp dir, a fake upstream serving `accounts` (from makeAccount) and a
/// gateway (on `databaseUrl`, else CXP_DATABASE_URL, else SQLite) provisioned with one pool
/// holding them and one key; the fake also knows `fakeOnlyAccounts`, which the gateway does not
/// (yet: a sign-in flow adds them). The fake is the gateway's OAuth issuer too. Fills ctx:
/// rootDir, fake, gateway, poolKey.
export async function startPooler(ctx, { prefix, poolName, accounts, databaseUrl, fakeOnlyAccounts = [] }) {
  requireNodeModules();
  const gatewayBinary = requireEnv('CXP_GATEWAY_BINARY');
  const fakeBinary = requireEnv('CXP_FAKE_UPSTREAM_BINARY');
  ctx.rootDir = makeTempDir(prefix);
  ctx.fake = await FakeUpstream.start(
    fakeBinary,
    [...accounts, ...fakeOnlyAccounts].map((a) => a.script),
    ctx.rootDir,
  );
  const dataDir = join(ctx.rootDir, 'gateway-data');
  ctx.gateway = new Gateway(gatewayBinary, {
    databaseUrl: databaseUrl || process.env.CXP_DATABASE_URL || `sqlite://${dataDir}/codex-pooler.db`,
    dataDir,
    home: ctx.rootDir,
  });
  const provisioned = await ctx.gateway.provision({ poolName, accounts, workDir: ctx.rootDir });
  ctx.poolKey = provisioned.poolKey;
  await ctx.gateway.serve({
    upstreamBaseUrl: `${ctx.fake.baseUrl}/backend-api`,
    oauthTokenUrl: `${ctx.fake.baseUrl}/oauth/token`,
    oauthIssuerUrl: ctx.fake.baseUrl,
  });
}

/// A `node:test` test that marks `ctx.failed` when it fails, so stopPooler prints the gateway's
/// output and keeps the temp dir.
export function e2eTest(ctx, name, timeoutMs, fn) {
  test(name, { timeout: timeoutMs }, async (t) => {
    try {
      await fn(t);
    } catch (error) {
      ctx.failed = true;
      throw error;
    }
  });
}

/// Stops what startPooler started. After a failure (ctx.failed) it prints the end of the
/// gateway's output and keeps the temp dir, as it does with CXP_E2E_KEEP_TMP=1.
export async function stopPooler(ctx) {
  await ctx.gateway?.stop();
  await ctx.fake?.stop();
  if (ctx.failed) {
    const log = ctx.gateway?.output() ?? '';
    console.error(`--- codex-pooler serve output (last 60 lines) ---\n${log.split('\n').slice(-60).join('\n')}`);
  }
  if (ctx.rootDir) {
    if (ctx.failed || process.env.CXP_E2E_KEEP_TMP === '1') {
      console.error(`e2e temp dir kept: ${ctx.rootDir}`);
    } else {
      removeDir(ctx.rootDir);
    }
  }
}
