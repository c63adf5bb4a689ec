// A WebSocket client for /responses (the `ws` package): sends response.create messages and collects what
// comes back, checking every message against the Open Responses schema where ../shared has it.
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { openResponsesAvailable, validateComponent, validateStreamEvent } from './openresponses.js';
import { KEY_A, type TestServer } from './server.js';

export type Msg = Record<string, any>;

/** One connection: sends response.create messages and collects what comes back, turn by turn. */
export class Conn {
  readonly messages: Msg[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  /** The close frame's code and reason, once closed. */
  closeCode: number | undefined;
  closeReason = '';
  /** When the connection opened and closed (Date.now()). */
  readonly openedAt = Date.now();
  closedAt: number | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Msg;
      // Validated against the Open Responses schema where it is present (../shared; a public clone has none).
      // Steering events (OpenAI's beta response.steer.*) are not in the Open Responses spec.
      if (openResponsesAvailable && !String(m.type).startsWith('response.steer.')) {
        const errs = m.type === 'error' ? validateComponent('WebSocketErrorEvent', m) : validateStreamEvent(m);
        assert.deepEqual(errs, [], `${m.type} does not validate: ${errs.join('; ')}`);
      }
      this.messages.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code, reason) => {
      this.closed = true;
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.closedAt = Date.now();
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(on: TestServer, key: string | null = KEY_A, headers: Record<string, string> = {}): Promise<Conn> {
    const ws = new WebSocket(`${on.baseURL.replace(/^http/, 'ws')}/responses`, {
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Conn(ws)));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  /** Waits for the message at `index` (or later) matching `pred`. */
  async next(from: number, pred: (m: Msg) => boolean, ms = 10_000): Promise<Msg> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.slice(from).find(pred);
      if (found) return found;
      if (this.closed) throw new Error('socket closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${this.messages.slice(from).map((m) => m.type).join(', ')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  /** Sends one response.create and returns that turn's messages, up to its terminal event or error. */
  async turn(body: Msg): Promise<{ events: Msg[]; response?: Msg; error?: Msg }> {
    const from = this.messages.length;
    this.ws.send(JSON.stringify({ type: 'response.create', ...body }));
    const end = await this.next(from, (m) => m.type === 'error' || /^response\.(completed|failed|incomplete|cancelled)$/.test(m.type));
    const events = this.messages.slice(from, this.messages.indexOf(end) + 1);
    return end.type === 'error' ? { events, error: end } : { events, response: end.response };
  }

  close() {
    this.ws.close();
  }
}
