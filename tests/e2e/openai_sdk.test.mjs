// End-to-end: the real `openai` npm SDK talks to codex-pooler's OpenAI-compatible /v1 surface,
// which translates onto the Codex Responses path of the fake upstream (two accounts).
//
// Env: CXP_GATEWAY_BINARY, CXP_FAKE_UPSTREAM_BINARY (set by CTest, test e2e_openai_sdk).
import assert from 'node:assert/strict';

import OpenAI, { toFile } from 'openai';

import { REPLIES, isTurn, v1Suite } from './v1_support.mjs';

const ctx = v1Suite('cxp-e2e-openai-');
const e2eTest = ctx.test;
const replies = Object.values(REPLIES);

const client = () => new OpenAI({ apiKey: ctx.poolKey, baseURL: ctx.baseUrl, maxRetries: 0, timeout: 30_000 });

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather of a city',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  },
};

e2eTest('models.list shows the pool catalog with effective context lengths', async () => {
  const models = [];
  for await (const model of client().models.list()) models.push(model);
  const ids = models.map((m) => m.id).sort();
  assert.deepEqual(ids, ['gpt-5.5', 'gpt-fake']);
  const main = models.find((m) => m.id === 'gpt-5.5');
  assert.equal(main.object, 'model');
  assert.equal(main.owned_by, 'codex-pooler');
  assert.equal(main.context_length, 258400); // 272000 × 95 %
  assert.equal(main.supports_reasoning, true);
  const retrieved = await client().models.retrieve('gpt-fake');
  assert.equal(retrieved.id, 'gpt-fake');
  await assert.rejects(client().models.retrieve('no-such-model'), (error) => error.status === 404);
});

e2eTest('responses.create returns the collected response of a streamed upstream turn', async () => {
  const { result: response, requests } = await ctx.recordedDuring(() =>
    client().responses.create({ model: 'gpt-5.5', input: 'say hi', instructions: 'be brief', temperature: 0.2 }),
  );
  assert.equal(response.object, 'response');
  assert.equal(response.status, 'completed');
  assert.ok(replies.includes(response.output_text), `unexpected text ${response.output_text}`);
  assert.equal(response.usage.input_tokens, 10);
  const turn = requests.find(isTurn);
  assert.ok(turn, 'no upstream turn recorded');
  const sent = JSON.parse(turn.body);
  assert.equal(sent.stream, true);
  assert.equal(sent.store, false);
  assert.equal(sent.instructions, 'be brief');
  assert.equal(sent.temperature, undefined, 'temperature must be stripped for the Codex backend');
  assert.deepEqual(sent.include, ['reasoning.encrypted_content']);
  assert.equal(sent.input[0].content[0].text, 'say hi');
});

e2eTest('responses.create with stream:true yields public Responses events', async () => {
  const stream = await client().responses.create({ model: 'gpt-5.5', input: 'say hi', stream: true });
  const types = [];
  let text = '';
  let completed;
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'response.output_text.delta') text += event.delta;
    if (event.type === 'response.completed') completed = event.response;
  }
  assert.ok(replies.includes(text), `streamed text ${text}`);
  assert.ok(!types.some((t) => t.startsWith('codex.')), `codex events leaked: ${types}`);
  assert.equal(types[0], 'response.created');
  assert.equal(types.at(-1), 'response.completed');
  assert.ok(completed.output.length > 0, 'completed response carries the output items');
  assert.equal(completed.output_text ?? completed.output[0].content[0].text, text);
});

e2eTest('chat.completions.create answers a chat.completion with usage', async () => {
  const completion = await client().chat.completions.create({
    model: 'gpt-5.5',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: [{ type: 'text', text: 'say hi' }] },
    ],
  });
  assert.equal(completion.object, 'chat.completion');
  assert.ok(replies.includes(completion.choices[0].message.content));
  assert.equal(completion.choices[0].message.role, 'assistant');
  assert.equal(completion.choices[0].finish_reason, 'stop');
  assert.equal(completion.usage.prompt_tokens, 10);
  assert.equal(completion.usage.completion_tokens, 3);
  assert.equal(completion.usage.prompt_tokens_details.cached_tokens, 2);
});

