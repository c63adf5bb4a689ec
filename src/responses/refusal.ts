// A request a guardrail blocked (guardrails/service.ts): the response is created, stored and streamed
// like any other, but instead of a model run it gets one assistant message whose content is a `refusal`
// part carrying the guardrail's rejection message, and completes with zero usage: no model call, no
// tokens. (MKA1 documents no status for a blocked request; its reference app treats a refusal part as
// the failure signal, and this is the shape OpenAI gives a refusal.)
import { newId } from '../wire/ids.js';
import { emptyUsage } from '../wire/types.js';
import { credentialVault } from '../tools/mcp/credentials.js';
import type { LiveLog } from './live-log.js';
import { finalize } from './runner.js';

export function refuse(log: LiveLog, message: string): Promise<void> {
  // Ends on a later turn of the event loop, as a run does: the caller attaches its reader first.
  return new Promise((resolve) => setImmediate(() => {
    credentialVault.delete(log.id);
    log.append({ type: 'response.in_progress', response: { ...log.state, status: 'in_progress' } });
    const item_id = newId('msg');
    const at = { item_id, output_index: log.state.output.length, content_index: 0 };
    log.append({ type: 'response.output_item.added', output_index: at.output_index, item: { id: item_id, type: 'message', status: 'in_progress', role: 'assistant', content: [] } });
    log.append({ type: 'response.content_part.added', ...at, part: { type: 'refusal', refusal: '' } });
    log.append({ type: 'response.refusal.delta', ...at, delta: message });
    log.append({ type: 'response.refusal.done', ...at, refusal: message });
    const part = { type: 'refusal' as const, refusal: message };
    log.append({ type: 'response.content_part.done', ...at, part });
    log.append({ type: 'response.output_item.done', output_index: at.output_index, item: { id: item_id, type: 'message', status: 'completed', role: 'assistant', content: [part] } });
    finalize(log, { status: 'completed', usage: emptyUsage() });
    resolve();
  }));
}
