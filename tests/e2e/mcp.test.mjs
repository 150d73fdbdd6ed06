// End-to-end: the read-only operator MCP endpoint at /mcp with real clients — the MCP TypeScript
// SDK (`Client` over `StreamableHTTPClientTransport`) and the Codex CLI as an MCP host — against
// a provisioned gateway (two pools, two accounts, an owner, an instance_admin, an invite, a key,
// traffic, jobs) and the fake upstream.
//
// Env: CXP_GATEWAY_BINARY, CXP_FAKE_UPSTREAM_BINARY (set by CTest, test e2e_mcp).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { AdminSession, PING, postMcp } from './mcp_support.mjs';
import {
  describeRun,
  makeAccount,
  runCodexExec,
  sleep,
  startPooler,
  stopPooler,
  e2eTest as sharedE2eTest,
} from './support.mjs';

const OWNER = { email: 'owner.person@mcp-e2e.example', password: 'owner passphrase 0001' };
const ADMIN = { email: 'ops.admin@mcp-e2e.example', password: 'admin passphrase 0002' };
const INVITEE = 'invitee.person@mcp-e2e.example';
const ALPHA = 'Ops Pool Alpha';
const BETA = 'Other Pool Beta';

const ctx = { failed: false, outputs: [] };

const e2eTest = (name, fn) => sharedE2eTest(ctx, name, 240_000, fn);

