// End-to-end: the real `@openai/codex` CLI (tests/e2e/node_modules) talks to codex-pooler, which
// proxies to the fake ChatGPT upstream with two accounts.
//
// Env: CXP_GATEWAY_BINARY, CXP_FAKE_UPSTREAM_BINARY (set by CTest, test e2e_codex_cli);
// optional CXP_DATABASE_URL (default: a SQLite file in a temp dir; a postgres:// URL must name
// an empty database), CXP_E2E_KEEP_TMP=1 keeps the temp dir.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import {
  describeRun,
  fingerprint,
  makeAccount,
  runCodexExec,
  startPooler,
  stopPooler,
  e2eTest as sharedE2eTest,
} from './support.mjs';

const PROMPT = 'say hi';
const CODEX_TIMEOUT_MS = 90_000;
const REPLIES = {
  'acct-e2e-1': 'pong from account one',
  'acct-e2e-2': 'pong from account two',
};
const OTHER = { 'acct-e2e-1': 'acct-e2e-2', 'acct-e2e-2': 'acct-e2e-1' };

const ctx = {
  rootDir: undefined,
  fake: undefined,
  gateway: undefined,
  accounts: {}, // account id -> makeAccount()
  poolKey: undefined,
  servedFirst: undefined, // account that answered test 1
  runs: [], // every codex run, for diagnostics
  failed: false,
};

/// Wraps a test body so a failure keeps the temp dir and prints the gateway's log at the end.
const e2eTest = (name, fn) => sharedE2eTest(ctx, name, 180_000, fn);

async function codex(prompt = PROMPT) {
  const run = await runCodexExec({
    rootDir: ctx.rootDir,
    baseUrl: `${ctx.gateway.baseUrl}/backend-api/codex`,
    key: ctx.poolKey,
    prompt,
    timeoutMs: CODEX_TIMEOUT_MS,
  });
  ctx.runs.push(run);
  return run;
}

const isResponsesCall = (r) =>
  r.method === 'POST' && r.target.split('?')[0].startsWith('/backend-api/codex/responses');

/// The fake's recordings made while `action` ran.
async function recordedDuring(action) {
  const before = (await ctx.fake.requests()).length;
  const result = await action();
  const all = await ctx.fake.requests();
  return { result, requests: all.slice(before) };
}

/// Every token the gateway holds or held for the accounts: originals and current (rotated) ones.
async function accountSecrets() {
  const secrets = new Set();
  for (const account of Object.values(ctx.accounts)) {
    secrets.add(account.script.access_token);
    secrets.add(account.script.refresh_token);
  }
  for (const current of await ctx.fake.accounts()) {
    if (current.access_token) secrets.add(current.access_token);
    if (current.refresh_token) secrets.add(current.refresh_token);
  }
  return [...secrets];
}

function assertNoPoolKey(requests) {
  const keyFingerprint = `Bearer ${fingerprint(ctx.poolKey)}`;
  for (const r of requests) {
    const where = `${r.method} ${r.target}`;
    assert.ok(!r.body.includes(ctx.poolKey), `pool key found in the upstream body of ${where}`);
    for (const [name, value] of Object.entries(r.headers)) {
      assert.ok(!value.includes(ctx.poolKey), `pool key found in upstream header ${name} of ${where}`);
      assert.notEqual(value, keyFingerprint, `pool key sent upstream as ${name} of ${where}`);
    }
  }
}

before(async () => {
  for (const [id, reply] of Object.entries(REPLIES)) ctx.accounts[id] = makeAccount(id, reply);
  await startPooler(ctx, { prefix: 'cxp-e2e-codex-', poolName: 'e2e', accounts: Object.values(ctx.accounts) });
});

after(() => stopPooler(ctx));

