// The self-host path without a container engine: `codex-pooler generate-env` writes the compose
// .env; `docker-compose config` interpolates compose/docker-compose.yml with it; then exactly the
// commands and environment the compose services get (migrate, then the `all` gateway) run against
// the real test PostgreSQL (a role and database made with the generated password), ending in a
// real Codex CLI turn through the gateway to the fake upstream.
//
// Env: CXP_GATEWAY_BINARY, CXP_FAKE_UPSTREAM_BINARY, CXP_TEST_PG_STATE_DIR (set by CTest, test
// e2e_self_host, which needs the test_postgres fixture).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before } from 'node:test';

import {
  E2E_DIR,
  FakeUpstream,
  ManagedProcess,
  describeRun,
  makeAccount,
  makeTempDir,
  parseAdminJson,
  removeDir,
  requireEnv,
  requireNodeModules,
  runCodexExec,
  runCommand,
  e2eTest as sharedE2eTest,
} from './support.mjs';

const ROOT = resolve(E2E_DIR, '..', '..');
const COMPOSE_FILE = join(ROOT, 'compose', 'docker-compose.yml');
const ctx = { failed: false };

const e2eTest = (name, fn) => sharedE2eTest(ctx, name, 240_000, fn);

async function pooler(args, env, name) {
  const result = await runCommand(ctx.binary, args, { env, cwd: ctx.rootDir, timeoutMs: 60_000, name });
  assert.equal(result.code, 0, `${name}: ${result.stdout}\n${result.stderr}`);
  return result;
}

function parseEnvFile(text) {
  const values = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) values[match[1]] = match[2];
  }
  return values;
}

/// `docker-compose config` with the generated .env, as JSON (via python3-yaml).
function composeConfig(envFile, profiles = '') {
  const rendered = spawnSync('docker-compose', ['-f', COMPOSE_FILE, '--env-file', envFile, 'config'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: ctx.rootDir, COMPOSE_PROFILES: profiles },
  });
  assert.equal(rendered.status, 0, rendered.stderr);
  const json = spawnSync('/usr/bin/python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], {
    input: rendered.stdout,
    encoding: 'utf8',
  });
  assert.equal(json.status, 0, json.stderr);
  return JSON.parse(json.stdout);
}

