// Mixed-traffic soak (issue 8): blocking, streaming, background, cancels, resumes and clients that leave
// mid-stream, at the machine's limit for SOAK_SECONDS (default 300). Not part of `npm test`; run with
// `npm run soak`. Exits non-zero if any invariant breaks: a 5xx, a sequence gap, a stored response that is
// missing or not terminal at the end, or memory still growing after warm-up.
import { readFileSync } from 'node:fs';
import { startMockUpstream } from '../support/mock-upstream.js';
import { readSse, startServer, type TestServer } from '../support/server.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 32);

const stats = { requests: 0, fiveXX: 0, gaps: 0, streams: 0, cancels: 0, resumes: 0, disconnects: 0, errors: 0 };
const created = new Set<string>();

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

function checkGapFree(events: Array<{ data: any }>, from: number) {
  events.forEach((e, i) => { if (e.data.sequence_number !== from + i) stats.gaps++; });
}

async function one(s: TestServer, n: number): Promise<void> {
  const kind = n % 6;
  const model = n % 3 === 0 ? 'auto' : 'openai:mock-slow';
  const post = (body: object, signal?: AbortSignal) => s.fetch('/responses', { method: 'POST', body: JSON.stringify({ model, input: `n${n}`, max_output_tokens: 40, ...body }), signal });
  const track = (res: Response) => {
    stats.requests++;
    if (res.status >= 500) stats.fiveXX++;
    return res;
  };
  if (kind === 0) {
    const res = track(await post({}));
    const r = await res.json();
    if (r.id) created.add(r.id);
  } else if (kind === 1) {
    const res = track(await post({ stream: true }));
    const ev = await readSse(res);
    stats.streams++;
    checkGapFree(ev, 0);
    if (ev[0]?.data.response?.id) created.add(ev[0].data.response.id);
  } else if (kind === 2) {
    const r = await track(await post({ background: true })).json();
    created.add(r.id);
    const first = await readSse(track(await s.fetch(`/responses/${r.id}?stream=true&starting_after=-1`)), (e) => e.data.sequence_number < 3);
    const last = first[first.length - 1]?.data.sequence_number ?? -1;
    const rest = await readSse(track(await s.fetch(`/responses/${r.id}?stream=true&starting_after=${last}`)));
    stats.resumes++;
    checkGapFree([...first, ...rest], 0);
  } else if (kind === 3) {
    const r = await track(await post({ background: true })).json();
    created.add(r.id);
    await new Promise((x) => setTimeout(x, 100));
    const c = track(await s.fetch(`/responses/${r.id}/cancel`, { method: 'POST' }));
    if (c.status === 200) stats.cancels++;
    await c.text();
  } else if (kind === 4) {
    const ctl = new AbortController();
    const res = track(await post({ stream: true }, ctl.signal));
    let id = '';
    await readSse(res, (e) => { id = e.data.response?.id ?? id; return e.data.sequence_number < 2; }).catch(() => []);
    ctl.abort();
    if (id) created.add(id);
    stats.disconnects++;
  } else {
    const res = track(await s.fetch('/responses?limit=20'));
    await res.text();
  }
}

async function main() {
  const upstream = await startMockUpstream();
  const s = await startServer({ env: { OPENAI_BASE_URL: upstream.url, LOG_LEVEL: 'info', BACKGROUND_CONCURRENCY: '16' } });
  const pid = s.proc.pid!;
  const samples: Array<[number, number]> = [];
  const t0 = Date.now();
  const end = t0 + SECONDS * 1000;
  const sampler = setInterval(() => samples.push([(Date.now() - t0) / 1000, rssMb(pid)]), 1000);
  let n = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (Date.now() < end) {
      try {
        await one(s, n++);
      } catch (err) {
        stats.errors++;
        if (stats.errors < 5) console.error(err);
      }
    }
  }));
  clearInterval(sampler);
  // Everything stored must be retrievable and terminal once the work drains.
  await new Promise((x) => setTimeout(x, 3000));
  let missing = 0;
  let unfinished = 0;
  for (const id of created) {
    const res = await s.fetch(`/responses/${id}`);
    if (res.status !== 200) { missing++; await res.text(); continue; }
    const r = await res.json();
    if (!['completed', 'incomplete', 'cancelled', 'failed'].includes(r.status)) unfinished++;
  }
  const warm = samples.filter(([t]) => t > Math.min(30, SECONDS / 3));
  const firstHalf = warm.slice(0, Math.floor(warm.length / 2)).map(([, m]) => m);
  const secondHalf = warm.slice(Math.floor(warm.length / 2)).map(([, m]) => m);
  const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
  const growth = avg(secondHalf) - avg(firstHalf);
  const report = {
    seconds: SECONDS, concurrency: CONCURRENCY, ...stats, created: created.size, missing, unfinished,
    rss_mb: { start: samples[0]?.[1], peak: Math.max(...samples.map(([, m]) => m)), end: samples[samples.length - 1]?.[1], warm_growth: Number(growth.toFixed(1)) },
    req_per_s: Number((stats.requests / SECONDS).toFixed(1)),
  };
  console.log(JSON.stringify(report, null, 2));
  await s.stop();
  await upstream.close();
  const ok = stats.fiveXX === 0 && stats.gaps === 0 && missing === 0 && unfinished === 0 && growth < 50;
  console.log(ok ? 'soak: OK' : 'soak: FAILED');
  process.exit(ok ? 0 : 1);
}

await main();
