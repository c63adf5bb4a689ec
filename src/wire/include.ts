// `include` handling: which optional data a reader sees. Stored data is complete; readers that did not
// ask for logprobs or input image URLs get them stripped on the way out.
import { errors } from '../wire/errors.js';
import { INCLUDABLE } from '../wire/schemas/common.js';
import type { Item, ResponseObject } from '../wire/types.js';

const ALLOWED = new Set<string>(INCLUDABLE);
export const LOGPROBS = 'message.output_text.logprobs';
export const INPUT_IMAGE_URL = 'message.input_image.image_url';
export const ENCRYPTED_REASONING = 'reasoning.encrypted_content';

/** Accepts repeated `include`, `include[]` and comma-separated forms. */
export function parseInclude(...values: Array<string[] | string | undefined>): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (v === undefined) continue;
    for (const entry of Array.isArray(v) ? v : [v]) {
      for (const part of entry.split(',')) {
        const s = part.trim();
        if (!s) continue;
        if (!ALLOWED.has(s)) throw errors.invalid(`Invalid include value '${s.slice(0, 100)}'. Allowed: ${INCLUDABLE.join(', ')}.`, 'include');
        out.add(s);
      }
    }
  }
  return [...out];
}

export const FILE_SEARCH_RESULTS = 'file_search_call.results';
export const WEB_SEARCH_SOURCES = 'web_search_call.action.sources';
export const CODE_OUTPUTS = 'code_interpreter_call.outputs';

/**
 * What a reader left out: logprobs, file_search results, web_search sources and code_interpreter outputs
 * are stored, and shown only when included.
 */
interface Strip { logprobs: boolean; searchResults: boolean; sources: boolean; codeOutputs: boolean }
const stripOf = (include: string[]): Strip => ({
  logprobs: !include.includes(LOGPROBS), searchResults: !include.includes(FILE_SEARCH_RESULTS), sources: !include.includes(WEB_SEARCH_SOURCES),
  codeOutputs: !include.includes(CODE_OUTPUTS),
});
const KEEP_ALL: Strip = { logprobs: false, searchResults: false, sources: false, codeOutputs: false };

function stripItem(item: Item, s: Strip): Item {
  if (s.searchResults && item?.type === 'file_search_call' && item.results) return { ...item, results: null };
  if (s.codeOutputs && item?.type === 'code_interpreter_call' && item.outputs) return { ...item, outputs: null };
  if (s.sources && item?.type === 'web_search_call' && item.action?.sources) {
    const { sources: _s, ...action } = item.action;
    return { ...item, action };
  }
  if (!s.logprobs || item?.type !== 'message' || !Array.isArray(item.content)) return item;
  if (!item.content.some((p: any) => p?.logprobs)) return item;
  return { ...item, content: item.content.map(({ logprobs: _l, ...p }: any) => p) };
}

function stripResponse(r: ResponseObject, s: Strip): ResponseObject {
  // Most responses have nothing to strip: no copy of the response, nor of its output, then (this runs for every reply).
  let output: Item[] | undefined;
  for (let i = 0; i < r.output.length; i++) {
    const item = r.output[i];
    const stripped = stripItem(item, s);
    if (stripped !== item) (output ??= r.output.slice())[i] = stripped;
  }
  return output ? { ...r, output } : r;
}

export function withoutLogprobs(r: ResponseObject): ResponseObject {
  return stripResponse(r, { ...KEEP_ALL, logprobs: true });
}

export function presentResponse(r: ResponseObject, include: string[]): ResponseObject {
  const s = stripOf(include);
  return s.logprobs || s.searchResults || s.sources || s.codeOutputs ? stripResponse(r, s) : r;
}

/**
 * A stored snapshot (JSON text) as this reader may see it. Sent as stored when nothing is to be
 * stripped, which is the case for almost every response: parsing it only to serialise it again cost
 * retrieve and every poll of a finished response time in proportion to its size. `"logprobs":` can
 * only be a key in JSON text (a quote inside a string value is escaped), so its absence proves there
 * is nothing to strip; its presence (a metadata key, say) only takes the longer way. The same holds
 * for file_search results and `"file_search_call"`.
 */
export function presentStoredResponse(snapshot: string, include: string[]): string {
  const s = stripOf(include);
  const lp = s.logprobs && snapshot.includes('"logprobs":');
  const fs = s.searchResults && snapshot.includes('"file_search_call"');
  const ws = s.sources && snapshot.includes('"web_search_call"');
  const ci = s.codeOutputs && snapshot.includes('"code_interpreter_call"');
  if (!lp && !fs && !ws && !ci) return snapshot;
  return JSON.stringify(stripResponse(JSON.parse(snapshot) as ResponseObject, s));
}

export function presentInputItem(item: Item, include: string[]): Item {
  if (include.includes(INPUT_IMAGE_URL) || item.type !== 'message' || !Array.isArray(item.content)) return item;
  if (!item.content.some((p: any) => p?.type === 'input_image' && p.image_url)) return item;
  return { ...item, content: item.content.map((p: any) => (p?.type === 'input_image' ? { ...p, image_url: null } : p)) };
}

/** SSE rewrite that removes logprobs from events of a response generated with them. */
export function logprobsStripper(type: string, json: string): string {
  // Most events have no logprob at all: a two-character search rules them out several times faster
  // than the full pattern's (whose search set-up costs more than the scan of a short event).
  if (!json.includes('[{') || !json.includes('"logprobs":[{')) return json;
  const ev = JSON.parse(json);
  if ('logprobs' in ev) ev.logprobs = [];
  if (ev.part?.logprobs) delete ev.part.logprobs;
  const s = { ...KEEP_ALL, logprobs: true };
  if (ev.item) ev.item = stripItem(ev.item, s);
  if (ev.response) ev.response = stripResponse(ev.response, s);
  void type;
  return JSON.stringify(ev);
}

/** SSE rewrite that removes file_search results and web_search sources from the items and responses events carry. */
function searchStripper(s: Strip) {
  return (_type: string, json: string): string => {
    const fs = s.searchResults && json.includes('"file_search_call"') && json.includes('"results":[');
    const ws = s.sources && json.includes('"web_search_call"') && json.includes('"sources":[');
    const ci = s.codeOutputs && json.includes('"code_interpreter_call"') && json.includes('"outputs":[');
    if (!fs && !ws && !ci) return json;
    const ev = JSON.parse(json);
    if (ev.item) ev.item = stripItem(ev.item, s);
    if (ev.response) ev.response = stripResponse(ev.response, s);
    return JSON.stringify(ev);
  };
}

/**
 * The rewrite a stream needs for what its reader did not include; undefined when nothing can need it.
 * `fileSearch` / `webSearch`: whether the response offered those tools — only then can an event carry
 * search results or sources, and a response without them is spared a search of every event's text.
 */
export function streamRewrite(
  include: string[], response: { fileSearch: boolean; webSearch?: boolean; codeInterpreter?: boolean },
): ((type: string, json: string) => string) | undefined {
  const s = stripOf(include);
  const search = {
    ...KEEP_ALL, searchResults: s.searchResults && response.fileSearch, sources: s.sources && Boolean(response.webSearch),
    codeOutputs: s.codeOutputs && Boolean(response.codeInterpreter),
  };
  const results = search.searchResults || search.sources || search.codeOutputs ? searchStripper(search) : undefined;
  if (s.logprobs && results) return (type, json) => results(type, logprobsStripper(type, json));
  if (s.logprobs) return logprobsStripper;
  return results;
}
