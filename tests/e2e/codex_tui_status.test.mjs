// The Codex CLI TUI's /status shows the pool's quota (issue #18), driven in tmux: the README's
// ChatGPT-login setup (`codex-pooler admin key codex-auth` writes auth.json, `chatgpt_base_url`
// names the gateway) against a gateway with two fake accounts whose windows fill 12.5 % (5 h) and
// 2.5 % (weekly) per served turn. After one turn /status shows the pooled usage and its resets;
// with one account exhausted the usage rises and a send still answers; with both exhausted
// /status shows the limit and a send gets the usage-limit message.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { CODEX_BIN, baseEnv, makeAccount, sleep, startPooler, stopPooler } from './support.mjs';

const PRIMARY_LIMIT = 8; // turns per 5-hour window: 12.5 % a turn
const SECONDARY_LIMIT = 40; // turns per weekly window: 2.5 % a turn

const ctx = {};
const session = `cxp-e2e-tui-${process.pid}`;
let tmuxStarted = false;

function tmux(...args) {
  const result = spawnSync('tmux', args, { encoding: 'utf8', timeout: 10000 });
  if (result.error || result.status !== 0) {
    throw new Error(`tmux ${args.join(' ')} failed: ${result.error ?? ''} ${result.stderr}`);
  }
  return result.stdout;
}

/// The TUI's screen and its scrollback, wrapped lines joined.
function screen() {
  return tmux('capture-pane', '-p', '-J', '-t', session, '-S', '-');
}

async function waitForScreen(predicate, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = screen();
    if (predicate(text)) return text;
    await sleep(250);
  }
  throw new Error(`the TUI did not show ${what} within ${timeoutMs} ms; screen:\n${text}`);
}

async function type(text) {
  tmux('send-keys', '-t', session, '-l', text);
  await sleep(300);
  tmux('send-keys', '-t', session, 'Enter');
}

const CARD = 'information on rate limits and credits'; // a line only the /status card prints

/// The last /status card on screen: `{fiveHourLeft, weeklyLeft, fiveHourLine, weeklyLine}`.
async function status(what) {
  await type('/status');
  // The TUI redraws its transcript, so cards on screen cannot be counted: give it time to print
  // this one, then read the last.
  await sleep(2000);
  const text = await waitForScreen(
    (t) => t.includes(CARD) && /Weekly limit:[^\n]*\n?[^\n]*resets/.test(t.slice(t.lastIndexOf(CARD))),
    `a /status card with limits (${what})`,
  );
  const card = text.slice(text.lastIndexOf(CARD));
  const fiveHourLine = card.split('\n').find((line) => line.includes('5h limit:'));
  const weeklyLine = card.split('\n').find((line) => line.includes('Weekly limit:'));
  assert.ok(fiveHourLine && weeklyLine, `no 5h/weekly rows in the /status card (${what}):\n${card}`);
  assert.doesNotMatch(card, /data not available/, `limits missing (${what}):\n${card}`);
  const left = (line) => Number(/(\d+)% left/.exec(line)?.[1]);
  return { card, fiveHourLeft: left(fiveHourLine), weeklyLeft: left(weeklyLine), fiveHourLine, weeklyLine };
}

/// /status twice: the first asks the gateway for the usage document (the card it prints may still
/// hold the previous snapshot), the second prints what came back.
async function freshStatus(what) {
  await status(`${what}, refresh`);
  await sleep(1500);
  return status(what);
}

/// The pool's used percent per window from the fake's counters: the mean over both accounts of
/// served turns / window limit, an exhausted account counting 100 %.
async function expectedUsed(exhausted = new Set()) {
  const used = { primary: 0, secondary: 0 };
  const accounts = await ctx.fake.accounts();
  for (const account of accounts) {
    const turns = account.counters.turns_served;
    used.primary += exhausted.has(account.account_id) ? 100 : (turns / PRIMARY_LIMIT) * 100;
    used.secondary += exhausted.has(account.account_id) ? 100 : (turns / SECONDARY_LIMIT) * 100;
  }
  return { primary: used.primary / accounts.length, secondary: used.secondary / accounts.length };
}

