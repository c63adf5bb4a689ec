// Renders bench/results/latest.md from the results object: machine, Node, date, then one table per
// figure. Every cell is "median (min–max)" over the rounds; ratios are to the same round's baseline.
import type { Summary } from './stats.js';

type Any = any;

function n(x: number, digits: number): string {
  if (!Number.isFinite(x)) return '–';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** "median (min–max)" */
export function fmt(s: Summary | undefined, digits = 0, suffix = ''): string {
  if (!s || !s.n) return '–';
  if (s.n === 1 || s.min === s.max) return `${n(s.median, digits)}${suffix}`;
  return `${n(s.median, digits)}${suffix} (${n(s.min, digits)}–${n(s.max, digits)})`;
}
const x = (s: Summary | undefined, digits = 2) => fmt(s, digits, '×');

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const LABELS: Record<string, string> = {
  direct: 'upstream direct (baseline)',
  'respd-chat': 'respd /chat/completions',
  'portkey-chat': 'Portkey /chat/completions',
  'respd-responses-store': 'respd /responses store:true',
  'respd-responses-nostore': 'respd /responses store:false',
};

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | null;
}

export function checkTargets(r: Any): TargetCheck[] {
  const out: TargetCheck[] = [];
  const h16 = r.figures.http?.[16];
  const h1 = r.figures.http?.[1];
  const chat16 = h16?.['respd-chat'];
  if (chat16?.rpsVsPortkey) {
    out.push({ target: '/chat/completions req/s at c=16 ≥ 2× Portkey (stretch 4×)', measured: x(chat16.rpsVsPortkey), met: chat16.rpsVsPortkey.median >= 2 });
    out.push({ target: '/chat/completions p99 at c=16 ≤ ½ Portkey p99', measured: x(chat16.p99VsPortkey), met: chat16.p99VsPortkey.median <= 0.5 });
  }
  const store16 = h16?.['respd-responses-store'];
  if (store16?.rpsVsPortkey) out.push({ target: '/responses store:true req/s at c=16 ≥ Portkey chat req/s', measured: x(store16.rpsVsPortkey), met: store16.rpsVsPortkey.median >= 1 });
  const nostore16 = h16?.['respd-responses-nostore'];
  if (nostore16) out.push({ target: '/responses store:false within 20 % of the chat proxy (req/s, c=16)', measured: x(nostore16.rpsVsChatProxy), met: nostore16.rpsVsChatProxy.median >= 0.8 });
  if (h1?.['respd-chat']) out.push({ target: 'added p50 at c=1, chat proxy < 0.5 ms', measured: fmt(h1['respd-chat'].addedP50, 3, ' ms'), met: h1['respd-chat'].addedP50.median < 0.5 });
  if (h1?.['respd-responses-store']) out.push({ target: 'added p50 at c=1, /responses store:true < 1 ms', measured: fmt(h1['respd-responses-store'].addedP50, 3, ' ms'), met: h1['respd-responses-store'].addedP50.median < 1 });
  if (r.figures.llama) out.push({ target: 'embedded engine ≥ 0.95 × direct node-llama-cpp tokens/s', measured: x(r.figures.llama.ratio, 3), met: r.figures.llama.ratio.median >= 0.95 });
  if (r.figures.replay) out.push({ target: 'replay from starting_after ≥ 100,000 events/s', measured: fmt(r.figures.replay.eventsPerSec, 0, ' ev/s'), met: r.figures.replay.eventsPerSec.median >= 100_000 && r.figures.replay.allDelivered });
  const st = r.figures.streams?.['respd-responses-store'];
  if (st) out.push({ target: `${r.config.streams} concurrent SSE streams, every event delivered`, measured: `${st.allDelivered ? 'all delivered' : 'LOST EVENTS'}; ${fmt(st.eventsPerSec, 0, ' ev/s')}`, met: st.allDelivered });
  return out;
}

