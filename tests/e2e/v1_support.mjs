// Shared setup of the /v1 SDK suites (openai_sdk.test.mjs, ai_sdk.test.mjs): a fake upstream
// with two accounts, a gateway on SQLite (or CXP_DATABASE_URL) provisioned with one pool and
// one key, and cleanup that keeps the temp dir and prints the gateway log when a test failed.
import { after, before, test } from 'node:test';
import { join } from 'node:path';

import { FakeUpstream, Gateway, makeAccount, makeTempDir, removeDir, requireEnv, requireNodeModules } from './support.mjs';

export const REPLIES = {
  'acct-v1-1': 'pong from account one',
  'acct-v1-2': 'pong from account two',
};

/// Registers before/after hooks and returns the context they fill:
/// `{fake, gateway, poolKey, baseUrl (…/v1), accounts}`.
export function v1Suite(prefix) {
  const ctx = { failed: false, accounts: {} };
  before(async () => {
    requireNodeModules();
    const gatewayBinary = requireEnv('CXP_GATEWAY_BINARY');
    const fakeBinary = requireEnv('CXP_FAKE_UPSTREAM_BINARY');
    ctx.rootDir = makeTempDir(prefix);
    for (const [id, reply] of Object.entries(REPLIES)) ctx.accounts[id] = makeAccount(id, reply);
    ctx.fake = await FakeUpstream.start(
      fakeBinary,
      Object.values(ctx.accounts).map((a) => a.script),
      ctx.rootDir,
    );
    const dataDir = join(ctx.rootDir, 'gateway-data');
    ctx.gateway = new Gateway(gatewayBinary, {
      databaseUrl: process.env.CXP_DATABASE_URL || `sqlite://${dataDir}/codex-pooler.db`,
      dataDir,
      home: ctx.rootDir,
    });
    const provisioned = await ctx.gateway.provision({
      poolName: prefix,
      accounts: Object.values(ctx.accounts),
      workDir: ctx.rootDir,
    });
    ctx.poolKey = provisioned.poolKey;
    await ctx.gateway.serve({
      upstreamBaseUrl: `${ctx.fake.baseUrl}/backend-api`,
      oauthTokenUrl: `${ctx.fake.baseUrl}/oauth/token`,
    });
    ctx.baseUrl = `${ctx.gateway.baseUrl}/v1`;
  });
  after(async () => {
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
  });
  ctx.test = (name, fn) =>
    test(name, { timeout: 60_000 }, async (t) => {
      try {
        await fn(t);
      } catch (error) {
        ctx.failed = true;
        throw error;
      }
    });
  /// The fake's recordings made while `action` ran.
  ctx.recordedDuring = async (action) => {
    const before = (await ctx.fake.requests()).length;
    const result = await action();
    const all = await ctx.fake.requests();
    return { result, requests: all.slice(before) };
  };
  return ctx;
}

export const isTurn = (r) => r.method === 'POST' && r.target.split('?')[0] === '/backend-api/codex/responses';