e2eTest('chat.completions.create streams chunks and a usage chunk with include_usage', async () => {
  const stream = await client().chat.completions.create({
    model: 'gpt-5.5',
    messages: [{ role: 'user', content: 'say hi' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  const finishReasons = [];
  let usage;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    assert.equal(chunk.object, 'chat.completion.chunk');
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? '';
      if (choice.finish_reason) finishReasons.push(choice.finish_reason);
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(chunks >= 3);
  assert.ok(replies.includes(text), `streamed text ${text}`);
  assert.deepEqual(finishReasons, ['stop']);
  assert.equal(usage.total_tokens, 13);
});

e2eTest('chat.completions tool call round trip (streamed call, then the tool result)', async () => {
  const messages = [{ role: 'user', content: 'please call get_weather for Paris' }];
  const stream = await client().chat.completions.create({
    model: 'gpt-5.5',
    messages,
    tools: [weatherTool],
    tool_choice: 'auto',
    stream: true,
  });
  const calls = [];
  let finish;
  for await (const chunk of stream) {
    for (const call of chunk.choices[0]?.delta?.tool_calls ?? []) {
      calls[call.index] ??= { id: '', name: '', arguments: '' };
      if (call.id) calls[call.index].id = call.id;
      if (call.function?.name) calls[call.index].name = call.function.name;
      calls[call.index].arguments += call.function?.arguments ?? '';
    }
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(finish, 'tool_calls');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].name, 'get_weather');
  assert.deepEqual(JSON.parse(calls[0].arguments), { query: 'please call get_weather for Paris' });

  const { result: followUp, requests } = await ctx.recordedDuring(() =>
    client().chat.completions.create({
      model: 'gpt-5.5',
      messages: [
        ...messages,
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: calls[0].id, type: 'function', function: { name: 'get_weather', arguments: calls[0].arguments } }],
        },
        { role: 'tool', tool_call_id: calls[0].id, content: 'sunny, 21 C' },
      ],
      tools: [weatherTool],
    }),
  );
  assert.equal(followUp.choices[0].message.content, 'tool result: sunny, 21 C');
  assert.equal(followUp.choices[0].finish_reason, 'stop');
  const sent = JSON.parse(requests.find(isTurn).body);
  assert.deepEqual(
    sent.input.map((item) => item.type),
    ['message', 'function_call', 'function_call_output'],
  );
  assert.equal(sent.tools[0].name, 'get_weather');

  const plain = await client().chat.completions.create({ model: 'gpt-5.5', messages, tools: [weatherTool] });
  assert.equal(plain.choices[0].finish_reason, 'tool_calls');
  assert.equal(plain.choices[0].message.tool_calls[0].function.name, 'get_weather');
});

e2eTest('files.create uploads through the gateway and pins the file to its account', async () => {
  const bytes = Buffer.from('notes for the model\n'.repeat(50));
  const { result: file, requests } = await ctx.recordedDuring(async () =>
    client().files.create({ file: await toFile(bytes, 'notes.txt'), purpose: 'user_data' }),
  );
  assert.equal(file.object, 'file');
  assert.match(file.id, /^file_fake\d+$/);
  assert.equal(file.bytes, bytes.length);
  assert.equal(file.filename, 'notes.txt');
  const create = requests.find((r) => r.method === 'POST' && r.target === '/backend-api/files');
  const put = requests.find((r) => r.method === 'PUT' && r.target.startsWith(`/__blob/${file.id}`));
  const finalize = requests.find((r) => r.target === `/backend-api/files/${file.id}/uploaded`);
  assert.ok(create && put && finalize, 'create, PUT and finalize reach the upstream');
  assert.equal(put.body.length, bytes.length);
  assert.equal(put.headers.authorization, undefined, 'the upload URL gets no account credential');
  assert.equal(finalize.headers['chatgpt-account-id'], create.headers['chatgpt-account-id']);

  const again = await client().files.retrieve(file.id);
  assert.equal(again.id, file.id);
  const listed = [];
  for await (const item of client().files.list()) listed.push(item.id);
  assert.ok(listed.includes(file.id));

  // Every later request naming the file goes to the account that holds it.
  for (let i = 0; i < 3; i += 1) {
    const { requests: turns } = await ctx.recordedDuring(() =>
      client().chat.completions.create({
        model: 'gpt-5.5',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'summarise' }, { type: 'file', file: { file_id: file.id } }] }],
      }),
    );
    const turn = turns.find(isTurn);
    assert.equal(turn.headers['chatgpt-account-id'], create.headers['chatgpt-account-id']);
    assert.equal(JSON.parse(turn.body).input[0].content[1].file_id, file.id);
  }
  await assert.rejects(client().files.retrieve('file_unknown'), (error) => error.status === 404);
});