function psql(sql) {
  const result = spawnSync('psql', ['-h', '127.0.0.1', '-p', ctx.pgPort, '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
}

before(async () => {
  requireNodeModules();
  ctx.binary = requireEnv('CXP_GATEWAY_BINARY');
  ctx.fakeBinary = requireEnv('CXP_FAKE_UPSTREAM_BINARY');
  ctx.pgPort = readFileSync(join(requireEnv('CXP_TEST_PG_STATE_DIR'), 'port'), 'utf8').trim();
  ctx.rootDir = makeTempDir('cxp-e2e-self-host-');
  ctx.envFile = join(ctx.rootDir, '.env');
});

after(async () => {
  await ctx.gateway?.stop('SIGTERM', 15_000);
  await ctx.fake?.stop();
  if (ctx.database) psql(`DROP DATABASE IF EXISTS ${ctx.database} WITH (FORCE)`);
  if (ctx.failed) console.error(`--- gateway output ---\n${ctx.gateway?.output ?? ''}`);
  if (!ctx.failed) removeDir(ctx.rootDir);
});

e2eTest('generate-env writes a private .env once and refuses to overwrite it', async () => {
  const first = await pooler(['generate-env', '--output', ctx.envFile, '--image-tag', '9.9.9'], {}, 'generate-env');
  assert.match(first.stdout, /docker-compose -f compose\/docker-compose.yml up -d/);
  assert.equal(statSync(ctx.envFile).mode & 0o777, 0o600);
  const original = readFileSync(ctx.envFile, 'utf8');
  const values = parseEnvFile(original);
  assert.equal(values.CODEX_POOLER_IMAGE, 'codex-pooler:9.9.9');
  assert.ok(values.SECRET_KEY_BASE.length >= 64);
  assert.equal(Buffer.from(values.CODEX_POOLER_UPSTREAM_SECRET_KEY, 'base64').length, 32);
  assert.equal(Buffer.from(values.CODEX_POOLER_TOTP_ENCRYPTION_KEY, 'base64').length, 32);
  assert.match(values.POSTGRES_PASSWORD, /^[0-9a-f]{48}$/);
  assert.notEqual(values.UPSTREAM_SECRET_KEY, values.CODEX_POOLER_TOTP_ENCRYPTION_KEY);

  const again = await runCommand(ctx.binary, ['generate-env', '--output', ctx.envFile], { cwd: ctx.rootDir, name: 'again' });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /exists; it holds the keys of an instance/);
  assert.equal(readFileSync(ctx.envFile, 'utf8'), original);

  const forced = join(ctx.rootDir, 'forced.env');
  writeFileSync(forced, 'OLD=1\n', { mode: 0o644 });
  await pooler(['generate-env', '--output', forced, '--force'], {}, 'generate-env --force');
  assert.equal(statSync(forced).mode & 0o777, 0o600);
  assert.notEqual(parseEnvFile(readFileSync(forced, 'utf8')).SECRET_KEY_BASE, values.SECRET_KEY_BASE);
});

e2eTest('every compose profile interpolates with the generated .env', async () => {
  // `config` lists every service whatever the profiles; each profile set must still interpolate.
  for (const profiles of ['', 'scale', 'monitoring', 'scale,monitoring']) composeConfig(ctx.envFile, profiles);
  const { services } = composeConfig(ctx.envFile);
  const inProfile = (profile) =>
    Object.keys(services)
      .filter((name) => (services[name].profiles ?? [''])[0] === profile)
      .sort();
  assert.deepEqual(inProfile(''), ['gateway', 'migrate', 'postgres']);
  assert.deepEqual(inProfile('scale'), ['scheduler', 'web-2', 'worker']);
  assert.deepEqual(inProfile('monitoring'), ['grafana', 'prometheus']);
  assert.deepEqual(services.gateway.command, ['serve', '--role', 'all']);
  assert.equal(services.grafana.environment.GF_SECURITY_ADMIN_PASSWORD.length, 48);
  ctx.compose = { services };
});

e2eTest('the compose commands run against PostgreSQL and serve a real Codex CLI turn', async () => {
  const values = parseEnvFile(readFileSync(ctx.envFile, 'utf8'));
  ctx.database = `cxp_self_host_${process.pid}`;
  psql(`DO $$ BEGIN CREATE ROLE ${values.POSTGRES_USER} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  psql(`ALTER ROLE ${values.POSTGRES_USER} PASSWORD '${values.POSTGRES_PASSWORD}'`);
  psql(`CREATE DATABASE ${ctx.database} OWNER ${values.POSTGRES_USER}`);

  const account = makeAccount('acct-self-host', 'served by the self-hosted gateway');
  ctx.fake = await FakeUpstream.start(ctx.fakeBinary, [account.script], ctx.rootDir);
  const { services } = ctx.compose;
  const compose = services.gateway.environment;
  // The compose environment, with what only differs on loopback: the database host, the data
  // directory, the port, and the upstream (the fake). Clustering stays off (no `cluster` DNS).
  const env = {
    PATH: process.env.PATH,
    HOME: ctx.rootDir,
    ...compose,
    DATABASE_URL: compose.DATABASE_URL.replace('@postgres:5432/', `@127.0.0.1:${ctx.pgPort}/`).replace(/\/[^/]*$/, `/${ctx.database}`),
    CODEX_POOLER_DATA_DIR: join(ctx.rootDir, 'data'),
    PORT: '0',
    CODEX_POOLER_BIND_ADDRESS: '127.0.0.1',
    CODEX_POOLER_UPSTREAM_BASE_URL: `${ctx.fake.baseUrl}/backend-api`,
    CODEX_POOLER_OAUTH_TOKEN_URL: `${ctx.fake.baseUrl}/oauth/token`,
  };
  delete env.DNS_CLUSTER_QUERY;
  delete env.CODEX_POOLER_CLUSTER_PORT;
  assert.equal(compose.SECRET_KEY_BASE, values.SECRET_KEY_BASE);

  await pooler(services.migrate.command, env, 'migrate');
  ctx.gateway = new ManagedProcess('gateway', ctx.binary, services.gateway.command, { env, cwd: ctx.rootDir });
  const line = await ctx.gateway.waitForJsonLine((l) => l.msg === 'listening' && l.port, 30_000);
  assert.equal(line.role, 'all');
  const baseUrl = `http://127.0.0.1:${line.port}`;

  const pool = parseAdminJson((await pooler(['admin', 'pool', 'create', '--name', 'Self-hosted'], env, 'pool create')).stdout);
  const authFile = join(ctx.rootDir, 'auth.json');
  writeFileSync(authFile, JSON.stringify(account.authJson), { mode: 0o600 });
  await pooler(['admin', 'account', 'import', '--file', authFile, '--pool', pool.id], env, 'account import');
  const key = parseAdminJson((await pooler(['admin', 'key', 'create', '--pool', pool.id, '--name', 'laptop'], env, 'key create')).stdout);

  // A newly imported account joins routing on the gateway's next topology reload.
  let run;
  for (let attempt = 0; attempt < 10; ++attempt) {
    run = await runCodexExec({ rootDir: ctx.rootDir, baseUrl: `${baseUrl}/backend-api/codex`, key: key.key, prompt: 'say hi' });
    if (run.code === 0) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.equal(run.code, 0, describeRun(run));
  assert.deepEqual(run.agentMessages, ['served by the self-hosted gateway']);
});
