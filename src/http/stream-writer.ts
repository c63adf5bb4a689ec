// The one way the server writes a stream to a client: /responses SSE, generated chat-completion chunks
// and proxied upstream bytes all go through writeStream. After a write the socket refuses it waits for
// 'drain' *or* 'close' (Node emits no 'drain' once the client is gone, so waiting for 'drain' alone
// hangs forever), and a client that leaves stops the source: its iterator is returned, so a generator
// runs its `finally` and a readable body is destroyed (which closes an upstream connection).
import type { ServerResponse } from 'node:http';
import { WriteCoalescer } from './write-coalescer.js';

/** 'done': the source ended and everything was handed to the socket; 'client_gone': the client left first. */
export type StreamEnd = 'done' | 'client_gone';

const CLOSED = Symbol('closed');

/**
 * Writes every chunk of `source` to `res` with backpressure; never ends `res` (the caller may still
 * write a trailer). Rejects only if the source throws.
 */
export async function writeStream(res: ServerResponse, source: AsyncIterable<string | Uint8Array>): Promise<StreamEnd> {
  const it = source[Symbol.asyncIterator]();
  let closed = res.destroyed;
  // One waiter at a time (the pending read or the drain wait), woken by 'close' too.
  let wake: ((v: typeof CLOSED) => void) | undefined;
  const onClose = () => {
    closed = true;
    wake?.(CLOSED);
  };
  res.once('close', onClose);
  // Chunks produced in the same loop turn go out in one write (an ended response needs no uncork: end() flushes).
  const out = new WriteCoalescer(res, () => !res.writableEnded);
  let ended = false;
  try {
    while (!closed) {
      const pending = it.next();
      const next = await new Promise<IteratorResult<string | Uint8Array> | typeof CLOSED>((resolve, reject) => {
        wake = resolve;
        pending.then(resolve, reject);
      });
      wake = undefined;
      if (next === CLOSED) {
        pending.catch(() => {}); // settles later (or never): nobody reads it now
        break;
      }
      if (next.done) {
        ended = true;
        return 'done';
      }
      out.hold();
      if (!res.write(next.value) && !closed) {
        out.release();
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            wake = undefined;
            resolve();
          };
          res.on('drain', done);
          wake = done;
        });
      }
    }
    return 'client_gone';
  } catch (err) {
    ended = true; // a source that threw is finished
    throw err;
  } finally {
    res.off('close', onClose);
    // Not awaited: an async generator runs return() only once its pending next() has settled.
    if (!ended) void Promise.resolve(it.return?.()).catch(() => {});
  }
}
