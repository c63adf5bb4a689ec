// The load-generating client, run as its own process (forked by run.ts, driven over IPC) so that it
// never shares an event loop with the systems under test. Throughput and latency come from autocannon
// (per-response times are collected from its 'response' events at sub-millisecond resolution: its
// own histogram rounds to whole milliseconds); stream measurements use node:http and count every
// SSE frame.
import http from 'node:http';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { percentile } from './lib/stats.js';
import { SseCounter } from './lib/sse-counter.js';
import WebSocket from 'ws';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (opts: Record<string, unknown>, cb: (err: Error | null, res: any) => void) => NodeJS.EventEmitter;

export interface RequestSpec {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export type Op =
  | ({ op: 'autocannon'; connections: number; duration: number; samples?: boolean } & RequestSpec)
  | ({ op: 'ttfb'; n: number; marker: string; kind: 'chat' | 'responses' } & RequestSpec)
  | ({ op: 'stream'; kind: 'chat' | 'responses'; lastData?: boolean; marker?: string } & RequestSpec)
  | ({ op: 'streams'; n: number; kind: 'chat' | 'responses' } & RequestSpec)
  | { op: 'follow'; streams: RequestSpec[] }
  | { op: 'ws'; url: string; headers: Record<string, string>; message: string; connections: number; duration: number };

/** WebSocket turns (op 'ws'): every connection sends its next `response.create` once the last one's terminal event came. */
export interface WsResult {
  turns: number;
  seconds: number;
  failures: number;
  error?: string;
}

export interface AutocannonResult {
  requests: number;
  seconds: number;
  rps: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  /** Every 2xx response time (ms), when asked (`samples: true`), to merge runs of several workers. */
  samples?: number[];
}

/** One `/responses` stream read with the arrival time of every event (op 'follow'). */
export interface FollowResult {
  status: number;
  /** Wall-clock ms (performance.timeOrigin + performance.now(), comparable across processes) of the first byte. */
  firstByteAt: number;
  /** Sequence numbers in arrival order, and the wall-clock ms at which the chunk carrying each arrived. */
  seqs: number[];
  times: number[];
  /** Sequence numbers of `response.output_text.delta` events. */
  deltaSeqs: number[];
  gaps: number;
  terminal?: string;
  error?: string;
}

export interface StreamResult {
  status: number;
  events: number;
  bytes: number;
  seconds: number;
  eventsPerSec: number;
  finished: boolean;
  gaps: number;
  firstSeq?: number;
  lastSeq?: number;
  error?: string;
  /** The last frame's data (op 'stream' with lastData). */
  lastData?: string;
  /** Seconds from the request to the first sight of the marker (op 'stream' with marker). */
  markerSeconds?: number;
}

export interface StreamsResult {
  n: number;
  completed: number;
  failed: number;
  events: number;
  expectedEventsEach: number | null;
  allEventsDelivered: boolean;
  gaps: number;
  seconds: number;
  /** Events / seconds from the moment all streams were open to the end of the last one. */
  eventsPerSec: number;
  flowSeconds: number;
  /** Time to open all streams (each has its first content). */
  openSeconds: number;
  errors: string[];
}

export interface TtfbResult {
  n: number;
  ttfbP50: number;
  ttfbP99: number;
  totalP50: number;
  totalP99: number;
  failures: number;
}

function runAutocannon(o: Extract<Op, { op: 'autocannon' }>): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    const samples: number[] = [];
    const inst = autocannon({
      url: o.url, method: o.method ?? 'POST', headers: o.headers, body: o.body,
      connections: o.connections, duration: o.duration, pipelining: 1, timeout: 20,
    }, (err, r) => {
      if (err) return reject(err);
      const sorted = Float64Array.from(samples).sort();
      const sum = samples.reduce((a, b) => a + b, 0);
      resolve({
        requests: r.requests.total, seconds: r.duration, rps: r.requests.total / r.duration,
        non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts,
        p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), mean: sum / (samples.length || 1),
        ...(o.samples ? { samples: Array.from(sorted) } : {}),
      });
    });
    inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) samples.push(ms);
    });
  });
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const fresh = new http.Agent({ keepAlive: false, maxSockets: Infinity });

function request(spec: RequestSpec, agent: http.Agent, onResponse: (res: http.IncomingMessage) => void, onError: (err: Error) => void): void {
  const u = new URL(spec.url);
  const headers: Record<string, string | number> = { ...spec.headers };
  if (spec.body !== undefined) headers['content-length'] = Buffer.byteLength(spec.body);
  const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: spec.method ?? 'POST', headers, agent }, onResponse);
  req.on('error', onError);
  req.end(spec.body);
}

