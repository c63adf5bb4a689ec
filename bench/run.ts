// `npm run bench`: one run, same machine, same upstream, every system in its own process.
//   upstream   dist/bench/upstream.js          fixed replies (see lib/scenarios.ts)
//   respd      node dist/src/main.js           OPENAI_BASE_URL → the upstream, its own DATA_DIR
//              (the http section's store:true load has a second respd process of its own: lib/context.ts)
//   peer       Portkey gateway (bench/peer)    --headless on 127.0.0.1, x-portkey-custom-host → upstream
//   load       dist/bench/load-worker.js       autocannon + SSE-counting clients
//   llama      dist/bench/llama-direct.js      node-llama-cpp on the same GGUF, same threads
//   scale      dist/bench/scale.js             1 vs 2 respd instances on PostgreSQL + Redis, cross-instance streams
//   retrieval  sections/retrieval.ts           vector store search quality on Cranfield (respd on SQLite, then PostgreSQL)
// Sections are in sections/, what they share in lib/context.ts.
// Every figure is taken per round and compared with its baseline from the same round; rounds rotate
// the order of the systems so drift hits all alike. Results: bench/results/latest.{json,md}.
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePortkey, ROOT, startPortkey, startRespd, startUpstream, Worker, type Proc } from './lib/procs.js';
import { renderMarkdown } from './lib/report.js';
import { scaleSection } from './scale.js';
import { held, LONG, modelName, REPLAY, TINY } from './lib/scenarios.js';
import { round } from './lib/stats.js';
import { CONFIG, want, log, chatBody, JSON_HEADERS, type Stack } from './lib/context.js';
import { httpSection } from './sections/http.js';
import { ttfbSection, sseSection, streamsSection } from './sections/streams.js';
import { replaySection } from './sections/replay.js';
import { chainSection } from './sections/chain.js';
import { streamCpuSection } from './sections/stream-cpu.js';
import { llamaSection } from './sections/llama.js';
import { profileSection } from './sections/profile.js';
import { retrievalSection } from './sections/retrieval.js';

// ---------------------------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const cpus = os.cpus();
  const results: any = {
    date: new Date().toISOString(),
    machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memGiB: round(os.totalmem() / 2 ** 30, 1), platform: `${os.platform()} ${os.release()}`, loadavgAtStart: os.loadavg().map((x) => round(x, 2)) },
    node: process.version,
    config: CONFIG,
    shapes: { tiny: modelName(TINY), long: modelName(LONG), held: modelName(held(CONFIG.streams)), replay: modelName(REPLAY) },
    peer: {} as Record<string, unknown>,
    figures: {} as Record<string, unknown>,
    raw: {} as Record<string, unknown>,
    errors: {} as Record<string, string>,
  };
  const peer = ensurePortkey();
  results.peer = peer.ok ? { name: '@portkey-ai/gateway', version: peer.version, available: true } : { name: '@portkey-ai/gateway', available: false, reason: peer.reason };

  log('starting upstream, respd, peer, load worker');
  const children: Array<{ stop(): unknown }> = [];
  const stopAll = async () => {
    await Promise.all(children.map((p) => Promise.resolve(p.stop()).catch(() => {})));
  };
  let stack: Stack;
  let load: Worker;
  try {
    const upstream = await startUpstream();
    children.push(upstream);
    const respd = await startRespd(upstream.url);
    children.push(respd);
    // (Not with an A/B build, whose store:true load shares its process: both builds then place it alike.)
    const respdStore = want('http') && !CONFIG.abMain ? await startRespd(upstream.url) : undefined;
    if (respdStore) children.push(respdStore);
    let portkey: (Proc & { url: string }) | undefined;
    if (peer.ok) {
      try {
        portkey = await startPortkey();
        children.push(portkey);
      } catch (err) {
        results.peer = { ...results.peer, available: false, reason: `could not start: ${(err as Error).message.split('\n')[0]}` };
      }
    }
    if (portkey) {
      // One real call through the peer, so a broken peer is recorded, not benchmarked.
      const probe = await fetch(`${portkey.url}/v1/chat/completions`, {
        method: 'POST', body: chatBody(modelName(TINY), true),
        headers: { ...JSON_HEADERS, authorization: 'Bearer bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstream.url },
      }).then(async (r) => ({ ok: r.ok, text: await r.text() }), (e: Error) => ({ ok: false, text: e.message }));
      if (!probe.ok || !probe.text.includes('[DONE]')) {
        results.peer = { ...results.peer, available: false, reason: `probe request failed: ${probe.text.slice(0, 200)}` };
        await portkey.stop();
        portkey = undefined;
      }
    }
    if (!portkey) log(`peer unavailable: ${String((results.peer as any).reason)}`);
    load = new Worker('load-worker.js');
    children.push(load);
    const ab = CONFIG.abMain ? await startRespd(upstream.url, { main: CONFIG.abMain }) : undefined;
    if (ab) children.push(ab);
    stack = { upstream, respd, respdStore, portkey, ab };
  } catch (err) {
    await stopAll();
    throw err;
  }

  const sections: Array<[string, (s: Stack, l: Worker, r: any) => Promise<void>]> = [
    ['http', httpSection], ['ttfb', ttfbSection], ['sse', sseSection], ['replay', replaySection],
    ['llama', llamaSection], ['streams', streamsSection], ['scale', scaleSection], ['chain', chainSection],
    ['streamcpu', streamCpuSection],
    ['retrieval', retrievalSection],
  ];
  if (CONFIG.profile) sections.push(['profile', profileSection]);
  try {
    for (const [name, fn] of sections) {
      if (name !== 'profile' && !want(name)) continue;
      const t0 = Date.now();
      log(`== ${name}`);
      try {
        await fn(stack, load, results);
      } catch (err) {
        results.errors[name] = (err as Error).stack ?? String(err);
        log(`section ${name} failed: ${(err as Error).message}`);
      }
      log(`== ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    await stopAll();
  }
  results.machine.loadavgAtEnd = os.loadavg().map((x) => round(x, 2));
  results.seconds = Math.round((Date.now() - started) / 1000);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${CONFIG.out}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, `${CONFIG.out}.md`), renderMarkdown(results));
  log(`wrote bench/results/${CONFIG.out}.json and .md in ${results.seconds} s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