e2eTest('codex exec completes a turn through the gateway with an account credential', async () => {
  const { result: run, requests } = await recordedDuring(() => codex());
  assert.equal(run.timedOut, false, `codex exec hung\n${describeRun(run)}`);
  assert.equal(run.code, 0, describeRun(run));
  const replies = Object.values(REPLIES);
  const answer = run.agentMessages.find((text) => replies.includes(text));
  assert.ok(answer, `no agent_message with an account's reply\n${describeRun(run)}`);
  const served = Object.keys(REPLIES).find((id) => REPLIES[id] === answer);
  ctx.servedFirst = served;

  const calls = requests.filter(isResponsesCall);
  assert.ok(calls.length >= 1, `the fake saw no /responses call: ${JSON.stringify(requests, null, 1)}`);
  const current = await ctx.fake.account(served);
  const allowedBearers = new Set([
    `Bearer ${fingerprint(ctx.accounts[served].script.access_token)}`,
    `Bearer ${fingerprint(current.access_token)}`, // after a refresh by the gateway
  ]);
  const servingCall = calls.filter((r) => r.headers['chatgpt-account-id'] === served).at(-1);
  assert.ok(servingCall, `no /responses call carried chatgpt-account-id ${served}: ${JSON.stringify(calls, null, 1)}`);
  assert.ok(
    allowedBearers.has(servingCall.headers.authorization),
    `upstream authorization ${servingCall.headers.authorization} is not ${served}'s token (${[...allowedBearers]})`,
  );
  assert.ok(servingCall.body.includes(PROMPT), 'the prompt did not reach the upstream');
  assertNoPoolKey(requests);
});

e2eTest('codex exec fails over to the other account when one hits its usage limit', async () => {
  const exhausted = ctx.servedFirst ?? 'acct-e2e-1';
  const other = OTHER[exhausted];
  await ctx.fake.patchAccount(exhausted, { usage_limit_after: 0 });
  const { result: run, requests } = await recordedDuring(() => codex());
  assert.equal(run.timedOut, false, `codex exec hung\n${describeRun(run)}`);
  assert.equal(run.code, 0, describeRun(run));
  assert.ok(
    run.agentMessages.includes(REPLIES[other]),
    `expected ${other}'s reply "${REPLIES[other]}"\n${describeRun(run)}`,
  );
  assert.ok(
    !run.agentMessages.includes(REPLIES[exhausted]),
    `the exhausted account ${exhausted} answered\n${describeRun(run)}`,
  );
  const calls = requests.filter(isResponsesCall);
  assert.ok(
    calls.some((r) => r.headers['chatgpt-account-id'] === other),
    `no /responses call reached ${other}: ${JSON.stringify(calls, null, 1)}`,
  );
  assertNoPoolKey(requests);
});

e2eTest('codex exec fails fast with a usage-limit error when every account is exhausted', async () => {
  for (const id of Object.keys(REPLIES)) await ctx.fake.patchAccount(id, { usage_limit_after: 0 });
  const { result: run, requests } = await recordedDuring(() => codex());
  assert.equal(run.timedOut, false, `codex exec hung (killed after ${CODEX_TIMEOUT_MS} ms)\n${describeRun(run)}`);
  assert.notEqual(run.code, 0, `codex exec succeeded although every account is exhausted\n${describeRun(run)}`);
  const errorTexts = run.events
    .filter((e) => e.type === 'error' || e.type === 'turn.failed')
    .map((e) => e.message ?? e.error?.message ?? '');
  const output = `${run.stdout}\n${run.stderr}`;
  assert.match(output, /usage limit/i, `no usage-limit message\n${describeRun(run)}`);
  assert.ok(
    errorTexts.some((text) => /usage limit/i.test(text)) || /usage limit/i.test(run.stderr),
    `the usage limit is not reported as the turn's error\n${describeRun(run)}`,
  );
  assertNoPoolKey(requests);
});

e2eTest('neither the database nor the gateway log holds prompts, pool keys or account tokens', async () => {
  assert.ok(ctx.runs.length > 0, 'no codex run happened before the privacy check');
  const secrets = await accountSecrets();
  assertNoPoolKey(await ctx.fake.requests());
  await ctx.gateway.stop(); // flushes request logs and closes the database
  const sources = {
    'database dump': ctx.gateway.dumpDatabase(),
    'codex-pooler serve output': ctx.gateway.output(),
  };
  assert.ok(sources['database dump'].length > 0, 'empty database dump');
  for (const [where, text] of Object.entries(sources)) {
    assert.ok(!text.includes(PROMPT), `the prompt text "${PROMPT}" appears in the ${where}`);
    assert.ok(!text.includes(ctx.poolKey), `the pool API key appears in the ${where}`);
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `an account token (${fingerprint(secret)}) appears in the ${where}`);
    }
  }
});
