// The console's calls to /admin, with the admin key as a bearer token (kept in sessionStorage: gone when
// the tab closes). Streams are read with fetch, not EventSource, which cannot send that header.

const KEY = 'respd-admin-key';
export const savedKey = () => sessionStorage.getItem(KEY) ?? '';
export const saveKey = (k: string) => (k ? sessionStorage.setItem(KEY, k) : sessionStorage.removeItem(KEY));

export class ApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { ...init, headers: { authorization: `Bearer ${savedKey()}`, ...init.headers } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body?.error?.message ?? `HTTP ${res.status}`);
  return body as T;
}

export interface Summary {
  id: string; tenant: string; end_user: string; status: string; model: string | null;
  background: boolean; created_at: number; usage: { input_tokens: number; output_tokens: number } | null;
}
export interface Page { data: Summary[]; has_more: boolean; last_id: string | null }
export interface Detail extends Summary { response: { output?: any[]; error?: { message: string } | null }; input_items: any[] }
export interface Filters { status: string; model: string; tenant: string; created_after: string; created_before: string }

export function listResponses(f: Filters, after?: string): Promise<Page> {
  const q = new URLSearchParams({ limit: '50' });
  for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
  if (after) q.set('after', after);
  return call(`/admin/responses?${q}`);
}
export const getResponse = (id: string) => call<Detail>(`/admin/responses/${encodeURIComponent(id)}`);
export const cancelResponse = (id: string) => call<{ status: string }>(`/admin/responses/${encodeURIComponent(id)}/cancel`, { method: 'POST' });

export interface StreamEvent { type: string; sequence_number: number; [k: string]: any }

/**
 * The response's SSE stream from `startingAfter` on, event by event, until its terminal event. A
 * connection that drops before then is resumed where it stopped (starting_after = the last sequence
 * number seen), as any client of the API resumes.
 */
export async function* streamEvents(id: string, startingAfter: number, signal: AbortSignal): AsyncGenerator<StreamEvent> {
  let last = startingAfter;
  for (let attempt = 0; attempt < 5 && !signal.aborted; attempt++) {
    const res = await fetch(`/admin/responses/${encodeURIComponent(id)}/stream?starting_after=${last}`, {
      headers: { authorization: `Bearer ${savedKey()}`, accept: 'text/event-stream' }, signal,
    });
    if (!res.ok || !res.body) throw new ApiError(res.status, `stream: HTTP ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const data = frame.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
        if (!data || data === '[DONE]') continue;
        const ev = JSON.parse(data) as StreamEvent;
        if (typeof ev.sequence_number === 'number') last = ev.sequence_number;
        yield ev;
        if (ev.type === 'error' || /^response\.(completed|failed|incomplete|cancelled)$/.test(ev.type)) return;
      }
    }
  }
}
