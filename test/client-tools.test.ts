// Tool types the client executes, over HTTP with the openai client and the mock upstream: Codex's real
// request shape (client_metadata, a namespace tool, hosted tools it does not configure), the hosted-tool
// rule, and each client tool type's round trip (call out as its own item type with its events,
// `*_call_output` back in, stored and listed by input_items, seen by the upstream as a tool result).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { startMockUpstream, type MockUpstream, type ScriptSpec } from './support/mock-upstream.js';
import { readSse, startServer, type TestServer } from './support/server.js';

let server: TestServer;
let upstream: MockUpstream;

before(async () => {
  upstream = await startMockUpstream();
  server = await startServer({ env: { OPENAI_BASE_URL: upstream.url } });
});
after(async () => {
  await server?.stop();
  await upstream?.close();
});

let nonce = 0;
const script = (spec: ScriptSpec) => JSON.stringify({ ...spec, nonce: nonce++ });
const post = (body: unknown, headers: Record<string, string> = {}) =>
  server.fetch('/responses', { method: 'POST', body: JSON.stringify(body), headers });
const json = async (body: unknown, headers?: Record<string, string>) => {
  const res = await post(body, headers);
  const out = await res.json();
  assert.equal(res.status, 200, JSON.stringify(out));
  return out;
};
const lastChat = () => upstream.lastChat().body;
const MODEL = 'openai:mock-script';

/** A request shaped like Codex CLI 0.171's (captured from `codex exec`), with a given prompt. */
function codexLike(prompt: string, extra: Record<string, unknown> = {}) {
  return {
    model: MODEL,
    tool_choice: 'auto',
    parallel_tool_calls: true,
    reasoning: { summary: 'auto' },
    store: false,
    include: ['reasoning.encrypted_content'],
    prompt_cache_key: '01a23c74-a5a4-78e1-a3ae-6391a0109ca5',
    client_metadata: { turn_id: '01a23c74-a7a1', session_id: '01a23c74-a5a4', 'x-codex-window-id': '01a23c74:0' },
    tools: [
      { type: 'function', name: 'exec_command', description: 'Runs a command.', strict: false, parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'], additionalProperties: false } },
      {
        type: 'namespace', name: 'multi_agent_v1', description: 'Tools for sub-agents.',
        tools: [{ type: 'function', name: 'close_agent', description: 'Close an agent.', strict: false, parameters: { type: 'object', properties: { target: { type: 'string' } }, required: ['target'], additionalProperties: false } }],
      },
      { type: 'web_search', external_web_access: true },
    ],
    input: [
      { type: 'message', id: 'msg_4e6f02a5-3e1b-590c-8be8-de8ac5cdd812', role: 'developer', content: [{ type: 'input_text', text: 'You are a coding agent.' }] },
      { type: 'message', id: 'msg_01a23c74-a92e-7900-98ab-0c01671c23c4', role: 'user', content: [{ type: 'input_text', text: prompt }] },
    ],
    ...extra,
  };
}
const CODEX_HEADERS = { 'x-codex-beta-features': 'remote_compaction_v2', originator: 'codex_exec', 'session-id': '01a23c74', accept: 'text/event-stream' };

describe('Codex request shape', () => {
  it('is accepted as sent; namespaced calls map back; the history of calls and outputs with store: false reaches the upstream', async () => {
    const r = await json(codexLike(script({ calls: [{ name: 'multi_agent_v1__close_agent', arguments: '{"target":"a1"}' }] })), CODEX_HEADERS);
    const offered = lastChat().tools.map((t: any) => t.function.name);
    assert.deepEqual(offered, ['exec_command', 'multi_agent_v1__close_agent'], 'web_search is not offered');
    const call = r.output.find((i: any) => i.type === 'function_call');
    assert.equal(call.name, 'close_agent');
    assert.equal(call.namespace, 'multi_agent_v1');
    assert.deepEqual(r.tools.map((t: any) => t.type), ['function', 'namespace', 'web_search']);

    const prompt = script({ calls: [{ name: 'exec_command', arguments: '{"cmd":"ls"}' }], answer: 'done' });
    const first = codexLike(prompt);
    const second = await json({
      ...first,
      input: [...first.input,
        { type: 'function_call', name: 'close_agent', namespace: 'multi_agent_v1', arguments: '{"target":"a1"}', call_id: 'call_ns1' },
        { type: 'function_call_output', call_id: 'call_ns1', output: 'closed' },
        { type: 'function_call', name: 'exec_command', arguments: '{"cmd":"ls"}', call_id: 'call_x1' },
        { type: 'function_call_output', call_id: 'call_x1', output: 'README.md' },
      ],
    }, CODEX_HEADERS);
    assert.equal(second.output_text, 'done: README.md');
    const msgs = lastChat().messages;
    assert.deepEqual(msgs.filter((m: any) => m.role === 'tool').map((m: any) => [m.tool_call_id, m.content]), [['call_ns1', 'closed'], ['call_x1', 'README.md']]);
    const calls = msgs.filter((m: any) => m.tool_calls).flatMap((m: any) => m.tool_calls.map((c: any) => c.function.name));
    assert.deepEqual(calls, ['multi_agent_v1__close_agent', 'exec_command']);
  });

  it('streams with the openai client', async () => {
    const stream = await server.client().responses.create({ ...codexLike('hello'), stream: true } as any);
    const types: string[] = [];
    for await (const ev of stream as any) types.push(ev.type);
    assert.equal(types.at(-1), 'response.completed');
  });
});

describe('hosted tools that are not configured', () => {
  it('are not offered and do not fail the request', async () => {
    const r = await json({
      model: MODEL, input: 'hi',
      tools: [{ type: 'web_search' }, { type: 'code_interpreter', container: { type: 'auto' } }, { type: 'image_generation' }, { type: 'shell', environment: { type: 'container_auto' } }],
    });
    assert.equal(r.status, 'completed');
    assert.equal(lastChat().tools, undefined);
  });

  for (const [choice, named] of [
    [{ type: 'web_search_preview' }, 'web_search_preview'],
    [{ type: 'web_search' }, 'web_search'],
    [{ type: 'allowed_tools', mode: 'required', tools: [{ type: 'code_interpreter' }] }, 'code_interpreter'],
  ] as const) {
    it(`forcing ${named} with tool_choice is a 400 naming it`, async () => {
      const res = await post({ model: MODEL, input: 'hi', tools: [{ type: named }], tool_choice: choice });
      const body = await res.json();
      assert.equal(res.status, 400);
      assert.equal(body.error.param, 'tool_choice');
      assert.match(body.error.message, new RegExp(`'${named}'`));
    });
  }

  it('an unknown tool type is still a 400', async () => {
    const res = await post({ model: MODEL, input: 'hi', tools: [{ type: 'teleport' }] });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, 'unsupported_tool');
  });
});

