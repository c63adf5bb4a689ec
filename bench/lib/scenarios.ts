// Reply shapes of the bench upstream, chosen per request by the model name so that one upstream
// process serves every scenario: `bench-<chunks>x<chunkSize>-d<delayMs>`.
//   streamed:     a role frame and the first content chunk at once, then one chunk every delayMs,
//                 then a finish frame (+ usage when asked) and [DONE];
//   non-streamed: one chat.completion JSON with the whole text.

export interface ReplyShape {
  chunks: number;
  chunkSize: number;
  delayMs: number;
  /**
   * Barrier (`-b<N>`): each stream sends its first chunk, then waits until N streams of this model are
   * open at once before the rest flows, so N streams are provably held open together.
   */
  barrier?: number;
}

export function modelName(s: ReplyShape): string {
  return `bench-${s.chunks}x${s.chunkSize}-d${s.delayMs}${s.barrier ? `-b${s.barrier}` : ''}`;
}

export function parseModel(name: string): ReplyShape | undefined {
  const m = /^bench-(\d{1,6})x(\d{1,4})-d(\d{1,5})(?:-b(\d{1,6}))?$/.exec(name);
  if (!m) return undefined;
  return { chunks: Number(m[1]), chunkSize: Number(m[2]), delayMs: Number(m[3]), ...(m[4] ? { barrier: Number(m[4]) } : {}) };
}

/** The tiny fixed reply used for latency and throughput: 4 chunks of 8 characters (32 chars). */
export const TINY: ReplyShape = { chunks: 4, chunkSize: 8, delayMs: 0 };
/** A long stream with no delay, for single-stream SSE events/s. */
export const LONG: ReplyShape = { chunks: 10_000, chunkSize: 8, delayMs: 0 };
/** Held-open streams: 60 chunks 50 ms apart (~3 s), released once `n` streams are open together. */
export const held = (n: number): ReplyShape => ({ chunks: 60, chunkSize: 8, delayMs: 50, barrier: n });
/** A stored response of exactly 10,000 events: chunks + 9 framing events (created, queued, in_progress … completed: it is created in the background). */
export const REPLAY: ReplyShape = { chunks: 9_991, chunkSize: 8, delayMs: 0 };

/** A slow stream for cross-instance latency (scale section): 200 chunks, 10 ms apart (≈2 s). */
export const SLOW: ReplyShape = { chunks: 200, chunkSize: 8, delayMs: 10 };

/** Streamed vs blocking CPU (section streamcpu): 10 text chunks, answered at once. */
export const TEN: ReplyShape = { chunks: 10, chunkSize: 8, delayMs: 0 };

export const LISTED_MODELS = [TINY, TEN, LONG, REPLAY, SLOW, held(1000), held(100), held(10)].map(modelName);