e2eTest('audio.transcriptions.create goes to the backend transcribe route', async () => {
  const wav = Buffer.alloc(64, 1);
  const { result: transcription, requests } = await ctx.recordedDuring(async () =>
    client().audio.transcriptions.create({ file: await toFile(wav, 'hello.wav'), model: 'whisper-1', language: 'en' }),
  );
  assert.equal(transcription.text, 'transcript of hello.wav (64 bytes, model gpt-4o-transcribe)');
  const call = requests.find((r) => r.target === '/backend-api/transcribe');
  assert.match(call.headers['content-type'], /^multipart\/form-data; boundary=/);
});

e2eTest('images.generate runs the image_generation tool and returns the image', async () => {
  const { result: images, requests } = await ctx.recordedDuring(() =>
    client().images.generate({ model: 'gpt-image-1', prompt: 'a red square', size: '1024x1024' }),
  );
  assert.equal(images.data.length, 1);
  assert.ok(Buffer.from(images.data[0].b64_json, 'base64').subarray(1, 4).equals(Buffer.from('PNG')));
  assert.equal(images.data[0].revised_prompt, 'a fake image of a red square');
  const sent = JSON.parse(requests.find(isTurn).body);
  assert.deepEqual(sent.tools, [{ type: 'image_generation', model: 'gpt-image-1', size: '1024x1024', quality: 'auto' }]);
  assert.deepEqual(sent.tool_choice, { type: 'image_generation' });
});

e2eTest('images.edit sends the image (and mask) to the image_generation tool', async () => {
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
    'base64',
  );
  const { result: edited, requests } = await ctx.recordedDuring(async () =>
    client().images.edit({
      model: 'gpt-image-1',
      image: await toFile(png, 'in.png', { type: 'image/png' }),
      mask: await toFile(png, 'mask.png', { type: 'image/png' }),
      prompt: 'make it blue',
    }),
  );
  assert.equal(edited.data.length, 1);
  assert.ok(edited.data[0].b64_json.length > 20);
  const content = JSON.parse(requests.find(isTurn).body).input[0].content;
  assert.equal(content[0].text, 'make it blue');
  assert.equal(content[1].image_url, `data:image/png;base64,${png.toString('base64')}`);
  assert.equal(content[2].image_url, `data:image/png;base64,${png.toString('base64')}`, 'mask last');
  assert.match(content[3].text, /mask/);
});

e2eTest('unsupported endpoints answer an OpenAI-shaped unsupported_endpoint error', async () => {
  await assert.rejects(client().embeddings.create({ model: 'text-embedding-3-small', input: 'x' }), (error) => {
    assert.ok(error instanceof OpenAI.NotFoundError, `got ${error?.constructor?.name}`);
    assert.equal(error.code, 'unsupported_endpoint');
    return true;
  });
  await assert.rejects(client().responses.retrieve('resp_1'), (error) => error.code === 'unsupported_endpoint');
  await assert.rejects(
    client().chat.completions.create({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'x' }], seed: 7 }),
    (error) => error instanceof OpenAI.BadRequestError && error.code === 'unsupported_parameter' && error.param === 'seed',
  );
});

e2eTest('an exhausted pool surfaces as the SDK RateLimitError (runs last: it exhausts the accounts)', async () => {
  for (const id of Object.keys(REPLIES)) await ctx.fake.patchAccount(id, { usage_limit_after: 0 });
  const attempt = () => client().chat.completions.create({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'say hi' }] });
  await assert.rejects(attempt(), (error) => {
    assert.ok(error instanceof OpenAI.RateLimitError, `got ${error?.constructor?.name}: ${error?.message}`);
    assert.equal(error.status, 429);
    assert.equal(error.code, 'usage_limit_reached');
    return true;
  });
  // Once the pool knows every account is exhausted it answers without trying upstream.
  await assert.rejects(
    client().responses.create({ model: 'gpt-5.5', input: 'say hi' }),
    (error) => error instanceof OpenAI.RateLimitError,
  );
});
