// Fetches a page the model opens: http(s) only, the MCP client's private-address guard on every hop
// (redirects are followed by hand so each target is checked), a size cap, HTML turned into text.
import { mcpFetch, refusalReason } from '../mcp/ssrf.js';

/** A search or a page fetch failed; the message is safe to show the model and the client. */
export class WebSearchError extends Error {}

export interface Page {
  url: string;
  title: string;
  text: string;
}

const MAX_BYTES = 2 * 1024 * 1024;
const MAX_REDIRECTS = 3;

async function readCapped(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BYTES) {
      await reader.cancel();
      break;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function fetchPage(url: string, opts: { allowPrivate: boolean; timeoutMs: number }): Promise<Page> {
  const get = mcpFetch(opts.allowPrivate);
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let current = url;
  for (let hop = 0; ; hop++) {
    const refused = await refusalReason(current, opts.allowPrivate);
    if (refused) throw new WebSearchError(refused.replace('MCP server', 'page'));
    const res = await get(current, { redirect: 'manual', signal, headers: { accept: 'text/html, text/plain;q=0.9, */*;q=0.5' } });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      if (hop >= MAX_REDIRECTS) throw new WebSearchError('too many redirects');
      current = new URL(location, current).toString();
      continue;
    }
    if (!res.ok) throw new WebSearchError(`the page answered HTTP ${res.status}`);
    const body = await readCapped(res);
    const type = res.headers.get('content-type') ?? '';
    if (!/html/i.test(type)) return { url: current, title: current, text: body };
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1]?.trim() ?? current;
    const { convert } = await import('html-to-text');
    const text = convert(body, { wordwrap: false, selectors: [{ selector: 'a', options: { ignoreHref: true } }, { selector: 'img', format: 'skip' }] });
    return { url: current, title, text };
  }
}
