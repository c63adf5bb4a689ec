// The operator console: a list of every tenant's responses with filters, one response's items, its
// live stream while it runs, a replay once it ended, and cancel. Talks only to /admin (api.ts).
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError, cancelResponse, getResponse, listResponses, saveKey, savedKey, streamEvents,
  type Detail, type Filters, type Summary,
} from './api.js';

const STATUSES = ['', 'queued', 'in_progress', 'completed', 'failed', 'cancelled', 'incomplete'];
const running = (s: string) => s === 'queued' || s === 'in_progress';
/** Replay shows the stored events one by one this far apart (the log keeps their order, not their timing). */
const REPLAY_GAP_MS = 30;
const noFilters: Filters = { status: '', model: '', tenant: '', created_after: '', created_before: '' };

const when = (unix: number) => new Date(unix * 1000).toISOString().replace('T', ' ').slice(0, 19);
const Status = ({ s }: { s: string }) => <span class={`status ${s}`}>{s}</span>;

function Login({ onKey, error }: { onKey: (k: string) => void; error?: string }) {
  const [k, setK] = useState('');
  return (
    <form class="login" onSubmit={(e) => { e.preventDefault(); onKey(k.trim()); }}>
      <section>
        <h2>respd console</h2>
        <p>Enter the admin key (CONSOLE_ADMIN_KEY). It is kept for this tab only.</p>
        <input id="admin-key" type="password" value={k} onInput={(e) => setK(e.currentTarget.value)} autoFocus size={40} />
        <button id="sign-in" type="submit">Sign in</button>
        {error && <p class="error">{error}</p>}
      </section>
    </form>
  );
}

function FilterBar({ onApply }: { onApply: (f: Filters) => void }) {
  const [f, setF] = useState(noFilters);
  const field = (name: keyof Filters, label: string, type = 'text') => (
    <label>{label}<input id={`f-${name}`} type={type} value={f[name]} onInput={(e) => setF({ ...f, [name]: e.currentTarget.value })} /></label>
  );
  return (
    <form class="filters" onSubmit={(e) => { e.preventDefault(); onApply(f); }}>
      <label>status
        <select id="f-status" value={f.status} onChange={(e) => { const next = { ...f, status: e.currentTarget.value }; setF(next); onApply(next); }}>
          {STATUSES.map((s) => <option value={s}>{s || 'any'}</option>)}
        </select>
      </label>
      {field('model', 'model')}
      {field('tenant', 'tenant')}
      {field('created_after', 'created after', 'datetime-local')}
      {field('created_before', 'created before', 'datetime-local')}
      <button id="apply" type="submit">Apply</button>
    </form>
  );
}

/** The text an event adds to the output, if any. */
const textOf = (ev: { type: string; delta?: string }) =>
  ev.type === 'response.output_text.delta' || ev.type === 'response.reasoning_text.delta' ? ev.delta ?? '' : '';

function itemText(it: any): string {
  if (typeof it.content === 'string') return it.content;
  if (Array.isArray(it.content)) return it.content.map((c: any) => c.text ?? c.refusal ?? `[${c.type}]`).join('');
  if (it.type === 'function_call') return `${it.name}(${it.arguments})`;
  if (it.type === 'function_call_output') return String(it.output);
  if (Array.isArray(it.summary)) return it.summary.map((s: any) => s.text).join('');
  return '';
}

const Items = ({ items, kind }: { items: any[]; kind: string }) => (
  <div class={`items ${kind}`}>
    {items.map((it) => <div class="item"><b>{it.role ?? it.type}</b> <span>{itemText(it)}</span></div>)}
  </div>
);