type EventName = ResponseStreamEvent['type'];

/** Streams a request; returns its events and the completed response. */
async function streamed(body: Record<string, unknown>) {
  const evs = await readSse(await post({ ...body, stream: true }));
  const data = evs.map((e) => e.data);
  const done = data.at(-1);
  assert.equal(done.type, 'response.completed', JSON.stringify(done));
  for (const [i, e] of evs.entries()) assert.equal(e.event, e.data.type, `event ${i}`);
  return { types: data.map((d) => d.type as string), data, response: done.response };
}

/** One client tool type: the model's call comes out as `itemType`, its output goes back in. */
async function roundTrip(opts: {
  tool: Record<string, unknown>; fn: string; args: Record<string, unknown>; itemType: string;
  events: EventName[]; output: (call: any) => Record<string, unknown>; seen: string;
}) {
  const prompt = script({ calls: [{ name: opts.fn, arguments: JSON.stringify(opts.args) }], answer: 'ok' });
  const { types, response } = await streamed({ model: MODEL, input: prompt, tools: [opts.tool] });
  assert.equal(lastChat().tools[0].function.name, opts.fn);
  assert.deepEqual(types, opts.events);
  const call = response.output[0];
  assert.equal(call.type, opts.itemType);
  assert.match(call.call_id, /^call_/);

  const out = opts.output(call);
  const next = await server.client().responses.create({ model: MODEL, previous_response_id: response.id, input: [out as any], tools: [opts.tool as any] });
  assert.equal(next.status, 'completed');
  const msgs = lastChat().messages;
  const asked = msgs.find((m: any) => m.tool_calls)?.tool_calls[0];
  assert.equal(asked.function.name, opts.fn);
  assert.equal(asked.id, call.call_id);
  const result = msgs.find((m: any) => m.role === 'tool');
  assert.equal(result.tool_call_id, call.call_id);
  assert.equal(result.content, opts.seen);
  assert.equal(next.output_text, `ok: ${opts.seen}`);
  // Stored and listed like any input item.
  const items = await server.client().responses.inputItems.list(next.id);
  assert.equal(items.data[0]!.type, out.type);
  return call;
}

