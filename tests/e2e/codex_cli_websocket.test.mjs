// End-to-end: the real `@openai/codex` CLI with `supports_websockets = true` runs two consecutive
// turns of one session through codex-pooler over websockets (`codex exec`, then
// `codex exec resume --last` in a second process), and the fake upstream proves that both turns
// arrived on the same upstream websocket connection (issue #5).
//
// Env: CXP_GATEWAY_BINARY, CXP_FAKE_UPSTREAM_BINARY (set by CTest, test e2e_codex_cli_websocket);
// CXP_E2E_KEEP_TMP=1 keeps the temp dir.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { CODEX_BIN, baseEnv, makeAccount, runCommand, startPooler, stopPooler } from './support.mjs';

const CODEX_TIMEOUT_MS = 90_000;
const REPLY = 'pong over websocket';

const ctx = { rootDir: undefined, fake: undefined, gateway: undefined, poolKey: undefined, failed: false };

/// A CODEX_HOME whose provider is the gateway with websockets on. Sessions are kept (no
/// --ephemeral) so the second process can resume the first one's thread.
function writeConfig(codexHome, baseUrl) {
  mkdirSync(codexHome, { recursive: true });
  const lines = [
    'model = "gpt-5.5"',
    'model_provider = "pooler"',
    '',
    '[model_providers.pooler]',
    'name = "OpenAI"',
    `base_url = ${JSON.stringify(baseUrl)}`,
    'env_key = "CODEX_POOLER_KEY"',
    'wire_api = "responses"',
    'supports_websockets = true',
    'request_max_retries = 0',
    'stream_max_retries = 0',
  ];
  writeFileSync(join(codexHome, 'config.toml'), `${lines.join('\n')}\n`);
}

function agentMessages(stdout) {
  const messages = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const event = JSON.parse(line);
      if (event.type === 'item.completed' && event.item?.type === 'agent_message') messages.push(event.item.text);
    } catch {
      /* not an event */
    }
  }
  return messages;
}

function describe(run) {
  return `code=${run.code} signal=${run.signal} timedOut=${run.timedOut}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

before(() =>
  startPooler(ctx, { prefix: 'cxp-e2e-ws-', poolName: 'e2e-ws', accounts: [makeAccount('acct-ws-1', REPLY)] }),
);

after(() => stopPooler(ctx));

test('codex exec and exec resume run two turns of one session on one upstream websocket', { timeout: 300_000 }, async () => {
  try {
    const runDir = join(ctx.rootDir, 'codex');
    const codexHome = join(runDir, 'codex-home');
    const home = join(runDir, 'home');
    const cwd = join(runDir, 'work');
    mkdirSync(home, { recursive: true });
    mkdirSync(cwd, { recursive: true });
    writeConfig(codexHome, `${ctx.gateway.baseUrl}/backend-api/codex`);
    const env = baseEnv({ HOME: home, CODEX_HOME: codexHome, CODEX_POOLER_KEY: ctx.poolKey });
    const exec = (args, name) =>
      runCommand(CODEX_BIN, ['exec', '--json', '--skip-git-repo-check', ...args], {
        env,
        cwd,
        timeoutMs: CODEX_TIMEOUT_MS,
        name,
      });

    const first = await exec(['say hi'], 'codex exec');
    assert.equal(first.code, 0, describe(first));
    assert.deepEqual(agentMessages(first.stdout), [REPLY], describe(first));

    const second = await exec(['resume', '--last', 'say hi again'], 'codex exec resume');
    assert.equal(second.code, 0, describe(second));
    assert.deepEqual(agentMessages(second.stdout), [REPLY], describe(second));

    // Websockets, not the HTTP fallback: no POST /responses reached the fake.
    const posts = (await ctx.fake.requests()).filter(
      (r) => r.method === 'POST' && r.target.startsWith('/backend-api/codex/responses'),
    );
    assert.equal(posts.length, 0, `HTTP turns reached the fake: ${JSON.stringify(posts.map((r) => r.target))}`);

    const connections = await ctx.fake.control('GET', '/__control/websockets');
    assert.equal(connections.length, 1, `upstream websocket connections: ${JSON.stringify(connections, null, 1)}`);
    const turns = connections[0].turns.filter((t) => t.generate !== false);
    assert.ok(turns.length >= 2, `turns on the connection: ${JSON.stringify(connections[0].turns)}`);
    assert.ok(turns.some((t) => t.input_text.includes('say hi\n')), 'first prompt not on the connection');
    assert.ok(turns.some((t) => t.input_text.includes('say hi again')), 'resumed prompt not on the connection');
    assert.equal(connections[0].account_id, 'acct-ws-1');
    assert.equal(connections[0].overlapping_creates, 0);
  } catch (error) {
    ctx.failed = true;
    throw error;
  }
});