function DetailView({ id, onChanged }: { id: string; onChanged: () => void }) {
  const [d, setD] = useState<Detail | undefined>();
  const [status, setStatus] = useState('');
  const [text, setText] = useState('');
  const [mode, setMode] = useState<'' | 'live' | 'replay'>('');
  const [error, setError] = useState('');
  const ctl = useRef<AbortController | undefined>();

  const load = async () => {
    const got = await getResponse(id);
    setD(got);
    setStatus(got.status);
    return got;
  };

  /** Reads the stream from the start: live while it runs, paced when replaying a finished one. */
  const play = async (how: 'live' | 'replay') => {
    ctl.current?.abort();
    const c = new AbortController();
    ctl.current = c;
    setMode(how);
    setText('');
    setError('');
    try {
      for await (const ev of streamEvents(id, -1, c.signal)) {
        const add = textOf(ev);
        if (add) setText((t) => t + add);
        if (ev.response?.status) setStatus(ev.response.status);
        if (how === 'replay') await new Promise((r) => setTimeout(r, REPLAY_GAP_MS));
        if (c.signal.aborted) return;
      }
      if (how === 'live') { await load(); onChanged(); }
    } catch (err) {
      if (!c.signal.aborted) setError((err as Error).message);
    } finally {
      if (ctl.current === c) setMode('');
    }
  };

  useEffect(() => {
    setD(undefined);
    setText('');
    load().then((got) => { if (running(got.status)) void play('live'); }).catch((err) => setError(err.message));
    return () => ctl.current?.abort();
  }, [id]);

  const cancel = async () => {
    try {
      const r = await cancelResponse(id);
      setStatus(r.status);
      onChanged();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  if (!d) return <section id="detail">{error ? <p class="error">{error}</p> : 'Loading…'}</section>;
  return (
    <section id="detail" data-id={id}>
      <h3>{id}</h3>
      <div>status <span id="detail-status"><Status s={status} /></span> · {d.model} · tenant {d.tenant.slice(0, 8)}{d.end_user && ` / ${d.end_user}`} · {d.background ? 'background' : 'foreground'} · {when(d.created_at)}</div>
      <div class="actions">
        {!running(status) && <button id="replay" disabled={mode !== ''} onClick={() => void play('replay')}>Replay</button>}
        {running(status) && mode !== 'live' && <button id="follow" onClick={() => void play('live')}>Follow live</button>}
        {d.background && running(status) && <button id="cancel" onClick={() => void cancel()}>Cancel</button>}
        {mode && <span id="stream-mode">{mode === 'live' ? 'following live…' : 'replaying…'}</span>}
      </div>
      {error && <p class="error">{error}</p>}
      {(mode || text) && <><h4>Stream</h4><pre id="live-text">{text}</pre></>}
      <h4>Input items</h4>
      <Items items={d.input_items} kind="input" />
      <h4>Output items</h4>
      {d.response.error && <p class="error">{d.response.error.message}</p>}
      <Items items={d.response.output ?? []} kind="output" />
    </section>
  );
}

function App() {
  const [key, setKey] = useState(savedKey());
  const [loginError, setLoginError] = useState('');
  const [filters, setFilters] = useState(noFilters);
  const [rows, setRows] = useState<Summary[]>([]);
  const [more, setMore] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | undefined>();
  const [error, setError] = useState('');

  const toUnix = (f: Filters): Filters => ({
    ...f,
    created_after: f.created_after && String(Math.floor(new Date(f.created_after).getTime() / 1000)),
    created_before: f.created_before && String(Math.floor(new Date(f.created_before).getTime() / 1000)),
  });

  const refresh = async (f = filters, after?: string) => {
    try {
      const page = await listResponses(toUnix(f), after);
      setRows((r) => (after ? [...r, ...page.data] : page.data));
      setMore(page.has_more ? page.last_id : null);
      setError('');
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) { saveKey(''); setKey(''); setLoginError('The admin key was refused.'); return; }
      setError((err as Error).message);
    }
  };

  useEffect(() => { if (key) void refresh(); }, [key]);

  if (!key) return <Login error={loginError} onKey={(k) => { saveKey(k); setLoginError(''); setKey(k); }} />;
  return (
    <>
      <header>
        <h1>respd console</h1>
        <button id="refresh" onClick={() => void refresh()}>Refresh</button>
        <button id="sign-out" onClick={() => { saveKey(''); setKey(''); }}>Sign out</button>
      </header>
      <main>
        <section>
          <FilterBar onApply={(f) => { setFilters(f); void refresh(f); }} />
          {error && <p class="error">{error}</p>}
          <table id="responses">
            <thead><tr><th>id</th><th>status</th><th>model</th><th>tenant</th><th>kind</th><th>created</th><th>tokens</th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr data-id={r.id} data-status={r.status} class={r.id === selected ? 'selected' : ''} onClick={() => setSelected(r.id)}>
                  <td>{r.id}</td><td><Status s={r.status} /></td><td>{r.model}</td><td title={r.tenant}>{r.tenant.slice(0, 8)}</td>
                  <td>{r.background ? 'background' : 'foreground'}</td><td>{when(r.created_at)}</td>
                  <td>{r.usage ? `${r.usage.input_tokens}/${r.usage.output_tokens}` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 && <p id="empty">No responses match.</p>}
          {more && <button id="more" onClick={() => void refresh(filters, more)}>More</button>}
        </section>
        {selected ? <DetailView id={selected} onChanged={() => void refresh()} /> : <section>Select a response.</section>}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