const PLAIN: EventName[] = ['response.created', 'response.in_progress', 'response.output_item.added', 'response.output_item.done', 'response.completed'];

describe('client tool types', () => {
  it('custom (text): custom_tool_call with input deltas, custom_tool_call_output back', async () => {
    const call = await roundTrip({
      tool: { type: 'custom', name: 'code_exec', description: 'Runs Python.' },
      fn: 'code_exec', args: { input: 'print(1 + 1)' }, itemType: 'custom_tool_call',
      events: ['response.created', 'response.in_progress', 'response.output_item.added', 'response.custom_tool_call_input.delta',
        'response.custom_tool_call_input.done', 'response.output_item.done', 'response.completed'],
      output: (c) => ({ type: 'custom_tool_call_output', call_id: c.call_id, output: '2' }), seen: '2',
    });
    assert.equal(call.name, 'code_exec');
    assert.equal(call.input, 'print(1 + 1)');
    assert.match(call.id, /^ctc_/);
  });

  it('custom (regex grammar): described to the upstream, and an input that does not match is never emitted', async () => {
    const tool = { type: 'custom', name: 'set_date', format: { type: 'grammar', syntax: 'regex', definition: '\\d{4}-\\d{2}-\\d{2}' } };
    const ok = await json({ model: MODEL, input: script({ calls: [{ name: 'set_date', arguments: '{"input":"2026-12-03"}' }] }), tools: [tool] });
    assert.equal(ok.output[0].input, '2026-12-03');
    assert.match(lastChat().tools[0].function.description, /regex grammar:\n\\d\{4\}/);
    const bad = await json({ model: MODEL, input: script({ calls: [{ name: 'set_date', arguments: '{"input":"tomorrow"}' }] }), tools: [tool] });
    assert.equal(bad.status, 'failed');
    assert.equal(bad.error.code, 'invalid_tool_call');
  });

  it('custom: an invalid regex grammar is a 400', async () => {
    const res = await post({ model: MODEL, input: 'x', tools: [{ type: 'custom', name: 'c', format: { type: 'grammar', syntax: 'regex', definition: '(' } }] });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.param, 'tools[0].format.definition');
  });

  it('local_shell: local_shell_call, local_shell_call_output back', async () => {
    const call = await roundTrip({
      tool: { type: 'local_shell' }, fn: 'local_shell', args: { command: ['ls', '-l'], working_directory: '/tmp' }, itemType: 'local_shell_call',
      events: PLAIN, output: (c) => ({ type: 'local_shell_call_output', id: c.call_id, output: 'total 0' }), seen: 'total 0',
    });
    assert.deepEqual(call.action, { type: 'exec', command: ['ls', '-l'], env: {}, working_directory: '/tmp' });
  });

  it('shell (local environment): shell_call, shell_call_output back', async () => {
    const call = await roundTrip({
      tool: { type: 'shell', environment: { type: 'local' } }, fn: 'shell', args: { commands: ['echo hi'] }, itemType: 'shell_call', events: PLAIN,
      output: (c) => ({ type: 'shell_call_output', call_id: c.call_id, output: [{ stdout: 'hi\n', stderr: '', outcome: { type: 'exit', exit_code: 0 } }] }),
      seen: 'exit code 0\nstdout:\nhi\n\nstderr:\n',
    });
    assert.deepEqual(call.action, { commands: ['echo hi'], timeout_ms: null, max_output_length: null });
  });

  it('apply_patch: apply_patch_call, apply_patch_call_output back', async () => {
    const call = await roundTrip({
      tool: { type: 'apply_patch' }, fn: 'apply_patch', args: { type: 'create_file', path: 'a.txt', diff: '+hello' }, itemType: 'apply_patch_call', events: PLAIN,
      output: (c) => ({ type: 'apply_patch_call_output', call_id: c.call_id, status: 'completed', output: 'created a.txt' }), seen: 'applied: created a.txt',
    });
    assert.deepEqual(call.operation, { type: 'create_file', path: 'a.txt', diff: '+hello' });
  });

  it('computer_use_preview: computer_call, computer_call_output back', async () => {
    const call = await roundTrip({
      tool: { type: 'computer_use_preview', display_width: 1024, display_height: 768, environment: 'browser' }, fn: 'computer',
      args: { type: 'click', x: 10, y: 20, button: 'left' }, itemType: 'computer_call', events: PLAIN,
      output: (c) => ({ type: 'computer_call_output', call_id: c.call_id, output: { type: 'computer_screenshot', image_url: 'data:image/png;base64,AAAA' } }),
      seen: 'screenshot: data:image/png;base64,AAAA',
    });
    assert.deepEqual(call.action, { type: 'click', x: 10, y: 20, button: 'left' });
    assert.deepEqual(call.pending_safety_checks, []);
  });

  it('two tools offered under one function name are a 400', async () => {
    const res = await post({ model: MODEL, input: 'x', tools: [{ type: 'apply_patch' }, { type: 'function', name: 'apply_patch' }] });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error.message, /'apply_patch'/);
  });

  it('tool_choice forces a client tool type on the upstream', async () => {
    await json({ model: MODEL, input: 'x', tools: [{ type: 'apply_patch' }, { type: 'custom', name: 'c1' }], tool_choice: { type: 'apply_patch' } });
    assert.deepEqual(lastChat().tool_choice, { type: 'function', function: { name: 'apply_patch' } });
    await json({ model: MODEL, input: 'x', tools: [{ type: 'apply_patch' }, { type: 'custom', name: 'c1' }], tool_choice: { type: 'custom', name: 'c1' } });
    assert.deepEqual(lastChat().tool_choice, { type: 'function', function: { name: 'c1' } });
  });
});

