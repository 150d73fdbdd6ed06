// End-to-end: the upstream cuts a streamed answer after its first bytes (the fake account's
// `abrupt_close_after_events`). The gateway can no longer fail over, so it ends the stream with a
// `response.failed` (code stream_incomplete); the real `@openai/codex` CLI must retry a bounded
// number of times and then report "stream disconnected before completion", never presenting the
// truncated text as the finished answer.
//
// Env: CXP_GATEWAY_BINARY, CXP_FAKE_UPSTREAM_BINARY (set by CTest, test e2e_codex_cli_stream_cut);
// optional CXP_DATABASE_URL, CXP_E2E_KEEP_TMP=1 keeps the temp dir.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';

import {
  describeRun,
  makeAccount,
  runCodexExec,
  startPooler,
  stopPooler,
  e2eTest as sharedE2eTest,
} from './support.mjs';

const ACCOUNT_ID = 'acct-e2e-cut';
const REPLY = 'TRUNCATED-ANSWER-7f3a must never look finished';
const CODEX_TIMEOUT_MS = 45_000;
// The fake's SSE turn: response.created, response.in_progress, codex.rate_limits,
// response.output_item.added, response.output_text.delta (the whole reply text), then
// output_text.done, output_item.done, response.completed. Closing after 5 events cuts the answer
// after its text delta, before anything marks the message or the response as done.
const CUT_AFTER_EVENTS = 5;
const STREAM_RETRIES = 1; // the CLI's retries after a disconnected stream (support.mjs sets 0)

const ctx = { rootDir: undefined, fake: undefined, gateway: undefined, poolKey: undefined, failed: false };
let runNumber = 0;

const e2eTest = (name, fn) => sharedE2eTest(ctx, name, 60_000, fn);

/// One `codex exec` with bounded stream retries, recording the final message file (`-o`) and the
/// fake's /responses calls made during the run.
async function codex() {
  const lastMessageFile = join(ctx.rootDir, `last-message-${++runNumber}.txt`);
  const before = (await ctx.fake.requests()).length;
  const run = await runCodexExec({
    rootDir: ctx.rootDir,
    baseUrl: `${ctx.gateway.baseUrl}/backend-api/codex`,
    key: ctx.poolKey,
    prompt: 'say hi',
    timeoutMs: CODEX_TIMEOUT_MS,
    extraArgs: [
      '-c',
      `model_providers.pooler.stream_max_retries=${STREAM_RETRIES}`,
      '--output-last-message',
      lastMessageFile,
    ],
  });
  const requests = (await ctx.fake.requests()).slice(before);
  run.responsesCalls = requests.filter(
    (r) => r.method === 'POST' && r.target.split('?')[0].startsWith('/backend-api/codex/responses'),
  );
  run.lastMessage = existsSync(lastMessageFile) ? readFileSync(lastMessageFile, 'utf8') : null;
  return run;
}

before(async () => {
  await startPooler(ctx, {
    prefix: 'cxp-e2e-cut-',
    poolName: 'e2e-cut',
    accounts: [makeAccount(ACCOUNT_ID, REPLY)],
  });
});

after(() => stopPooler(ctx));

// Control: the same setup with an intact stream shows what a finished answer looks like, so the
// negative checks below are about the cut and not about the configuration.
e2eTest('an intact stream: codex exec prints the answer as a completed agent message', async () => {
  const run = await codex();
  assert.equal(run.timedOut, false, `codex exec hung\n${describeRun(run)}`);
  assert.equal(run.code, 0, describeRun(run));
  assert.deepEqual(run.agentMessages, [REPLY], describeRun(run));
  assert.ok(run.events.some((e) => e.type === 'turn.completed'), `no turn.completed\n${describeRun(run)}`);
  assert.equal(run.lastMessage?.trim(), REPLY, `--output-last-message file: ${JSON.stringify(run.lastMessage)}`);
  assert.equal(run.responsesCalls.length, 1, describeRun(run));
});

e2eTest('a stream cut after its first bytes: codex exec reports the error, not the partial answer', async () => {
  await ctx.fake.patchAccount(ACCOUNT_ID, { abrupt_close_after_events: CUT_AFTER_EVENTS });
  const run = await codex();
  assert.equal(run.timedOut, false, `codex exec hung (killed after ${CODEX_TIMEOUT_MS} ms)\n${describeRun(run)}`);

  // The failure is reported: non-zero exit, a failed turn carrying the disconnect message that
  // the gateway's response.failed produced.
  assert.notEqual(run.code, 0, `codex exec succeeded on a cut stream\n${describeRun(run)}`);
  const failed = run.events.filter((e) => e.type === 'turn.failed');
  assert.equal(failed.length, 1, `expected one turn.failed\n${describeRun(run)}`);
  assert.match(failed[0].error?.message ?? '', /stream disconnected before completion/, describeRun(run));
  assert.match(
    failed[0].error?.message ?? '',
    /ended before the response completed/,
    `the turn's error is not the gateway's stream_incomplete message\n${describeRun(run)}`,
  );

  // The truncated answer is not presented as a finished one.
  assert.deepEqual(run.agentMessages, [], `the partial answer was printed as an agent message\n${describeRun(run)}`);
  assert.ok(!run.events.some((e) => e.type === 'turn.completed'), `a turn.completed was printed\n${describeRun(run)}`);
  assert.ok(!run.stdout.includes(REPLY), `the partial answer text appears on stdout\n${describeRun(run)}`);
  assert.ok(
    !(run.lastMessage ?? '').includes(REPLY),
    `--output-last-message holds the partial answer: ${JSON.stringify(run.lastMessage)}`,
  );

  // The CLI retried a bounded number of times (each retry a fresh upstream call, each cut), and
  // the gateway replayed nothing on its own after the first byte had gone out.
  const reconnects = run.events.filter((e) => e.type === 'error' && /^Reconnecting\.\.\./.test(e.message ?? ''));
  assert.equal(reconnects.length, STREAM_RETRIES, `expected ${STREAM_RETRIES} reconnect notice(s)\n${describeRun(run)}`);
  assert.equal(
    run.responsesCalls.length,
    1 + STREAM_RETRIES,
    `expected ${1 + STREAM_RETRIES} upstream /responses calls, saw ${run.responsesCalls.length}\n${describeRun(run)}`,
  );
  assert.ok(
    run.responsesCalls.every((r) => r.headers['chatgpt-account-id'] === ACCOUNT_ID),
    describeRun(run),
  );
});
