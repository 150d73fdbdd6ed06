// End-to-end: the Vercel AI SDK (`ai` + `@ai-sdk/openai`) talks to codex-pooler's /v1 surface,
// both with the Responses model (`pooler.responses(…)`) and the chat model (`pooler.chat(…)`).
//
// Env: CXP_GATEWAY_BINARY, CXP_FAKE_UPSTREAM_BINARY (set by CTest, test e2e_ai_sdk).
import assert from 'node:assert/strict';

import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';

import { REPLIES, isTurn, v1Suite } from './v1_support.mjs';

const ctx = v1Suite('cxp-e2e-ai-sdk-');
const e2eTest = ctx.test;
const replies = Object.values(REPLIES);

const pooler = () => createOpenAI({ apiKey: ctx.poolKey, baseURL: ctx.baseUrl });

e2eTest('generateText with pooler.responses(...) returns the account reply and usage', async () => {
  const { result, requests } = await ctx.recordedDuring(() =>
    generateText({ model: pooler().responses('gpt-5.5'), prompt: 'say hi', maxRetries: 0 }),
  );
  assert.ok(replies.includes(result.text), `text ${result.text}`);
  assert.equal(result.finishReason, 'stop');
  assert.equal(result.usage.inputTokens, 10);
  assert.equal(result.usage.outputTokens, 3);
  const sent = JSON.parse(requests.find(isTurn).body);
  assert.equal(sent.stream, true);
  assert.equal(sent.store, false);
});

e2eTest('streamText with pooler.responses(...) streams the text', async () => {
  const result = streamText({ model: pooler().responses('gpt-5.5'), prompt: 'say hi', maxRetries: 0 });
  let text = '';
  for await (const delta of result.textStream) text += delta;
  assert.ok(replies.includes(text), `streamed ${text}`);
  assert.equal(await result.finishReason, 'stop');
  assert.equal((await result.usage).totalTokens, 13);
});

e2eTest('generateText with the chat model returns the account reply and usage', async () => {
  const { result, requests } = await ctx.recordedDuring(() =>
    generateText({
      model: pooler().chat('gpt-5.5'),
      system: 'You are terse.',
      prompt: 'say hi',
      maxRetries: 0,
    }),
  );
  assert.ok(replies.includes(result.text), `text ${result.text}`);
  assert.equal(result.finishReason, 'stop');
  assert.equal(result.usage.inputTokens, 10);
  const sent = JSON.parse(requests.find(isTurn).body);
  assert.equal(sent.instructions, 'You are terse.', 'the system message is lifted into instructions');
});

e2eTest('streamText with the chat model streams the text with usage', async () => {
  const result = streamText({ model: pooler().chat('gpt-5.5'), prompt: 'say hi', maxRetries: 0 });
  let text = '';
  for await (const delta of result.textStream) text += delta;
  assert.ok(replies.includes(text), `streamed ${text}`);
  assert.equal(await result.finishReason, 'stop');
  assert.equal((await result.usage).totalTokens, 13);
});

for (const [label, model] of [
  ['chat model', (p) => p.chat('gpt-5.5')],
  ['responses model', (p) => p.responses('gpt-5.5')],
]) {
  e2eTest(`tools run a round trip through the ${label}`, async () => {
    const seen = [];
    const result = await generateText({
      model: model(pooler()),
      prompt: 'please call get_weather for Paris',
      tools: {
        get_weather: tool({
          description: 'Weather of a city',
          inputSchema: jsonSchema({
            type: 'object',
            properties: { query: { type: 'string' } },
            required: ['query'],
          }),
          execute: async ({ query }) => {
            seen.push(query);
            return 'sunny';
          },
        }),
      },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    assert.deepEqual(seen, ['please call get_weather for Paris']);
    assert.equal(result.steps.length, 2);
    assert.equal(result.steps[0].finishReason, 'tool-calls');
    assert.match(result.text, /^tool result: .*sunny/);
  });
}
