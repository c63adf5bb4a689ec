// Optional (BENCH_PROFILE=1): respd under --cpu-prof for each workload (BENCH_PROFILE_ONLY picks some).
import os from 'node:os';
import { mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { summarizeProfile } from '../lib/cpuprofile.js';
import { startRespd, Worker } from '../lib/procs.js';
import { LONG, modelName, TEN, TINY } from '../lib/scenarios.js';
import { CONFIG, env, log, RESPD_HEADERS, type Stack, targets, autocannon } from '../lib/context.js';
import { llamaBody } from './llama.js';

/** Optional (BENCH_PROFILE=1): respd under --cpu-prof for each workload; summaries of self time. */
export async function profileSection(s: Stack, load: Worker, results: any) {
  const dir = env.BENCH_PROFILE_DIR ?? mkdtempSync(join(os.tmpdir(), 'respd-prof-'));
  mkdirSync(dir, { recursive: true });
  const workloads: Array<{ name: string; run: (st: Stack) => Promise<unknown> }> = [
    { name: 'chat-c16', run: (st) => autocannon(load, targets(st, modelName(TINY), false)['respd-chat'], 16, CONFIG.duration * 2) },
    { name: 'responses-store-c16', run: (st) => autocannon(load, targets(st, modelName(TINY), false)['respd-responses-store'], 16, CONFIG.duration * 2) },
    { name: 'responses-nostore-c16', run: (st) => autocannon(load, targets(st, modelName(TINY), false)['respd-responses-nostore'], 16, CONFIG.duration * 2) },
    // The pair behind issue 17's streamed ÷ blocking ratio (section streamcpu): the same reply, store off.
    { name: 'ten-nostore-blocking-c4', run: (st) => autocannon(load, targets(st, modelName(TEN), false)['respd-responses-nostore'], 4, CONFIG.duration * 2) },
    { name: 'ten-nostore-stream-c4', run: (st) => autocannon(load, targets(st, modelName(TEN), true)['respd-responses-nostore'], 4, CONFIG.duration * 2) },
    { name: 'responses-stream-long', run: async (st) => { const t = targets(st, modelName(LONG), true)['respd-responses-store']; for (let i = 0; i < 20; i++) await load.call({ op: 'stream', url: t.url, headers: t.headers, body: t.body, kind: t.kind }); } },
    { name: 'llama-stream', run: async (st) => {
      const body = llamaBody();
      for (let i = 0; i < 40; i++) await load.call({ op: 'stream', url: `${st.respd.base}/responses`, headers: RESPD_HEADERS, body, kind: 'responses' });
    } },
  ];
  results.profiles = {};
  for (const w of workloads.filter((x) => !env.BENCH_PROFILE_ONLY || env.BENCH_PROFILE_ONLY.split(",").includes(x.name))) {
    const sub = join(dir, w.name);
    mkdirSync(sub, { recursive: true });
    const respd = await startRespd(s.upstream.url, { cpuProfDir: sub });
    try {
      const r = await w.run({ ...s, respd }) as { requests?: number } | undefined;
      if (r?.requests) log(`profile ${w.name}: ${r.requests} requests`);
    } finally {
      await respd.stop();
    }
    // The largest profile is respd's main thread (node-llama-cpp may start a short-lived helper process).
    const file = readdirSync(sub).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(sub, f))
      .sort((a, b) => statSync(b).size - statSync(a).size)[0];
    if (!file) continue;
    results.profiles[w.name] = { file, ...summarizeProfile(file, 15) };
    log(`profile ${w.name}: ${file}`);
    for (const f of results.profiles[w.name].functions.slice(0, 8)) log(`   ${String(f.selfPct).padStart(5)} %  ${f.name}`);
  }
}