describe('custom tools on the embedded engine', () => {
  for (const [regex, input] of [
    // Matched by code points (`u`), as the grammar and the server's own check count them: the generated
    // fallback model (no ../shared) emits characters outside the BMP.
    ['\\d{4}-\\d{2}-\\d{2}', /^\d{4}-\d{2}-\d{2}$/u],
    ['^say "(hi|yo)"\\\\[a-c]+$', /^say "(hi|yo)"\\[a-c]+$/u],
    ['[^\\d"]{2,8}x?', /^[^\d"]{2,8}x?$/u],
  ] as const) {
    it(`a forced call is generated under the regex grammar ${regex}`, async () => {
      const tool = { type: 'custom', name: 'fill', format: { type: 'grammar', syntax: 'regex', definition: regex } };
      const { types, response } = await streamed({ model: 'auto', input: 'Go', tools: [tool], tool_choice: { type: 'custom', name: 'fill' }, max_output_tokens: 48 });
      assert.ok(types.includes('response.custom_tool_call_input.done'));
      const call = response.output.find((i: any) => i.type === 'custom_tool_call');
      assert.equal(call.name, 'fill');
      assert.match(call.input, input);
    });
  }

  it('a forced call is generated under a lark grammar', async () => {
    // Bounded, so that a tiny model cannot wander (the grammar ends the input within the token budget).
    const definition = [
      '// sums of small numbers',
      'start: expr',
      'expr: term (SP ADD SP term)~0..2 -> add',
      'term: NUM',
      '    | "(" NUM ")"',
      'NUM: DIGIT ~ 1..3',
      'SP: " "',
      'ADD: "+" | "-"',
      '%import common.DIGIT',
      '%ignore WS',
    ].join('\n');
    const tool = { type: 'custom', name: 'math', format: { type: 'grammar', syntax: 'lark', definition } };
    const { response } = await streamed({ model: 'auto', input: 'Go', tools: [tool], tool_choice: { type: 'custom', name: 'math' }, max_output_tokens: 64 });
    const call = response.output.find((i: any) => i.type === 'custom_tool_call');
    assert.match(call.input, /^(\d{1,3}|\(\d{1,3}\))( [+-] (\d{1,3}|\(\d{1,3}\))){0,2}$/);
  });

  it('tool_choice required picks one of two custom tools, then its grammar holds', async () => {
    const tools = [
      { type: 'custom', name: 'yes_no', format: { type: 'grammar', syntax: 'regex', definition: '(yes|no)' } },
      { type: 'custom', name: 'count', format: { type: 'grammar', syntax: 'regex', definition: '[0-9]{1,3}' } },
    ];
    const { response } = await streamed({ model: 'auto', input: 'Go', tools, tool_choice: 'required', max_output_tokens: 48 });
    const call = response.output.find((i: any) => i.type === 'custom_tool_call');
    assert.match(call.input, call.name === 'yes_no' ? /^(yes|no)$/ : /^[0-9]{1,3}$/);
  });
});