export function renderMarkdown(r: Any): string {
  const m = r.machine;
  const L: string[] = [];
  L.push(`# respd benchmark`);
  L.push('');
  L.push(`- Date: ${r.date}`);
  L.push(`- Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB RAM (${m.platform}); load average at start ${m.loadavgAtStart.join(' / ')}, at end ${m.loadavgAtEnd?.join(' / ') ?? '–'}`);
  L.push(`- Node ${r.node}; load generator autocannon 8.0.0 in its own process; upstream, respd and peer each in their own process`);
  L.push(`- Peer: ${r.peer.available ? `Portkey gateway ${r.peer.version} (\`--headless\`, 127.0.0.1, \`x-portkey-provider: openai\`, \`x-portkey-custom-host\` → the bench upstream)` : `Portkey gateway unavailable — ${r.peer.reason}`}`);
  L.push(`- Method: ${r.config.rounds} rounds (${r.config.streamRounds ?? r.config.rounds} for the 1,000 streams), systems alternated (order rotated each round); autocannon runs of ${r.config.duration} s after ${r.config.settleMs ?? 0} ms idle; every cell is **median (min–max) over the rounds**; every ratio is to its baseline measured in the same round. Reply shapes: tiny \`${r.shapes.tiny}\` (4 chunks × 8 chars), long \`${r.shapes.long}\`, held \`${r.shapes.held}\`, replay \`${r.shapes.replay}\`.`);
  L.push(`- Whole run: ${r.seconds ?? '?'} s`);
  L.push('');

  const checks = checkTargets(r);
  if (checks.length) {
    L.push('## Targets (issue 7 §4)');
    L.push('');
    L.push(table(['target', 'measured', 'met'], checks.map((c) => [c.target, c.measured, c.met === null ? '–' : c.met ? 'yes' : '**no**'])));
    L.push('');
  }

  const http = r.figures.http;
  if (http) {
    L.push('## /chat/completions and /responses — throughput and latency (tiny fixed reply, non-streaming)');
    L.push('');
    L.push('Added latency = system p50/p99 − upstream-direct p50/p99 of the same round (ms).');
    L.push('');
    const rows: string[][] = [];
    for (const c of Object.keys(http).map(Number).sort((a, b) => a - b)) {
      for (const [id, f] of Object.entries<Any>(http[c])) {
        rows.push([String(c), LABELS[id] ?? f.label ?? id, fmt(f.rps), id === 'direct' ? '1' : x(f.rpsVsDirect), f.rpsVsPortkey ? x(f.rpsVsPortkey) : '–',
          fmt(f.p50, 3), id === 'direct' ? '–' : fmt(f.addedP50, 3), fmt(f.p99, 3), id === 'direct' ? '–' : fmt(f.addedP99, 3),
          f.p99VsPortkey ? x(f.p99VsPortkey) : '–', f.rpsVsChatProxy ? x(f.rpsVsChatProxy) : '–', fmt(f.cpuUsPerReq), f.cpuVsPortkey ? x(f.cpuVsPortkey) : '–', String(f.failures)]);
      }
    }
    L.push(table(['c', 'system', 'req/s', 'req/s × direct', 'req/s × Portkey', 'p50 ms', 'added p50 ms', 'p99 ms', 'added p99 ms', 'p99 × Portkey', 'req/s × chat proxy', 'CPU µs/req', 'CPU × Portkey', 'errors'], rows));
    L.push('');
    L.push('CPU µs/req = CPU time (user+system, all threads) of the serving process during the run ÷ requests: the upstream for "direct", respd or Portkey otherwise. Unlike req/s and latency it hardly depends on what else the machine is running.');
    L.push('');
  }
  if (http && r.config.abMain) {
    L.push(`### This build vs the A/B build (\`${r.config.abMain}\`), same run`);
    L.push('');
    const rows: string[][] = [];
    for (const c of Object.keys(http).map(Number).sort((a, b) => a - b)) {
      for (const [id, f] of Object.entries<Any>(http[c])) {
        if (!f.vsAb) continue;
        rows.push([String(c), LABELS[id] ?? f.label ?? id, x(f.vsAb.rps), fmt(f.vsAb.p50, 3), fmt(f.vsAb.p99, 3), x(f.vsAb.cpuUsPerReq)]);
      }
    }
    L.push(table(['c', 'system', 'req/s × A/B', 'p50 − A/B ms', 'p99 − A/B ms', 'CPU/req × A/B'], rows));
    L.push('');
  }
  const max = r.figures.maxRps;
  if (max) {
    L.push('### Max requests/s (best concurrency of each round)');
    L.push('');
    L.push(table(['system', 'req/s', '× direct', '× Portkey'], Object.entries<Any>(max).map(([id, f]) => [LABELS[id] ?? f.label ?? id, fmt(f.rps), id === 'direct' ? '1' : x(f.vsDirect), f.vsPortkey ? x(f.vsPortkey) : '–'])));
    L.push('');
  }
  const ttfb = r.figures.ttfb;
  if (ttfb) {
    L.push(`## Streams: time to first token (tiny reply, stream: true, ${r.config.ttfbRequests} sequential requests per round)`);
    L.push('');
    L.push('First token = first `"content":"…` chunk (chat) or first `response.output_text.delta` (/responses), timed from the request start.');
    L.push('');
    L.push(table(['system', 'p50 ms', 'overhead p50 ms', '× direct', 'p99 ms', 'overhead p99 ms'], Object.entries<Any>(ttfb).map(([id, f]) => [
      LABELS[id] ?? f.label ?? id, fmt(f.ttfbP50, 3), id === 'direct' ? '–' : fmt(f.overheadP50, 3), id === 'direct' ? '1' : x(f.ratioP50), fmt(f.ttfbP99, 3), id === 'direct' ? '–' : fmt(f.overheadP99, 3)])));
    L.push('');
  }
  const sse = r.figures.sse;
  if (sse) {
    L.push(`## SSE events/s, one stream (\`${r.shapes.long}\`: 10,000 chunks, no delay)`);
    L.push('');
    L.push(table(['system', 'events per stream', 'events/s', '× direct', 'all delivered'], Object.entries<Any>(sse).map(([id, f]) => [
      LABELS[id] ?? f.label ?? id, n(f.events, 0), fmt(f.eventsPerSec), id === 'direct' ? '1' : x(f.vsDirect), f.allDelivered ? 'yes' : '**no**'])));
    L.push('');
  }
  const st = r.figures.streams;
  if (st) {
    L.push(`## ${r.config.streams.toLocaleString('en-US')} concurrent streams (\`${r.shapes.held}\`), each system a fresh process`);
    L.push('');
    L.push('Every stream gets its first content chunk, then the upstream holds them all until the last one is open and releases them together (60 chunks, 50 ms apart, ≈3 s). Events/s = all events / time from "all open" to the end of the last stream; "all delivered" = every stream complete with the same event count (and gap-free sequence numbers for /responses). Memory per open stream = (RSS of the serving process with all streams open − RSS before) / streams.');
    L.push('');
    L.push(table(['system', 'events each', 'all delivered', 'events/s', '× direct', 'all open after s', 'KiB per open stream', 'memory × direct', 'memory × Portkey'], Object.entries<Any>(st).map(([id, f]) => [
      LABELS[id] ?? f.label ?? id, String(f.eventsEach ?? '–'), f.allDelivered ? 'yes' : '**no**', fmt(f.eventsPerSec), id === 'direct' ? '1' : x(f.vsDirect), fmt(f.openSeconds, 2),
      fmt(f.memPerStreamKiB, 1), id === 'direct' ? '1' : x(f.memVsDirect), f.memVsPortkey ? x(f.memVsPortkey) : '–'])));
    L.push('');
  }
  const rp = r.figures.replay;
  if (rp) {
    L.push('## Replay: GET /responses/{id}?stream=true&starting_after=0 on a stored 10,000-event response');
    L.push('');
    L.push(table(['figure', 'value'], [
      ['events replayed (seq 1…9,999)', `${n(rp.events, 0)}${rp.allDelivered ? ', gap-free, ends with response.completed' : ' — **incomplete**'}`],
      ['respd replay events/s', fmt(rp.eventsPerSec)],
      ['upstream direct, same-size chat stream, events/s (baseline)', fmt(rp.directEventsPerSec)],
      ['replay × direct', x(rp.vsDirect)],
    ]));
    L.push('');
    if (rp.systems) {
      L.push('Every system in the same rounds (events/s of one client reading as fast as it can; server CPU per event from `/proc`, user + system):');
      L.push('');
      L.push(table(['system', 'events/s', 'server CPU ns/event', 'all delivered', 'events/s × A/B build', 'CPU × A/B build'],
        Object.entries(rp.systems as Record<string, any>).map(([, f]) => [f.label.split(':')[0], fmt(f.eventsPerSec), fmt(f.cpuNsPerEvent), f.allDelivered ? 'yes' : '**no**', f.vsAb ? x(f.vsAb) : '–', f.cpuVsAb ? x(f.cpuVsAb) : '–'])));
      L.push('');
    }
  }
  const rt = r.figures.retrieval;
  if (rt) {
    L.push('## Retrieval: POST /vector_stores/{id}/search on Cranfield (lexical)');
    L.push('');
    if (rt.skipped) L.push(`Skipped: ${rt.reason}.`);
    else {
      L.push(`${rt.collection.docs} documents (title and abstract, one file each, one file batch), ${rt.collection.queries} queries (sequential ids), ${rt.collection.judgedPairs} judged pairs; each query asks for ${rt.maxNumResults} results (MRR is over those). Convention A is the published Lucene BM25's (nDCG@10 ${rt.publishedBm25.ndcg10}, recall@10 ${rt.publishedBm25.recall10}, MRR ${rt.publishedBm25.mrr}); B counts -1 as not relevant. Cost: median over the rounds of the per-round median wall ms per query, and respd CPU µs per query.`);
      L.push('');
      const rows: string[][] = [];
      for (const [id, f] of Object.entries<Any>({ 'SQLite (FTS5, Porter)': rt.sqlite, 'PostgreSQL (english tsvector, BM25 in SQL)': rt.postgres })) {
        if (!f) continue;
        if (f.skipped) {
          rows.push([id, `skipped: ${f.reason}`, '', '', '', '', '', '', '']);
          continue;
        }
        rows.push([id, n(f.conventionA.ndcg10, 4), n(f.conventionA.recall10, 4), n(f.conventionA.mrr, 4), n(f.conventionB.ndcg10, 4), n(f.conventionB.mrr, 4),
          fmt(f.msPerQuery, 2), fmt(f.cpuUsPerQuery), `${n(f.ingestSeconds, 1)} s (${n(f.ingestCpuSeconds, 1)} s CPU)`]);
      }
      L.push(table(['store', 'nDCG@10 A', 'recall@10 A', 'MRR A', 'nDCG@10 B', 'MRR B', 'ms/query', 'CPU µs/query', 'ingestion of 1,400 files'], rows));
    }
    L.push('');
  }
  const ll = r.figures.llama;
  if (ll) {
    L.push(`## Embedded engine: tokens/s through respd vs node-llama-cpp direct`);
    L.push('');
    L.push(`Model \`${ll.model}\`, threads 1 both, temperature 0, max_output_tokens ${ll.maxOutputTokens}, ${ll.requestsPerRound} streamed requests per round (respd: \`POST /responses\` model \`auto\`, stream; time from request to last event). Prompt tokens respd ${ll.promptTokens.respd} / direct ${ll.promptTokens.direct}; output tokens per request respd ${ll.outputTokensPerRequest.respd} / direct ${ll.outputTokensPerRequest.direct}.`);
    L.push('');
    L.push(table(['system', 'tokens/s', 'ratio', 'first token ms', 'first token overhead ms', 'tokens/s after the first', 'ratio after the first', 'CPU µs/token (process)'], [
      ['node-llama-cpp direct (baseline)', fmt(ll.directTokensPerSec), '1', fmt(ll.firstTokenMs?.direct, 2), '–', fmt(ll.afterFirstTokensPerSec?.direct), '1', fmt(ll.cpuUsPerToken?.direct)],
      ['respd /responses model auto', fmt(ll.respdTokensPerSec), x(ll.ratio, 3), fmt(ll.firstTokenMs?.respd, 2), fmt(ll.firstTokenOverheadMs, 2), fmt(ll.afterFirstTokensPerSec?.respd), x(ll.afterFirstRatio, 3), fmt(ll.cpuUsPerToken?.respd)],
    ]));
    L.push('');
    L.push('First token: direct from tokenising the prompt to its first sampled token; respd from sending the request to the first `response.output_text.delta` frame received (request, prompt and first decode; respd reuses the prompt prefix a sequence already holds, direct evaluates it in full). "After the first": the remaining tokens over the remaining time, per round.');
    L.push('');
  }
  const sc = r.figures.scale;
  if (sc) {
    L.push('## Scale-out: PostgreSQL + Redis, 1 vs 2 instances on this machine (issue 6)');
    L.push('');
    if (sc.skipped) {
      L.push(`Skipped: ${sc.reason}.`);
      L.push('');
    } else {
      L.push(`Fresh PostgreSQL schema and Redis key prefix \`${sc.backends.redisPrefix}\` (dropped at the end: schema ${sc.cleanup?.schemaDropped ? 'dropped' : `**not dropped** (${sc.cleanup?.schemaError ?? '?'})`}, ${sc.cleanup?.redisKeysDeleted ?? '?'} Redis keys deleted, ${sc.cleanup?.redisKeysLeft ?? '?'} left). Instances are separate respd processes with the default settings on the same ${sc.machine.cores} cores as PostgreSQL, Redis, the upstream and the load workers.`);
      L.push('');
      const tp = sc.throughput;
      if (tp) {
        L.push(`### Throughput: POST /responses, store on, tiny fixed reply, non-streaming`);
        L.push('');
        L.push('Every system is driven by two load-worker processes at once with c/2 connections each — both at the one instance, or one per instance; req/s is their sum, p50/p99 are over their merged response times. "1 instance" keeps the second instance running, idle. Ratios are to the same round\'s 1-instance PostgreSQL run. CPU µs/req: of the respd process(es) serving the run, and of every PostgreSQL and Redis server process of the machine (the SQLite rows have none of their own: anything there is other work); machine busy = all cores, all processes.');
        L.push('');
        const rows: string[][] = [];
        for (const c of Object.keys(tp).map(Number).sort((a, b) => a - b)) {
          for (const [id, f] of Object.entries<Any>(tp[c])) {
            rows.push([String(c), f.label, fmt(f.rps), id === 'pg-1' ? '1' : x(f.vsOneInstance), fmt(f.p50, 3), fmt(f.p99, 3), fmt(f.cpuUsPerReq), fmt(f.backendCpuUsPerReq), fmt(f.machineBusyPct, 0, ' %'), String(f.failures)]);
          }
        }
        L.push(table(['c', 'system', 'req/s', '× 1 instance', 'p50 ms', 'p99 ms', 'respd CPU µs/req', 'PostgreSQL + Redis CPU µs/req', 'machine busy', 'errors'], rows));
        L.push('');
      }
      const lt = sc.latency;
      if (lt) {
        L.push(`### Cross-instance stream latency (\`${lt.shape}\`: 200 chunks, 10 ms apart)`);
        L.push('');
        L.push(`${lt.responses} background responses (${lt.responsesPerRound} at a time per round, created alternately on A and B; creator→runner: ${lt.runners}), each read with \`GET /responses/{id}?stream=true&starting_after=-1\` from both instances at once by one client process; ${lt.eventsPerResponse} events each, ${lt.allComplete ? 'every read complete and gap-free' : '**some reads incomplete**'}. Only events appended after both readers were connected (+20 ms) count. Times are wall-clock (\`performance.timeOrigin + now()\`) in the client and the upstream processes. p50/p99 are over all samples pooled; "per round" = median (min–max) of the rounds' own. A negative difference means the other instance's stream was read first: both streams are read by one client event loop, so differences under a millisecond are at its resolution.`);
        L.push('');
        const row = (label: string, f: Any) => [label, String(f.n), n(f.p50, 2), fmt(f.p50Rounds, 2), n(f.p99, 2), fmt(f.p99Rounds, 2), `${n(f.min, 2)} / ${n(f.max, 2)}`];
        L.push(table(['latency', 'samples', 'p50 ms', 'p50 per round', 'p99 ms', 'p99 per round', 'min / max ms'], [
          row('other instance\'s stream − running instance\'s stream (same sequence number)', lt.fanOut),
          row('other instance\'s stream − upstream sent the chunk (end to end)', lt.endToEnd),
          row('running instance\'s own stream − upstream sent the chunk', lt.runnerLag),
        ]));
        L.push('');
        L.push(`Target (issue 6 §2): an event appended on one instance reaches a stream on another within 50 ms p99 — ${lt.endToEnd.p99 < 50 ? 'met' : '**not met**'} (${n(lt.endToEnd.p99, 2)} ms end to end).`);
        if (lt.notes?.length) L.push(`\nNotes: ${lt.notes.join('; ')}`);
        L.push('');
      }
    }
  }
  const sc2 = r.figures.streamcpu;
  if (sc2) {
    L.push(`## Streamed vs blocking: respd CPU per request (\`${sc2.shape}\`, issue 17)`);
    L.push('');
    L.push(`The same reply (10 text chunks, answered at once) asked for blocking, streamed (SSE, \`stream: true\`) and as WebSocket turns (one \`response.create\` after another per socket), ${sc2.connections} connections; each build × store group runs its three modes back to back in ${sc2.duration} s runs, ${sc2.rounds} rounds. CPU = user + system time of the respd process (/proc) ÷ requests; the ratios are to the blocking run of the same round (target: streamed ≤ 1.5 × blocking).`);
    L.push('');
    const rows: string[][] = [];
    for (const [build, b] of Object.entries<Any>(sc2.builds)) {
      for (const store of ['nostore', 'store']) {
        const f = b[store];
        rows.push([build === 'ab' ? 'A/B build' : 'this build', store === 'store' ? 'store: true' : 'store: false', fmt(f.cpuUsPerReq.blocking), fmt(f.cpuUsPerReq.stream), fmt(f.cpuUsPerReq.ws), x(f.streamVsBlocking), x(f.wsVsBlocking),
          f.vsAb ? `${x(f.vsAb.blocking)} / ${x(f.vsAb.stream)} / ${x(f.vsAb.ws)}` : '–']);
      }
    }
    L.push(table(['build', 'store', 'blocking µs/req', 'streamed µs/req', 'WebSocket µs/turn', 'streamed × blocking', 'WebSocket × blocking', 'CPU × A/B (blocking / streamed / WS)'], rows));
    L.push('');
  }
  if (r.profiles && Object.keys(r.profiles).length) {
    L.push('## CPU profiles of respd (`node --cpu-prof`), top self time');
    L.push('');
    for (const [name, p] of Object.entries<Any>(r.profiles)) {
      L.push(`**${name}** (${p.sampledMs} ms sampled)`);
      L.push('');
      L.push(table(['self %', 'function'], p.functions.slice(0, 12).map((f: Any) => [String(f.selfPct), `\`${f.name}\``])));
      L.push('');
    }
  }
  const errs = Object.entries<string>(r.errors ?? {});
  if (errs.length) {
    L.push('## Sections that failed');
    L.push('');
    for (const [k, v] of errs) L.push(`- ${k}: ${v.split('\n')[0]}`);
    L.push('');
  }
  return `${L.join('\n')}\n`;
}
