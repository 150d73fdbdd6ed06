// End-to-end: accounts added by signing in serve real Codex CLI turns (issue #20). The fake
// upstream is also the gateway's OAuth issuer (CODEX_POOLER_OAUTH_ISSUER_URL):
// - device code: an operator starts the flow over the admin API, the account owner approves the
//   code on the fake's /codex/device page, the gateway's background poller adds the account, and
//   `codex exec` with the pool's key is answered by it;
// - relink: an imported account whose refresh token the upstream revoked goes reauth_required and
//   stops serving; signed in again by device code it is the same row, active, serving again.
//
// Env: CXP_GATEWAY_BINARY, CXP_FAKE_UPSTREAM_BINARY (set by CTest, test e2e_onboarding).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import { AdminSession } from './mcp_support.mjs';
import {
  describeRun,
  makeAccount,
  runCodexExec,
  sleep,
  startPooler,
  stopPooler,
  e2eTest as sharedE2eTest,
} from './support.mjs';

const OWNER = { email: 'owner.person@onboarding-e2e.example', password: 'owner passphrase 0001' };
const DEVICE_REPLY = 'pong from the signed-in account';
const RELINK_REPLY = 'pong from the relinked account';

const ctx = { failed: false };

const e2eTest = (name, fn) => sharedE2eTest(ctx, name, 240_000, fn);

before(async () => {
  // The relink account is imported as an auth.json; the device account exists only upstream
  // until someone signs it in.
  ctx.relinkAccount = makeAccount('acct-relink', RELINK_REPLY);
  ctx.deviceAccount = makeAccount('acct-device', DEVICE_REPLY);
  await startPooler(ctx, {
    prefix: 'cxp-e2e-onboarding-',
    poolName: 'Relink pool',
    accounts: [ctx.relinkAccount],
    fakeOnlyAccounts: [ctx.deviceAccount],
  });
  const gw = ctx.gateway;
  ctx.relinkPool = (await gw.admin(['pool', 'list'])).find((p) => p.name === 'Relink pool');
  ctx.devicePool = await gw.admin(['pool', 'create', '--name', 'Device pool']);
  ctx.deviceKey = (await gw.admin(['key', 'create', '--pool', ctx.devicePool.id, '--name', 'device'])).key;
  await gw.admin(['bootstrap', '--email', OWNER.email, '--display-name', 'Owner Person', '--password', OWNER.password]);
  ctx.owner = await AdminSession.login(gw.baseUrl, OWNER.email, OWNER.password);
  // Approvals are polled every second instead of five.
  await ctx.fake.control('POST', '/__control/oauth/config', { interval_s: 1 });
});

after(async () => {
  await stopPooler(ctx);
});

/// Signs `identity` in on the fake issuer's device page, as the account owner would: the code
/// typed into the form the verification URL serves, then Approve.
async function approveOnDevicePage(verificationUrl, userCode, identity) {
  await ctx.fake.control('POST', '/__control/oauth/config', { identity });
  const page = await fetch(verificationUrl);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /name="user_code"/);
  const answer = await fetch(verificationUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user_code: userCode, email: identity.email, decision: 'approve' }).toString(),
  });
  assert.equal(answer.status, 200, await answer.text());
}

/// The flow once it leaves pending/exchanging (the gateway polls the issuer in the background).
async function settled(flowId) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { flow } = await ctx.owner.ok('GET', `/admin/api/upstreams/oauth/flows/${flowId}`);
    if (flow.status !== 'pending' && flow.status !== 'exchanging') return flow;
    await sleep(250);
  }
  throw new Error(`flow ${flowId} still pending after 60 s`);
}

/// One `codex exec` through the gateway with the pool key `key`.
function codex(key, prompt) {
  return runCodexExec({ rootDir: ctx.rootDir, baseUrl: `${ctx.gateway.baseUrl}/backend-api/codex`, key, prompt });
}

