// Tables for the three pieces every way of reading a response goes through: the projection (event →
// Response), the live log (what its mode lets readers see, and when it has ended) and the stream
// reader (stored lines, then live ones, without a gap). In-process: no server, a real SQLite store.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalHub } from '../src/bus/local.js';
import { buildInitialResponse } from '../src/responses/build-response.js';
import { LiveLog, type LogMode } from '../src/responses/live-log.js';
import { apply } from '../src/responses/projection.js';
import { readResponseLines } from '../src/responses/stream-reader.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { Cancel } from '../src/util/cancel.js';
import type { ResponseEvent } from '../src/wire/events.js';
import type { ResponseObject } from '../src/wire/types.js';

const initial = (id = 'resp_t'): ResponseObject => buildInitialResponse({ model: 'm', input: 'hi' } as never, id, 1, null);
const msg = { id: 'msg_1', type: 'message', status: 'in_progress', role: 'assistant', content: [] };
const part = { type: 'output_text' as const, text: '', annotations: [] };
const fc = { id: 'fc_1', type: 'function_call', status: 'in_progress', call_id: 'c1', name: 'f', arguments: '' };

describe('projection: each event folds into the Response', () => {
  const cases: Array<[string, ResponseEvent[], (r: ResponseObject) => unknown, unknown]> = [
    ['a lifecycle event replaces the whole state', [{ type: 'response.in_progress', response: { ...initial(), status: 'in_progress' } }], (r) => r.status, 'in_progress'],
    ['output_item.added places the item at its index', [{ type: 'response.output_item.added', output_index: 0, item: msg }], (r) => r.output[0].id, 'msg_1'],
    ['text deltas append to the part and to output_text', [
      { type: 'response.output_item.added', output_index: 0, item: { ...msg, content: [] } },
      { type: 'response.content_part.added', item_id: 'msg_1', output_index: 0, content_index: 0, part: { ...part } },
      { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hel', logprobs: [] },
      { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'lo', logprobs: [] },
    ], (r) => [r.output[0].content[0].text, r.output_text], ['Hello', 'Hello']],
    ['argument deltas append to the call item', [
      { type: 'response.output_item.added', output_index: 0, item: { ...fc } },
      { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 0, delta: '{"a"' },
      { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 0, delta: ':1}' },
    ], (r) => r.output[0].arguments, '{"a":1}'],
    ['output_item.done replaces the item and recomputes output_text', [
      { type: 'response.output_item.added', output_index: 0, item: { ...msg, content: [] } },
      { type: 'response.output_item.done', output_index: 0, item: { ...msg, status: 'completed', content: [{ ...part, text: 'Hi' }] } },
    ], (r) => [r.output[0].status, r.output_text], ['completed', 'Hi']],
    ['a progress event changes nothing', [{ type: 'response.mcp_call.in_progress', item_id: 'x', output_index: 0 }], (r) => r.output.length, 0],
  ];
  for (const [name, events, read, expected] of cases) {
    test(name, () => {
      let r = initial();
      for (const ev of events) r = apply(r, structuredClone(ev));
      assert.deepEqual(read(r), expected);
    });
  }
});

const modes: Record<string, LogMode> = {
  'stored stream, one instance': { persist: true, blocking: false, commitGated: false },
  'stored stream, scale-out': { persist: true, blocking: false, commitGated: true },
  'blocking store:false': { persist: false, blocking: true, commitGated: false },
  'streamed store:false': { persist: false, blocking: false, commitGated: true },
};

describe('live log: what each mode lets a reader see', () => {
  // [mode, lines serialised, reader sees a line before its commit, durable at the end without a commit]
  const table: Array<[string, boolean, boolean, boolean]> = [
    ['stored stream, one instance', true, true, false],
    ['stored stream, scale-out', true, false, false],
    ['blocking store:false', false, true, true],
    ['streamed store:false', true, true, true],
  ];
  for (const [name, serialised, seesUncommitted, durableAtOnce] of table) {
    test(name, () => {
      let dirty = 0;
      const log = new LiveLog('resp_t', initial(), 0, modes[name], () => dirty++);
      const seen: number[] = [];
      let ended = false;
      log.subscribe(-1, (seq) => seen.push(seq), () => (ended = true));
      log.append({ type: 'response.created', response: log.state });
      assert.equal(log.lines[0] !== '', serialised, 'serialised');
      assert.equal(seen.length === 1, seesUncommitted, 'seen before commit');
      assert.equal(log.terminal, false);
      log.append({ type: 'response.completed', response: { ...log.state, status: 'completed' } });
      assert.equal(log.terminal, true, 'terminal follows the status');
      assert.equal(log.isDurable, durableAtOnce, 'durable without a commit');
      assert.equal(dirty > 0, modes[name].persist, 'handed to the flusher');
      log.committed(2, { status: 'completed' });
      assert.deepEqual(seen, [0, 1]);
      assert.equal(ended, true);
      assert.throws(() => log.append({ type: 'response.completed', response: log.state }), /already ended/);
    });
  }

  test('a refused commit ends gated readers at the last committed line', () => {
    const log = new LiveLog('resp_t', initial(), 0, modes['stored stream, scale-out'], () => {});
    const seen: number[] = [];
    let ended = false;
    log.subscribe(-1, (seq) => seen.push(seq), () => (ended = true));
    log.append({ type: 'response.created', response: log.state });
    log.committed(1, { status: 'in_progress' });
    log.append({ type: 'response.in_progress', response: log.state });
    log.committed(2, { status: 'in_progress', rejected: true });
    assert.deepEqual(seen, [0]);
    assert.equal(ended, true);
  });
});

describe('stream reader: stored lines, then live ones, from any sequence number', () => {
  test('a response resumed after a restart is read from the store up to its live window, gap-free', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'respd-units-'));
    const store = new SqliteStore(join(dir, 'respd.db'));
    await store.init();
    try {
      const r = { ...initial('resp_units'), status: 'in_progress' as const };
      const line = (seq: number, type: string) => `${type} {"type":"${type}","sequence_number":${seq}}`;
      await store.createResponse({
        id: r.id, tenant: 't', endUser: '', createdAt: 1, status: 'in_progress', background: true, previousResponseId: null,
        conversationId: null, lastSeq: 2, snapshot: JSON.stringify(r), request: '{}', metadata: null,
      }, [], [line(0, 'response.created'), line(1, 'response.queued'), line(2, 'response.in_progress')]);
      const hub = new LocalHub<LiveLog>();
      const live = new LiveLog(r.id, r, 3, modes['stored stream, one instance'], () => {});
      hub.add(live);
      for (const [after, expected] of [[-1, [0, 1, 2, 3, 4]], [1, [2, 3, 4]], [3, [4]]] as const) {
        const got: number[] = [];
        const reading = (async () => {
          for await (const b of readResponseLines({ store, hub }, r.id, after, new Cancel())) for (const [seq] of b) got.push(seq);
        })();
        if (live.nextSeq === 3) {
          live.append({ type: 'response.output_item.added', output_index: 0, item: { ...msg } });
          live.append({ type: 'response.completed', response: { ...live.state, status: 'completed' } });
        }
        await reading;
        assert.deepEqual(got, expected, `starting_after ${after}`);
      }
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