/** One stream, read to the end, every frame counted. */
function oneStream(spec: RequestSpec, kind: 'chat' | 'responses', agent: http.Agent, marker?: string, onFirstByte?: () => void, keepLast = false, onMarker?: () => void): Promise<StreamResult & { markerNs?: bigint; startNs: bigint }> {
  return new Promise((resolve) => {
    const counter = new SseCounter(kind, marker, keepLast);
    const startNs = process.hrtime.bigint();
    let status = 0;
    let settled = false;
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
      resolve({
        status, events: counter.events, bytes: counter.bytes, seconds, eventsPerSec: counter.events / seconds,
        finished: counter.finished, gaps: counter.gaps, firstSeq: counter.firstSeq, lastSeq: counter.lastSeq, error,
        markerNs: counter.markerAt, startNs, ...(keepLast ? { lastData: counter.lastData } : {}),
      });
    };
    request(spec, agent, (res) => {
      status = res.statusCode ?? 0;
      let first = true;
      res.on('data', (c: Buffer) => {
        if (first) {
          first = false;
          onFirstByte?.();
        }
        counter.push(c);
        if (onMarker && counter.markerAt !== undefined) {
          onMarker();
          onMarker = undefined;
        }
      });
      res.on('end', () => done(status >= 300 ? `HTTP ${status}` : undefined));
      res.on('error', (e) => done(e.message));
      res.on('close', () => done(counter.finished ? undefined : 'closed before the end'));
    }, (e) => done(e.message));
  });
}

async function ttfb(o: Extract<Op, { op: 'ttfb' }>): Promise<TtfbResult> {
  const first: number[] = [];
  const total: number[] = [];
  let failures = 0;
  for (let i = 0; i < o.n; i++) {
    const r = await oneStream(o, o.kind, keepAlive, o.marker);
    if (r.error || r.markerNs === undefined || !r.finished) {
      failures++;
      continue;
    }
    first.push(Number(r.markerNs - r.startNs) / 1e6);
    total.push(r.seconds * 1e3);
  }
  first.sort((a, b) => a - b);
  total.sort((a, b) => a - b);
  return { n: first.length, failures, ttfbP50: percentile(first, 50), ttfbP99: percentile(first, 99), totalP50: percentile(total, 50), totalP99: percentile(total, 99) };
}

/**
 * `n` streams held open together (the upstream releases them once all are open, see scenarios.ts).
 * At most `opening` connection attempts are in flight at a time, so none is dropped by a full listen
 * backlog. 'all-open' is reported (for the memory sample) once every stream has its first content.
 */
async function streams(o: Extract<Op, { op: 'streams' }>, notify: (event: string) => void): Promise<StreamsResult> {
  const start = process.hrtime.bigint();
  const marker = o.kind === 'chat' ? '"content":"lorem' : 'response.output_text.delta';
  const opening = 100;
  let open = 0;
  let openNs: bigint | undefined;
  let inFlight = 0;
  let wakeOpener: (() => void) | null = null;
  const pending: Promise<StreamResult>[] = [];
  const onOpen = () => {
    inFlight--;
    wakeOpener?.();
    if (++open === o.n) {
      openNs = process.hrtime.bigint();
      notify('all-open');
    }
  };
  for (let i = 0; i < o.n; i++) {
    while (inFlight >= opening) await new Promise<void>((r) => { wakeOpener = r; });
    wakeOpener = null;
    inFlight++;
    let opened = false;
    const once = () => { if (!opened) { opened = true; onOpen(); } };
    pending.push(oneStream(o, o.kind, fresh, marker, undefined, false, once).then((r) => { once(); return r; }));
  }
  const results = await Promise.all(pending);
  const end = process.hrtime.bigint();
  const seconds = Number(end - start) / 1e9;
  const flowSeconds = openNs === undefined ? NaN : Number(end - openNs) / 1e9;
  const ok = results.filter((r) => !r.error && r.finished);
  const counts = new Set(ok.map((r) => r.events));
  const events = results.reduce((a, r) => a + r.events, 0);
  const gaps = results.reduce((a, r) => a + r.gaps, 0);
  const errors = [...new Set(results.filter((r) => r.error).map((r) => r.error!))].slice(0, 5);
  return {
    n: o.n, completed: ok.length, failed: o.n - ok.length, events,
    expectedEventsEach: counts.size === 1 ? [...counts][0] : null,
    allEventsDelivered: ok.length === o.n && counts.size === 1 && gaps === 0,
    gaps, seconds, eventsPerSec: events / flowSeconds, flowSeconds,
    openSeconds: openNs === undefined ? NaN : Number(openNs - start) / 1e9, errors,
  };
}