/// `codex exec` with `key` until it answers (a new account joins routing within a few seconds).
async function codexAnswers(key, prompt, expected) {
  let run;
  for (let attempt = 0; attempt < 4; attempt++) {
    run = await codex(key, prompt);
    if (run.code === 0 && run.agentMessages.includes(expected)) return run;
    await sleep(1500);
  }
  assert.fail(`codex exec never got "${expected}":\n${describeRun(run)}`);
}

async function accountStatus(id) {
  return (await ctx.owner.ok('GET', `/admin/api/upstreams/${id}`)).status;
}

e2eTest('an account added by device code serves a real codex exec turn', async () => {
  const empty = await codex(ctx.deviceKey, 'anyone there?');
  assert.notEqual(empty.code, 0, `the empty pool answered:\n${describeRun(empty)}`);

  const { flow } = await ctx.owner.ok('POST', '/admin/api/upstreams/oauth/device', { pool_id: ctx.devicePool.id });
  assert.equal(flow.status, 'pending');
  assert.equal(flow.verification_url, `${ctx.fake.baseUrl}/codex/device`);
  assert.match(flow.user_code, /^[A-Z0-9]{4}-[A-Z0-9]{4,5}$/);
  assert.equal(flow.kind, 'device');
  assert.match(flow.instructions, /device code authorization for Codex/);

  await approveOnDevicePage(flow.verification_url, flow.user_code, {
    account_id: 'acct-device',
    user_id: 'user-acct-device',
    email: 'device.owner@onboarding-e2e.example',
  });
  const done = await settled(flow.id);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  const account = await ctx.owner.ok('GET', `/admin/api/upstreams/${done.account_id}`);
  assert.equal(account.status, 'active');
  assert.deepEqual(account.pool_ids, [ctx.devicePool.id]);
  assert.equal(account.chatgpt_account_id, 'acct-device');

  await codexAnswers(ctx.deviceKey, 'hello through a signed-in account', DEVICE_REPLY);
  const served = (await ctx.fake.account('acct-device')).counters.turns_served;
  assert.ok(served >= 1, `the fake served ${served} turns for acct-device`);
});

e2eTest('a reauth_required account relinked by device code serves again', async () => {
  const accountId = (await ctx.owner.ok('GET', `/admin/api/upstreams?pool_id=${ctx.relinkPool.id}`)).items[0].id;
  await codexAnswers(ctx.poolKey, 'before the revocation', RELINK_REPLY);

  // The upstream revokes the account's refresh token and expires its access token: the next turn
  // cannot refresh, and the account is left reauth_required.
  await ctx.fake.patchAccount('acct-relink', { access_token_expired: true, refresh_revoked: true });
  const refused = await codex(ctx.poolKey, 'after the revocation');
  assert.ok(!refused.agentMessages.includes(RELINK_REPLY), describeRun(refused));
  const deadline = Date.now() + 30_000;
  while ((await accountStatus(accountId)) !== 'reauth_required') {
    assert.ok(Date.now() < deadline, `account ${accountId} never became reauth_required`);
    await sleep(250);
  }

  const { flow } = await ctx.owner.ok('POST', `/admin/api/upstreams/${accountId}/relink`, { method: 'device' });
  assert.equal(flow.purpose, 'relink');
  await approveOnDevicePage(flow.verification_url, flow.user_code, {
    account_id: 'acct-relink',
    user_id: 'user-acct-relink',
    email: 'relink.owner@onboarding-e2e.example',
  });
  const done = await settled(flow.id);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.equal(done.account_id, accountId);
  assert.equal(await accountStatus(accountId), 'active');
  const inPool = (await ctx.owner.ok('GET', `/admin/api/upstreams?pool_id=${ctx.relinkPool.id}`)).items;
  assert.equal(inPool.length, 1, 'relink updated the row instead of adding one');

  await codexAnswers(ctx.poolKey, 'after the relink', RELINK_REPLY);
});
