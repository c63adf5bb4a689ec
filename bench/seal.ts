// Cost of encrypted reasoning per item: sealing a reasoning item's text (include
// reasoning.encrypted_content) and opening it when the client sends it back, in-process (the work
// respd adds to a turn). Run: `npx tsc -p tsconfig.json && node dist/bench/seal.js`; writes
// bench/results/seal.{json,md}.
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ReasoningSealer } from '../src/responses/sealed-reasoning.js';
import { ROOT } from './lib/procs.js';
import { summarize } from './lib/stats.js';

const SIZES = [256, 2_048, 16_384, 65_536];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const owner = { tenant: '0123456789abcdef0123456789abcdef', endUser: 'user-42' };
const sealer = new ReasoningSealer([{ id: 'k1', key: randomBytes(32) }, { id: 'k0', key: randomBytes(32) }]);

/** Reasoning-like text: words of ASCII with some multi-byte characters. */
function text(bytes: number): string {
  const words = ['the', 'user', 'asks', 'about', 'Zürich', 'so', 'I', 'should', 'check', 'the', 'weather', 'tool', '→', 'then', 'answer'];
  let s = '';
  for (let i = 0; Buffer.byteLength(s) < bytes; i++) s += `${words[i % words.length]} `;
  return s;
}

/**
 * CPU µs (user + system) per call of `fn`, run for at least `ms` of wall time. CPU time rather than wall
 * time: the machine is shared, and other processes' load would otherwise be counted.
 */
function time(fn: () => void, ms: number): number {
  let n = 0;
  const end = process.hrtime.bigint() + BigInt(ms * 1e6);
  const cpu = process.cpuUsage();
  while (process.hrtime.bigint() < end) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / n;
}

const results: any = {
  date: new Date().toISOString(),
  machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100) },
  rounds: ROUNDS,
  sizes: {} as Record<string, unknown>,
};
for (const size of SIZES) {
  const t = text(size);
  const blob = sealer.seal(t, owner);
  if (sealer.open(blob, owner) !== t) throw new Error('round trip failed');
  time(() => sealer.seal(t, owner), 200); // warm-up
  time(() => sealer.open(blob, owner), 200);
  const seal: number[] = [];
  const open: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    seal.push(time(() => sealer.seal(t, owner), 400));
    open.push(time(() => sealer.open(blob, owner), 400));
  }
  results.sizes[size] = { textBytes: Buffer.byteLength(t), blobChars: blob.length, sealUs: summarize(seal), openUs: summarize(open) };
}

const f = (s: { median: number; min: number; max: number }) => `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
const md = [
  `# Encrypted reasoning: seal and open per item`,
  '',
  `${results.date}, ${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}, load average ${results.machine.loadavg.join(' / ')} at the start.`,
  `Median (min–max) over ${ROUNDS} rounds of ≥ 400 ms each, CPU µs (user + system) per item, in-process.`,
  '',
  '| reasoning text | blob (base64 chars) | seal CPU µs | open CPU µs |',
  '|---|---|---|---|',
  ...SIZES.map((s) => {
    const r = results.sizes[s];
    return `| ${r.textBytes} B | ${r.blobChars} | ${f(r.sealUs)} | ${f(r.openUs)} |`;
  }),
  '',
];
const dir = join(ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'seal.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(dir, 'seal.md'), md.join('\n'));
console.log(md.join('\n'));
