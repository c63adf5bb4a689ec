// The embedded engine: tokens/s of POST /responses (model auto) vs node-llama-cpp called directly.
import { join } from 'node:path';
import type { StreamResult } from '../load-worker.js';
import { cpuSecondsOf, ROOT, Worker } from '../lib/procs.js';
import { round, summarize } from '../lib/stats.js';
import { CONFIG, log, rotate, RESPD_HEADERS, respBody, type Stack, ratioSummary, diffSummary } from '../lib/context.js';

/** The embedded-engine workload: a streamed story from `model: auto`, same prompt as the direct baseline. */
const LLAMA_PROMPT = 'Once upon a time';
export const llamaBody = () => respBody('auto', true, true, { input: LLAMA_PROMPT, max_output_tokens: CONFIG.maxOutputTokens, temperature: 0 });

export async function llamaSection(s: Stack, load: Worker, results: any) {
  const models = await (await fetch(`${s.respd.base}/models`, { headers: RESPD_HEADERS })).json() as { data: Array<{ id: string }> };
  const local = models.data.find((m) => m.id.startsWith('local:'));
  if (!local) throw new Error('respd serves no embedded (local:) model');
  const modelPath = join(ROOT, 'models', `${local.id.slice('local:'.length)}.gguf`);
  const direct = new Worker('llama-direct.js');
  try {
    const loaded = await direct.call<{ contextSize: number }>({ op: 'load', modelPath, threads: 1 });
    const prompt = LLAMA_PROMPT;
    const body = llamaBody();
    const respdOnce = async () => {
      const r = await load.call<StreamResult>({ op: 'stream', url: `${s.respd.base}/responses`, headers: RESPD_HEADERS, body, kind: 'responses', lastData: true, marker: 'response.output_text.delta' });
      if (!r.lastData) throw new Error(`respd stream ended without a terminal event (${r.error ?? 'no error'})`);
      const usage = JSON.parse(r.lastData).response.usage as { input_tokens: number; output_tokens: number };
      return { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens, seconds: r.seconds, firstTokenSeconds: r.markerSeconds ?? NaN };
    };
    // Warm both with a few requests: respd runs far more JS per request than the direct loop, and its
    // JIT compilation would otherwise be charged to round 1 (seen: round 1 ~5 % below the others).
    for (let i = 0; i < 5; i++) await respdOnce();
    await direct.call({ op: 'run', prompt, maxTokens: CONFIG.maxOutputTokens, temperature: 0, n: 5 });
    type Run = { inputTokens: number; outputTokens: number; seconds: number; firstTokenSeconds: number };
    const raw: Record<string, Array<{ tokens: number; seconds: number; cpuSeconds: number; inputTokens: number; perRequest: number[]; firstTokenMs: number; afterFirstTokensPerSec: number }>> = { respd: [], direct: [] };
    const pids: Record<string, number> = { respd: s.respd.pid, direct: direct.proc.pid! };
    for (let r = 0; r < CONFIG.rounds; r++) {
      // Alternate request by request, so load from elsewhere on the machine hits both alike.
      const runs: Record<string, Run[]> = { respd: [], direct: [] };
      const cpu: Record<string, number> = { respd: 0, direct: 0 };
      for (let i = 0; i < CONFIG.llamaRequests; i++) {
        for (const who of rotate(['respd', 'direct'], r + i)) {
          const c0 = cpuSecondsOf(pids[who]);
          if (who === 'respd') runs.respd.push(await respdOnce());
          else runs.direct.push(...await direct.call<Run[]>({ op: 'run', prompt, maxTokens: CONFIG.maxOutputTokens, temperature: 0, n: 1 }));
          cpu[who] += cpuSecondsOf(pids[who]) - c0;
        }
      }
      for (const who of ['respd', 'direct']) {
        const rs = runs[who];
        const tokens = rs.reduce((a, x) => a + x.outputTokens, 0);
        const seconds = rs.reduce((a, x) => a + x.seconds, 0);
        // The split of each request's time: until its first token (request, prompt, first decode), then
        // the rest of the tokens at their own rate.
        const firstTokenMs = summarize(rs.map((x) => x.firstTokenSeconds * 1e3)).median;
        const afterFirstTokensPerSec = rs.reduce((a, x) => a + x.outputTokens - 1, 0) / rs.reduce((a, x) => a + x.seconds - x.firstTokenSeconds, 0);
        raw[who][r] = { tokens, seconds, cpuSeconds: cpu[who], inputTokens: rs[0].inputTokens, perRequest: rs.map((x) => x.outputTokens), firstTokenMs, afterFirstTokensPerSec };
        log(`llama round ${r + 1} ${who}: ${tokens} tokens in ${(seconds * 1e3).toFixed(1)} ms = ${Math.round(tokens / seconds)} tokens/s, ${((cpu[who] / tokens) * 1e6).toFixed(0)} µs CPU/token (prompt ${rs[0].inputTokens} tokens), first token ${firstTokenMs.toFixed(2)} ms, then ${Math.round(afterFirstTokensPerSec)} tokens/s`);
      }
    }
    const tps = (who: string) => raw[who].map((x) => x.tokens / x.seconds);
    results.figures.llama = {
      model: local.id, modelPath, threads: 1, contextSize: loaded.contextSize, maxOutputTokens: CONFIG.maxOutputTokens, requestsPerRound: CONFIG.llamaRequests,
      respdTokensPerSec: summarize(tps('respd')), directTokensPerSec: summarize(tps('direct')),
      ratio: ratioSummary(tps('respd'), tps('direct')),
      firstTokenMs: { respd: summarize(raw.respd.map((x) => x.firstTokenMs)), direct: summarize(raw.direct.map((x) => x.firstTokenMs)) },
      firstTokenOverheadMs: diffSummary(raw.respd.map((x) => x.firstTokenMs), raw.direct.map((x) => x.firstTokenMs)),
      afterFirstTokensPerSec: { respd: summarize(raw.respd.map((x) => x.afterFirstTokensPerSec)), direct: summarize(raw.direct.map((x) => x.afterFirstTokensPerSec)) },
      afterFirstRatio: ratioSummary(raw.respd.map((x) => x.afterFirstTokensPerSec), raw.direct.map((x) => x.afterFirstTokensPerSec)),
      cpuUsPerToken: { respd: summarize(raw.respd.map((x) => (x.cpuSeconds / x.tokens) * 1e6)), direct: summarize(raw.direct.map((x) => (x.cpuSeconds / x.tokens) * 1e6)) },
      outputTokensPerRequest: { respd: raw.respd[0].perRequest[0], direct: raw.direct[0].perRequest[0] },
      promptTokens: { respd: raw.respd[0].inputTokens, direct: raw.direct[0].inputTokens },
    };
    results.raw.llama = raw;
  } finally {
    direct.stop();
  }
}
