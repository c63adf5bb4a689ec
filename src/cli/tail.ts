// `respd tail <response_id>`: follows a response's stream over SSE (GET /responses/{id}?stream=true),
// printing its text deltas to stdout and a progress line (events, tokens, status) to stderr. A dropped
// connection (or a server restart) is resumed with starting_after = the last sequence number seen, so
// nothing is printed twice or skipped; Ctrl-C prints the number to resume from.
import { createParser } from 'eventsource-parser';
import { intOption, parse } from './args.js';
import { connect, errorMessage, HTTP_OPTIONS } from './http-client.js';

const TERMINAL_EVENTS = new Set(['response.completed', 'response.failed', 'response.incomplete', 'response.cancelled']);
/** Reconnect attempts in a row without a new event before giving up. */
const DEFAULT_RETRIES = 20;
const BACKOFF_MAX_MS = 5000;

export const usage = `respd tail <response_id> [--starting-after N] [--retries N] [--url URL] [--key KEY]
  Follow a response's stream: text deltas to stdout, progress to stderr. Resumes by itself after a dropped
  connection; --starting-after N starts after sequence number N (what an interrupted tail printed).
  Exit: 0 completed, 1 ended otherwise (failed, incomplete, cancelled) or could not follow, 130 interrupted.`;

interface State {
  events: number;
  lastSeq: number;
  deltas: number;
  outputTokens?: number;
  status: string;
  error?: string;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...HTTP_OPTIONS,
    'starting-after': { type: 'string' },
    retries: { type: 'string' },
  }, { names: ['response_id'] });
  const id = positionals[0]!;
  const startingAfter = intOption('starting-after', values['starting-after'], -1);
  const retries = intOption('retries', values.retries, 0) ?? DEFAULT_RETRIES;
  const api = connect(values);

  const st: State = { events: 0, lastSeq: startingAfter ?? -1, deltas: 0, status: 'connecting' };
  const progress = new Progress(id, st);
  const abort = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    abort.abort();
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);

  let failures = 0;
  try {
    for (;;) {
      const before = st.events;
      let outcome: 'done' | 'dropped' | number;
      try {
        outcome = await follow(api, id, st, progress, abort.signal);
      } catch (err) {
        if (interrupted) break;
        st.error = (err as Error).message;
        outcome = 'dropped';
      }
      if (typeof outcome === 'number') return outcome;
      if (outcome === 'done') break;
      if (interrupted) break;
      // A stream that ended with nothing new: the response may have ended at or before --starting-after.
      if (st.events === before && await endedAlready(api, id, st)) break;
      failures = st.events > before ? 1 : failures + 1;
      if (failures > retries) {
        progress.final();
        process.stderr.write(`respd tail: gave up after ${retries} reconnects without progress${st.error ? ` (${st.error})` : ''}; resume with --starting-after ${st.lastSeq}\n`);
        return 1;
      }
      st.status = `reconnecting (${failures})`;
      progress.show(true);
      await sleep(Math.min(250 * 2 ** (failures - 1), BACKOFF_MAX_MS), abort.signal);
      if (interrupted) break;
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  if (process.stdout.isTTY) process.stdout.write('\n');
  progress.final();
  if (interrupted) {
    process.stderr.write(`respd tail: interrupted; resume with: respd tail ${id} --starting-after ${st.lastSeq}\n`);
    return 130;
  }
  return st.status === 'completed' ? 0 : 1;
}

/** One connection: 'done' at a terminal event, 'dropped' when the stream ended early, or an exit code. */
async function follow(api: ReturnType<typeof connect>, id: string, st: State, progress: Progress, signal: AbortSignal): Promise<'done' | 'dropped' | number> {
  const q = new URLSearchParams({ stream: 'true' });
  if (st.lastSeq >= 0) q.set('starting_after', String(st.lastSeq));
  const res = await api.get(`/responses/${encodeURIComponent(id)}?${q}`, { headers: { accept: 'text/event-stream' }, signal });
  if (!res.ok) {
    const msg = await errorMessage(res);
    // Overloaded or restarting: worth another try; anything else (unknown id, bad key) is final.
    if (res.status >= 500 || res.status === 429) throw new Error(msg);
    process.stderr.write(`respd tail: ${msg}\n`);
    return 1;
  }
  st.status = st.status.startsWith('reconnecting') || st.status === 'connecting' ? 'connected' : st.status;
  let done = false;
  const parser = createParser({
    onEvent(ev) {
      let data: Record<string, any>;
      try {
        data = JSON.parse(ev.data) as Record<string, any>;
      } catch {
        return;
      }
      const seq = typeof data.sequence_number === 'number' ? data.sequence_number : undefined;
      // A replay that overlaps what was printed (it never should) must not print twice.
      if (seq !== undefined && seq <= st.lastSeq) return;
      const type = String(data.type ?? ev.event ?? '');
      if (type === 'response.output_text.delta' && typeof data.delta === 'string') {
        process.stdout.write(data.delta);
        st.deltas++;
      }
      if (data.response && typeof data.response.status === 'string') {
        st.status = data.response.status;
        const tokens = data.response.usage?.output_tokens;
        if (typeof tokens === 'number') st.outputTokens = tokens;
      }
      if (type === 'error') {
        st.status = 'error';
        st.error = String(data.message ?? data.error?.message ?? 'error event');
        done = true;
      }
      st.events++;
      if (seq !== undefined) st.lastSeq = seq;
      if (TERMINAL_EVENTS.has(type)) done = true;
      progress.show();
    },
  });
  const dec = new TextDecoder();
  for await (const chunk of res.body!) {
    parser.feed(dec.decode(chunk as Uint8Array, { stream: true }));
    if (done) break;
  }
  return done ? 'done' : 'dropped';
}

const TERMINAL_STATUSES = new Set(['completed', 'failed', 'incomplete', 'cancelled']);

/** True (status recorded) when the response has ended: nothing more will come after the sequence number asked for. */
async function endedAlready(api: ReturnType<typeof connect>, id: string, st: State): Promise<boolean> {
  try {
    const r = await api.json<{ status?: string; usage?: { output_tokens?: number } | null }>(`/responses/${encodeURIComponent(id)}`);
    if (!r.status || !TERMINAL_STATUSES.has(r.status)) return false;
    st.status = r.status;
    if (typeof r.usage?.output_tokens === 'number') st.outputTokens = r.usage.output_tokens;
    return true;
  } catch {
    return false;
  }
}

/** The progress line: rewritten in place on a terminal, a line per second (and per status change) otherwise. */
class Progress {
  private lastAt = 0;
  private lastStatus = '';
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly id: string, private readonly st: State) {}

  line(): string {
    const s = this.st;
    const tokens = s.outputTokens !== undefined ? `${s.outputTokens} tokens` : `~${s.deltas} tokens`;
    return `${this.id}: ${s.events} events · seq ${s.lastSeq} · ${tokens} · ${s.status}${s.error && s.status !== 'completed' ? ` (${s.error})` : ''}`;
  }

  show(force = false): void {
    const now = Date.now();
    const changed = this.st.status !== this.lastStatus;
    if (!force && !changed && now - this.lastAt < (this.tty ? 100 : 1000)) return;
    this.lastAt = now;
    this.lastStatus = this.st.status;
    process.stderr.write(this.tty ? `\r\x1b[K${this.line()}` : `${this.line()}\n`);
  }

  final(): void {
    process.stderr.write(this.tty ? `\r\x1b[K${this.line()}\n` : `${this.line()}\n`);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}