async function connect(token) {
  const client = new Client({ name: 'cxp-e2e', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${ctx.gateway.baseUrl}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return client;
}

/// Calls a tool, remembers its output for the leak check and returns the structured result.
async function call(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  ctx.outputs.push(JSON.stringify(result));
  assert.equal(result.content[0].type, 'text');
  assert.ok(result.content[0].text.length > 0);
  return result;
}

async function structured(client, name, args = {}) {
  const result = await call(client, name, args);
  assert.equal(result.isError, false, `${name} failed: ${result.content[0].text}`);
  return result.structuredContent;
}

before(async () => {
  ctx.accounts = [makeAccount('acct-mcp-1', 'reply one'), makeAccount('acct-mcp-2', 'reply two')];
  await startPooler(ctx, { prefix: 'cxp-e2e-mcp-', poolName: ALPHA, accounts: ctx.accounts });
  const gw = ctx.gateway;
  const pools = await gw.admin(['pool', 'list']);
  ctx.alpha = pools.find((p) => p.name === ALPHA);
  ctx.beta = await gw.admin(['pool', 'create', '--name', BETA]);
  await gw.admin(['bootstrap', '--email', OWNER.email, '--display-name', 'Owner Person', '--password', OWNER.password]);
  ctx.owner = await AdminSession.login(gw.baseUrl, OWNER.email, OWNER.password);
  const admin = await ctx.owner.ok('POST', '/admin/api/operators', {
    email: ADMIN.email,
    display_name: 'Ops Admin',
    role: 'instance_admin',
    temporary_password: 'temporary passphrase 9',
    pool_ids: [ctx.alpha.id],
  });
  ctx.adminId = admin.id ?? admin.user?.id;
  const first = await AdminSession.login(gw.baseUrl, ADMIN.email, 'temporary passphrase 9');
  await first.ok('POST', '/admin/api/session/password', {
    current_password: 'temporary passphrase 9',
    new_password: ADMIN.password,
  });
  ctx.admin = await AdminSession.login(gw.baseUrl, ADMIN.email, ADMIN.password);
  await ctx.owner.ok('POST', '/admin/api/invites', { email: INVITEE, role: 'instance_admin', pool_ids: [ctx.alpha.id] });
  await gw.admin(['job', 'run', 'retention']);
  const turn = await fetch(`${gw.baseUrl}/v1/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.poolKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-5.5', input: 'hello' }),
  });
  assert.equal(turn.status, 200, await turn.text());
  ctx.ownerToken = (await ctx.owner.ok('POST', '/admin/api/mcp-tokens', { name: 'e2e owner' })).raw_token;
  ctx.adminToken = (await ctx.admin.ok('POST', '/admin/api/mcp-tokens', { name: 'e2e admin', expires_in_days: 7 })).raw_token;
});

after(() => stopPooler(ctx));

e2eTest('tokens are shown once, shaped mcp-cxp-, and never Pool API keys (nor the reverse)', async () => {
  assert.match(ctx.ownerToken, /^mcp-cxp-[0-9a-f]{12}-[A-Za-z0-9_-]{43}$/);
  const everyone = await ctx.owner.ok('GET', '/admin/api/mcp-tokens');
  assert.equal(everyone.items.length, 2); // an owner sees every operator's tokens
  const listed = await ctx.owner.ok('GET', `/admin/api/mcp-tokens?operator_id=${ctx.owner.user.id}`);
  assert.equal(listed.items.length, 1);
  assert.equal(JSON.stringify(everyone).includes(ctx.ownerToken), false);
  assert.equal(listed.items[0].token_prefix, ctx.ownerToken.slice(0, 20));
  const own = await ctx.admin.ok('GET', '/admin/api/mcp-tokens');
  assert.equal(own.items.length, 1); // an admin sees its own only
  const theAdmins = await ctx.owner.ok('GET', `/admin/api/mcp-tokens?operator_id=${ctx.adminId}`);
  assert.equal(theAdmins.items[0].token_prefix, ctx.adminToken.slice(0, 20));
  const adminAsksOwner = await ctx.admin.request('GET', `/admin/api/mcp-tokens?operator_id=${ctx.owner.user.id}`);
  assert.equal(adminAsksOwner.status, 403);
  const asPoolKey = await fetch(`${ctx.gateway.baseUrl}/v1/models`, { headers: { authorization: `Bearer ${ctx.ownerToken}` } });
  assert.equal(asPoolKey.status, 401);
  const asMcpToken = await postMcp(ctx.gateway.baseUrl, ctx.poolKey, PING);
  assert.equal(asMcpToken.status, 401);
  assert.equal(asMcpToken.body.error.data.code, 'mcp_token_invalid');
});

e2eTest('transport: GET/DELETE 405 with allow, OPTIONS 204, foreign Origin 403, batch refused', async () => {
  const base = ctx.gateway.baseUrl;
  for (const method of ['GET', 'DELETE']) {
    const response = await fetch(`${base}/mcp`, { method });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST, OPTIONS');
  }
  assert.equal((await fetch(`${base}/mcp`, { method: 'OPTIONS' })).status, 204);
  const foreign = await postMcp(base, ctx.ownerToken, PING, { origin: 'https://evil.example' });
  assert.equal(foreign.status, 403);
  assert.equal(foreign.body.error.data.code, 'origin_not_allowed');
  const batch = await postMcp(base, ctx.ownerToken, [PING]);
  assert.equal(batch.status, 400);
  assert.equal(batch.body.error.code, -32600);
  const garbage = await postMcp(base, ctx.ownerToken, '{"jsonrpc":');
  assert.equal(garbage.body.error.code, -32700);
  const wrongAccept = await postMcp(base, ctx.ownerToken, PING, { accept: 'text/html' });
  assert.equal(wrongAccept.status, 406);
  const badVersion = await postMcp(base, ctx.ownerToken, PING, { 'mcp-protocol-version': '1999-01-01' });
  assert.equal(badVersion.status, 400);
});

e2eTest('the gates: no token 401, instance gate 403, operator switch 403, then open', async () => {
  const base = ctx.gateway.baseUrl;
  const missing = await postMcp(base, undefined, PING);
  assert.equal(missing.status, 401);
  assert.equal(missing.body.error.code, -32000);
  assert.equal(missing.body.error.message, 'MCP bearer token is required.');
  const serviceOff = await postMcp(base, ctx.ownerToken, PING);
  assert.equal(serviceOff.status, 403);
  assert.equal(serviceOff.body.error.data.code, 'mcp_service_disabled');
  await ctx.owner.ok('PATCH', '/admin/api/settings', { 'mcp.enabled': true });
  const switchOff = await postMcp(base, ctx.ownerToken, PING);
  assert.equal(switchOff.status, 403);
  assert.equal(switchOff.body.error.data.code, 'mcp_account_disabled');
  await ctx.owner.ok('PUT', `/admin/api/operators/${ctx.owner.user.id}/mcp-access`, { enabled: true });
  await ctx.admin.ok('PUT', `/admin/api/operators/${ctx.adminId}/mcp-access`, { enabled: true });
  const adminSwitchesOwner = await ctx.admin.request('PUT', `/admin/api/operators/${ctx.owner.user.id}/mcp-access`, { enabled: false });
  assert.equal(adminSwitchesOwner.status, 403);
  const open = await postMcp(base, ctx.ownerToken, PING);
  assert.equal(open.status, 200);
  assert.deepEqual(open.body, { jsonrpc: '2.0', id: 1, result: {} });
  const sse = await postMcp(base, ctx.ownerToken, PING, { accept: 'text/event-stream' });
  assert.equal(sse.headers.get('content-type'), 'text/event-stream');
  assert.match(sse.body, /^event: message\ndata: \{"id":1,"jsonrpc":"2.0","result":\{\}\}\n\n$/);
});

e2eTest('the MCP SDK initializes, lists the read-only tools and calls every one', async () => {
  const client = await connect(ctx.ownerToken);
  try {
    assert.equal(client.getServerVersion().name, 'codex-pooler');
    const { tools } = await client.listTools();
    assert.equal(tools.length, 20);
    for (const tool of tools) {
      assert.equal(tool.annotations.readOnlyHint, true, tool.name);
      assert.match(tool.description, /Use when: .*Returns: .*Never returns/s, tool.name);
    }
    const status = await structured(client, 'codex_pooler_get_mcp_service_status');
    assert.equal(status.server, 'codex-pooler');
    assert.equal(status.operator.role, 'instance_owner');
    assert.equal(status.operator.email, 'o***@mcp-e2e.example');
    assert.equal(status.visible_pool_count, 2);

    const pools = await structured(client, 'codex_pooler_list_pools');
    assert.deepEqual(pools.items.map((p) => p.name).sort(), [ALPHA, BETA]);
    const alpha = await structured(client, 'codex_pooler_get_pool', { selector: ctx.alpha.slug });
    assert.equal(alpha.pool.id, ctx.alpha.id);
    assert.equal(alpha.account_count, 2);
    assert.deepEqual(alpha.api_keys_by_status, { active: 1 });
    const ambiguous = await call(client, 'codex_pooler_get_pool', { selector: 'o' });
    assert.equal(ambiguous.isError, true);
    assert.equal(ambiguous.structuredContent.error, 'ambiguous_selector');
    assert.equal(ambiguous.structuredContent.candidates.length, 2);
    const badArgs = await call(client, 'codex_pooler_list_pools', { limit: 1000, colour: 'red' });
    assert.equal(badArgs.isError, true);
    assert.match(badArgs.structuredContent.message, /limit: must be between 1 and 100/);

    const upstreams = await structured(client, 'codex_pooler_list_upstreams', { pool_selector: ALPHA });
    assert.equal(upstreams.items.length, 2);
    const upstream = await structured(client, 'codex_pooler_get_upstream', { selector: upstreams.items[0].id });
    assert.equal(upstream.account.id, upstreams.items[0].id);
    assert.match(upstream.account.chatgpt_account_id, /^sha256:[0-9a-f]{8}$/);

    const quotas = await structured(client, 'codex_pooler_list_upstream_quotas', { pool_selector: ctx.alpha.id });
    assert.equal(quotas.total, 2);
    for (const quota of quotas.items) {
      assert.ok(['fresh', 'stale', 'missing'].includes(quota.freshness_status));
      assert.equal(typeof quota.routing_usable, 'boolean');
    }
    const quota = await structured(client, 'codex_pooler_get_upstream_quota', { selector: upstreams.items[1].id });
    assert.equal(quota.account_id, upstreams.items[1].id);

    const keys = await structured(client, 'codex_pooler_list_pool_api_keys');
    assert.equal(keys.items.length, 1);
    const key = await structured(client, 'codex_pooler_get_pool_api_key', { selector: ctx.poolKey.slice(0, 19) });
    assert.equal(key.api_key.key_prefix, ctx.poolKey.slice(0, 19));

    const operators = await structured(client, 'codex_pooler_list_operators');
    assert.deepEqual(operators.items.map((o) => o.email).sort(), ['o***@mcp-e2e.example', 'o***@mcp-e2e.example']);
    const admin = await structured(client, 'codex_pooler_get_operator', { selector: ctx.adminId });
    assert.equal(admin.operator.role, 'instance_admin');
    const invites = await structured(client, 'codex_pooler_list_invites', { pool_selector: ALPHA });
    assert.equal(invites.items.length, 1);
    assert.equal(invites.items[0].email, 'i***@mcp-e2e.example');
    const invite = await structured(client, 'codex_pooler_get_invite', { selector: invites.items[0].id });
    assert.equal(invite.invite.role, 'instance_admin');

    // The request log is written behind the turn, in batches: wait for the row.
    let logs;
    for (let attempt = 0; attempt < 50; ++attempt) {
      logs = await structured(client, 'codex_pooler_list_request_logs', { pool_selector: ALPHA });
      if (logs.items.length > 0) break;
      await sleep(200);
    }
    assert.ok(logs.items.length >= 1);
    const log = await structured(client, 'codex_pooler_get_request_log', { id: logs.items[0].id });
    assert.ok(Array.isArray(log.request_log.attempts) && log.request_log.attempts.length >= 1);
    const audit = await structured(client, 'codex_pooler_list_audit_logs', { action: 'mcp_token.create' });
    assert.equal(audit.items.length, 2);
    const event = await structured(client, 'codex_pooler_get_audit_log', { id: audit.items[0].id });
    assert.equal(event.audit_event.action, 'mcp_token.create');
    const jobs = await structured(client, 'codex_pooler_list_jobs', { kind: 'retention' });
    assert.ok(jobs.items.length >= 1);
    const usage = await structured(client, 'codex_pooler_get_pool_usage', { pool_selector: ALPHA });
    assert.ok('totals' in usage);
    const settings = await structured(client, 'codex_pooler_list_settings');
    assert.equal(settings.items.find((s) => s.key === 'mcp.enabled').value, true);
  } finally {
    await client.close();
  }
});

e2eTest('an instance_admin sees only its pools and none of the owner-only tools', async () => {
  const client = await connect(ctx.adminToken);
  try {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    assert.equal(names.includes('codex_pooler_list_operators'), false);
    assert.equal(names.includes('codex_pooler_list_settings'), false);
    assert.equal(tools.length, 15);
    const pools = await structured(client, 'codex_pooler_list_pools');
    assert.deepEqual(pools.items.map((p) => p.name), [ALPHA]);
    const beta = await call(client, 'codex_pooler_get_pool', { selector: ctx.beta.id });
    assert.equal(beta.isError, true);
    assert.equal(beta.structuredContent.error, 'not_found');
    await assert.rejects(client.callTool({ name: 'codex_pooler_list_operators', arguments: {} }), /Unknown tool/);
    const status = await structured(client, 'codex_pooler_get_mcp_service_status');
    assert.equal(status.visible_pool_count, 1);
  } finally {
    await client.close();
  }
});

e2eTest('the Codex CLI calls /mcp as its MCP host and the tool output reaches the model', async () => {
  const before = (await ctx.fake.requests()).length;
  const run = await runCodexExec({
    rootDir: ctx.rootDir,
    baseUrl: `${ctx.gateway.baseUrl}/backend-api/codex`,
    key: ctx.poolKey,
    prompt: 'call mcp__codex_pooler__codex_pooler_list_pools with {}',
    timeoutMs: 120_000,
    extraToml: [
      '[mcp_servers.codex_pooler]',
      `url = "${ctx.gateway.baseUrl}/mcp"`,
      'bearer_token_env_var = "CODEX_POOLER_MCP_TOKEN"',
      'default_tools_approval_mode = "approve"',
      '',
      // Codex 0.171 defers MCP tools behind `tool_search` by default; the fake scripts calls to
      // declared function tools, so the pool's tools are declared up front.
      '[features]',
      'tool_search = false',
    ].join('\n'),
    extraEnv: { CODEX_POOLER_MCP_TOKEN: ctx.ownerToken },
  });
  assert.equal(run.code, 0, describeRun(run));
  const turns = (await ctx.fake.requests())
    .slice(before)
    .filter((r) => r.method === 'POST' && r.target.startsWith('/backend-api/codex/responses'));
  const outputs = turns
    .flatMap((r) => JSON.parse(r.body).input ?? [])
    .filter((item) => item.type === 'function_call_output');
  const lastInputs = turns.map((r) => JSON.stringify((JSON.parse(r.body).input ?? []).slice(-1)).slice(0, 1500));
  assert.ok(outputs.length >= 1, `no tool output reached the fake (last inputs: ${lastInputs.join('\n')}):\n${describeRun(run)}`);
  const text = JSON.stringify(outputs);
  assert.ok(text.includes(ALPHA), `the tool output lacks the pool name: ${text}`);
  ctx.outputs.push(text);
});

e2eTest('revoked tokens, disabled operators and password changes stop access at once', async () => {
  const base = ctx.gateway.baseUrl;
  await ctx.owner.ok('PATCH', `/admin/api/operators/${ctx.adminId}`, { status: 'disabled' });
  const disabled = await postMcp(base, ctx.adminToken, PING);
  assert.equal(disabled.status, 403);
  assert.equal(disabled.body.error.data.code, 'mcp_operator_disabled');
  const tokens = await ctx.owner.ok('GET', `/admin/api/mcp-tokens?operator_id=${ctx.owner.user.id}`);
  const adminRevokes = await ctx.admin.request('POST', `/admin/api/mcp-tokens/${tokens.items[0].id}/revoke`);
  assert.equal(adminRevokes.status, 401); // disabled: its session is gone
  await ctx.owner.ok('POST', `/admin/api/mcp-tokens/${tokens.items[0].id}/revoke`);
  const revoked = await postMcp(base, ctx.ownerToken, PING);
  assert.equal(revoked.status, 401);
  assert.equal(revoked.body.error.data.code, 'mcp_token_invalid');
  const audit = await ctx.owner.ok('GET', '/admin/api/audit-logs?action=mcp_token.revoke');
  assert.equal(audit.items.length, 1);
});

e2eTest('no tool output holds a raw key, token, password or full email address', async () => {
  assert.ok(ctx.outputs.length > 20);
  const everything = ctx.outputs.join('\n');
  const secrets = [ctx.poolKey, ctx.ownerToken, ctx.adminToken, OWNER.password, ADMIN.password,
    'temporary passphrase 9', OWNER.email, ADMIN.email, INVITEE];
  for (const account of ctx.accounts) {
    const { tokens } = account.authJson;
    secrets.push(tokens.access_token, tokens.refresh_token, tokens.id_token);
  }
  for (const secret of secrets) {
    assert.equal(everything.includes(secret), false, `a tool output contains ${secret.slice(0, 12)}…`);
  }
  assert.equal(/[A-Za-z0-9._%+-]{2,}@mcp-e2e\.example/.test(everything), false);
});