/** Wall-clock ms with sub-ms resolution, on the same scale in every process of the machine. */
const wallMs = () => performance.timeOrigin + performance.now();

/** One `/responses` SSE stream, every event's sequence number timed at arrival. */
function followOne(spec: RequestSpec): Promise<FollowResult> {
  return new Promise((resolve) => {
    const r: FollowResult = { status: 0, firstByteAt: NaN, seqs: [], times: [], deltaSeqs: [], gaps: 0 };
    const decoder = new StringDecoder('utf8');
    let buf = '';
    let settled = false;
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      if (error && !r.terminal) r.error = error;
      resolve(r);
    };
    request(spec, keepAlive, (res) => {
      r.status = res.statusCode ?? 0;
      res.on('data', (c: Buffer) => {
        const at = wallMs();
        if (Number.isNaN(r.firstByteAt)) r.firstByteAt = at;
        const b = buf + decoder.write(c);
        let start = 0;
        let i: number;
        while ((i = b.indexOf('\n\n', start)) >= 0) {
          if (b.startsWith('id: ', start)) {
            const nl = b.indexOf('\n', start);
            const seq = Number(b.slice(start + 4, nl));
            const last = r.seqs[r.seqs.length - 1];
            if (last !== undefined && seq !== last + 1) r.gaps++;
            r.seqs.push(seq);
            r.times.push(at);
            if (b.startsWith('event: response.output_text.delta\n', nl + 1)) r.deltaSeqs.push(seq);
            else if (/^event: response\.(completed|failed|incomplete|cancelled)\n/.test(b.slice(nl + 1, nl + 40))) r.terminal = b.slice(nl + 8, b.indexOf('\n', nl + 1));
          }
          start = i + 2;
        }
        buf = b.slice(start);
      });
      res.on('end', () => done(r.status >= 300 ? `HTTP ${r.status}` : r.terminal ? undefined : 'ended without a terminal event'));
      res.on('error', (e) => done(e.message));
      res.on('close', () => done(r.terminal ? undefined : 'closed before the end'));
    }, (e) => done(e.message));
  });
}

const TERMINAL = /^\{"type":"response\.(completed|failed|incomplete|cancelled)"/;

/** `connections` sockets, each running turns back to back for `duration` seconds. */
async function wsTurns(o: Extract<Op, { op: 'ws' }>): Promise<WsResult> {
  const start = process.hrtime.bigint();
  const until = Date.now() + o.duration * 1000;
  let turns = 0;
  let failures = 0;
  const one = () => new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(o.url, { headers: o.headers });
    ws.on('error', reject);
    ws.on('open', () => ws.send(o.message));
    ws.on('message', (d) => {
      const text = d.toString();
      if (text.startsWith('{"type":"error"')) failures++;
      else if (!TERMINAL.test(text)) return;
      else if (!text.startsWith('{"type":"response.completed"')) failures++;
      turns++;
      if (Date.now() < until) ws.send(o.message);
      else ws.close();
    });
    ws.on('close', () => resolve());
  });
  await Promise.all(Array.from({ length: o.connections }, one));
  return { turns, failures, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

process.on('message', async (msg: { id: number } & Op) => {
  const reply = (m: object) => process.send!({ id: msg.id, ...m });
  try {
    let result: unknown;
    switch (msg.op) {
      case 'autocannon': result = await runAutocannon(msg); break;
      case 'ttfb': result = await ttfb(msg); break;
      case 'stream': {
        const { markerNs, startNs, ...r } = await oneStream(msg, msg.kind, keepAlive, msg.marker, undefined, msg.lastData);
        result = markerNs === undefined ? r : { ...r, markerSeconds: Number(markerNs - startNs) / 1e9 };
        break;
      }
      case 'streams': result = await streams(msg, (event) => reply({ event })); break;
      case 'follow': result = await Promise.all(msg.streams.map(followOne)); break;
      case 'ws': result = await wsTurns(msg); break;
    }
    reply({ result });
  } catch (err) {
    reply({ error: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
});
process.on('disconnect', () => process.exit(0));
