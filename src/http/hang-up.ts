// A caller that hangs up before its reply is finished gets no answer: whatever the request started
// (an upstream call, a generation) should stop rather than run on orphaned. `res` emits 'close' both
// when the reply was sent and when the client left first; only the latter has an unfinished reply.
import type { ServerResponse } from 'node:http';
import { Cancel } from '../util/cancel.js';

/** Runs `fn` if the client leaves before the reply is finished. */
export function onHangUp(res: ServerResponse, fn: () => void): void {
  res.on('close', () => {
    if (!res.writableFinished) fn();
  });
}

/** Aborts `cancel` (a new one by default) with `reason` if the client leaves before the reply is finished. */
export function cancelOnHangUp(res: ServerResponse, cancel = new Cancel(), reason?: unknown): Cancel {
  onHangUp(res, () => cancel.abort(reason));
  return cancel;
}
