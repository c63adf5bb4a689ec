// The usage of a proxied chat completion, read from the last bytes of the upstream's body: the JSON
// answer ends with its `usage` object, and a stream with `stream_options.include_usage` sends it in its
// last chunk before [DONE]. The proxy keeps only the tail (TailKeeper), so the pass-through stays a
// buffer copy per chunk; the tail is searched once, when the body has ended.

// The usage object and what may follow it (OpenAI: `service_tier`, `system_fingerprint`; a stream's `[DONE]`).
const TAIL_BYTES = 1024;

export class TailKeeper {
  private chunks: Uint8Array[] = [];
  private size = 0;

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.size += chunk.byteLength;
    while (this.chunks.length > 1 && this.size - this.chunks[0].byteLength >= TAIL_BYTES) this.size -= this.chunks.shift()!.byteLength;
  }

  text(): string {
    // One large chunk (a long non-streamed answer) is cut to the tail too; a character split at the cut is
    // far from the usage object.
    const all = this.chunks.length === 1 ? Buffer.from(this.chunks[0].buffer, this.chunks[0].byteOffset, this.chunks[0].byteLength) : Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - TAIL_BYTES)).toString('utf8');
  }
}

export interface ChatTokens { input: number; output: number; cached: number }

/** The last non-null `"usage": {…}` of the text, in chat-completion words; undefined if there is none. */
export function usageFromTail(text: string): ChatTokens | undefined {
  let at = text.length;
  for (;;) {
    at = text.lastIndexOf('"usage"', at - 1);
    if (at < 0) return undefined;
    let i = at + 7;
    while (text[i] === ' ' || text[i] === ':' || text[i] === '\n' || text[i] === '\t' || text[i] === '\r') i++;
    if (text[i] !== '{') continue;
    // Usage objects hold numbers and nested objects only: braces balance without looking at strings.
    let depth = 0;
    let j = i;
    for (; j < text.length; j++) {
      if (text[j] === '{') depth++;
      else if (text[j] === '}' && --depth === 0) break;
    }
    if (depth !== 0) return undefined;
    try {
      const u = JSON.parse(text.slice(i, j + 1));
      return {
        input: num(u.prompt_tokens ?? u.input_tokens), output: num(u.completion_tokens ?? u.output_tokens),
        cached: num(u.prompt_tokens_details?.cached_tokens ?? u.input_tokens_details?.cached_tokens),
      };
    } catch {
      return undefined;
    }
  }
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);