/// The TUI rounds what is left; the usage document rounds the used share down: one point apart.
function assertLeft(shown, used, what, card) {
  assert.ok(Math.abs(shown - (100 - used)) <= 1, `${what}: ${shown}% left, expected about ${100 - used}%\n${card}`);
}

/// Waits until the fake's served-turn counters stop moving (the TUI also names its thread with a
/// turn of its own after the first answer).
async function settledCounters() {
  let last = '';
  for (let i = 0; i < 40; i += 1) {
    const now = JSON.stringify((await ctx.fake.accounts()).map((a) => a.counters.turns_served));
    if (now === last) return;
    last = now;
    await sleep(500);
  }
}

/// A turn outside the TUI (no session, a fresh prompt_cache_key) so the gateway routes it by the
/// pool's strategy.
async function curlTurn(seed) {
  const response = await fetch(`${ctx.gateway.baseUrl}/backend-api/codex/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.poolKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gpt-5.5',
      stream: true,
      store: false,
      prompt_cache_key: seed,
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
    }),
  });
  await response.text();
  return response.status;
}

before(async () => {
  const accounts = [makeAccount('acct-1', 'pong from one'), makeAccount('acct-2', 'pong from two')];
  for (const account of accounts) {
    account.script.primary_limit = PRIMARY_LIMIT;
    account.script.secondary_limit = SECONDARY_LIMIT;
  }
  await startPooler(ctx, { prefix: 'cxp-e2e-tui-', poolName: 'tui', accounts });

  // auth.json exactly as the README has users make it: the raw key on stdin, the file on stdout.
  const made = spawnSync(ctx.gateway.binary, ['admin', 'key', 'codex-auth'], {
    env: ctx.gateway.env,
    cwd: ctx.gateway.dataDir,
    input: `${ctx.poolKey}\n`,
    encoding: 'utf8',
    timeout: 30000,
  });
  assert.equal(made.status, 0, `admin key codex-auth failed:\n${made.stdout}\n${made.stderr}`);
  const authJson = JSON.parse(made.stdout.slice(made.stdout.indexOf('{\n')));
  assert.equal(authJson.tokens.access_token, ctx.poolKey);

  ctx.codexHome = join(ctx.rootDir, 'codex-home');
  ctx.home = join(ctx.rootDir, 'home');
  ctx.work = join(ctx.rootDir, 'work');
  for (const dir of [ctx.codexHome, ctx.home, ctx.work]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(ctx.codexHome, 'auth.json'), JSON.stringify(authJson, null, 2), { mode: 0o600 });
  // The README's config for a gateway on loopback HTTP: chatgpt_base_url on another origin
  // (localhost) than the model base URL (127.0.0.1). The tail keeps the TUI from asking anything
  // on its first start and from leaving a background server behind.
  writeFileSync(
    join(ctx.codexHome, 'config.toml'),
    [
      'model = "gpt-5.5"',
      'model_provider = "pooler"',
      `chatgpt_base_url = "http://localhost:${ctx.gateway.port}/backend-api"`,
      'check_for_update_on_startup = false',
      '',
      '[model_providers.pooler]',
      'name = "OpenAI"',
      `base_url = "http://127.0.0.1:${ctx.gateway.port}/backend-api/codex"`,
      'requires_openai_auth = true',
      'wire_api = "responses"',
      'supports_websockets = true',
      'stream_max_retries = 0',
      '',
      '[features]',
      'enable_request_compression = false',
      'daemon_auto_start = false',
      '',
      `[projects.${JSON.stringify(ctx.work)}]`,
      'trust_level = "trusted"',
      '',
      '[notice.model_migrations]',
      '"gpt-5.5" = "gpt-6-sol"',
      '',
      '[tui]',
      'screen_reader_detection_done = true',
      '',
      '[tui.model_availability_nux]',
      '"gpt-6.1-sol" = 1',
      '',
    ].join('\n'),
  );

  const env = baseEnv({ HOME: ctx.home, CODEX_HOME: ctx.codexHome, TERM: 'xterm-256color' });
  const assignments = Object.entries(env).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  tmux(
    'new-session', '-d', '-s', session, '-x', '200', '-y', '60', '-c', ctx.work,
    `env -i ${assignments.join(' ')} ${JSON.stringify(CODEX_BIN)}; sleep 3600`,
  );
  tmuxStarted = true;
  await waitForScreen((t) => /for shortcuts/.test(t), 'its prompt', 30000);
  await sleep(1000);
});

after(async () => {
  if (tmuxStarted) {
    if (ctx.failed) console.error(`--- TUI screen ---\n${screen()}`);
    spawnSync('tmux', ['kill-session', '-t', session]);
  }
  await stopPooler(ctx);
});

function step(name, fn) {
  test(name, async () => {
    try {
      await fn();
    } catch (error) {
      ctx.failed = true;
      throw error;
    }
  });
}

step('after one turn /status shows the pool\'s 5-hour and weekly usage and resets', async () => {
  await type('say hi');
  const text = await waitForScreen((t) => /pong from (one|two)/.test(t), 'the answer');
  ctx.pinned = /pong from one/.test(text) ? 'acct-1' : 'acct-2';
  ctx.other = ctx.pinned === 'acct-1' ? 'acct-2' : 'acct-1';
  await settledCounters();
  const used = await expectedUsed();
  assert.ok(used.primary > 0, 'no turn was served');
  const shown = await freshStatus('one turn');
  assertLeft(shown.fiveHourLeft, used.primary, '5h limit', shown.card);
  assertLeft(shown.weeklyLeft, used.secondary, 'weekly limit', shown.card);
  assert.match(shown.fiveHourLine + shown.card, /resets \d{1,2}:\d{2}/, shown.card);
  ctx.firstLeft = shown.fiveHourLeft;
});

step('with one of two accounts exhausted the usage rises and the CLI still sends', async () => {
  await ctx.fake.patchAccount(ctx.other, { usage_limit_after: 0 });
  // Turns outside the TUI until one is routed to the exhausted account first (it answers 429 and
  // the turn moves on): the gateway now holds its usage-limit evidence.
  for (let i = 0; i < 8 && (await ctx.fake.account(ctx.other)).counters.turn_requests === 0; i += 1) {
    assert.equal(await curlTurn(`tui-seed-${i}`), 200, 'a turn failed while one account had room');
  }
  assert.ok((await ctx.fake.account(ctx.other)).counters.turn_requests > 0, 'no turn reached the exhausted account');
  await settledCounters();
  const used = await expectedUsed(new Set([ctx.other]));
  const shown = await freshStatus('one account exhausted');
  assert.ok(shown.fiveHourLeft < ctx.firstLeft, `the 5h usage did not rise:\n${shown.card}`);
  assertLeft(shown.fiveHourLeft, used.primary, '5h limit, one exhausted', shown.card);

  const answers = screen().split(/pong from/).length;
  await type('say hi again');
  await waitForScreen((t) => t.split(/pong from/).length > answers, 'the second answer');
});

step('with both accounts exhausted /status shows the limit and a send gets the usage-limit message', async () => {
  await ctx.fake.patchAccount(ctx.pinned, { usage_limit_after: 0 });
  assert.equal(await curlTurn('tui-seed-both'), 429, 'a turn was served with both accounts exhausted');
  const shown = await freshStatus('both exhausted');
  assert.equal(shown.fiveHourLeft, 0, `the 5h limit is not shown as reached:\n${shown.card}`);

  await type('one more');
  await waitForScreen((t) => /usage limit/i.test(t.slice(t.lastIndexOf('one more'))), 'the usage-limit message');
});
