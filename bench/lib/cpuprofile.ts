// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per file, so the
// hot spots can be read without opening a flame-graph viewer.
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface HotSpot {
  name: string;
  selfPct: number;
  totalPct?: number;
}

export function summarizeProfile(path: string, top = 20): { functions: HotSpot[]; files: HotSpot[]; sampledMs: number } {
  const prof = JSON.parse(readFileSync(path, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  let total = 0;
  for (const v of self.values()) total += v;
  const short = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'node_modules/').replace(/^.*\/dist\//, 'dist/');
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id)!;
    const cf = n.callFrame;
    const where = cf.url ? `${short(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + t);
    const f = cf.url ? short(cf.url).replace(/^(node_modules\/(@[^/]+\/)?[^/]+)\/.*$/, '$1') : cf.functionName;
    file.set(f, (file.get(f) ?? 0) + t);
  }
  const rank = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, t]) => ({ name, selfPct: Math.round((t / total) * 1000) / 10 }));
  return { functions: rank(fn), files: rank(file), sampledMs: Math.round(total / 1000) };
}
