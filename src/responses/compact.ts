// POST /responses/compact: shortens a history to its user messages plus one `compaction` item whose
// content is a summary the model writes of everything else. The summary is plain text (this server has
// no opaque encrypted state), and context.ts turns a compaction item given as input into a system
// message, so it works with every provider. Nothing is stored.
import { errors, fromBackend } from '../wire/errors.js';
import type { ProviderRouter } from '../providers/router.js';
import { ProviderError } from '../providers/types.js';
import { newId, RESPONSE_ID } from '../wire/ids.js';
import { normalizeInput } from '../wire/input.js';
import { openHistoryReasoning, openInputReasoning } from './reasoning.js';
import type { ResponsesService } from '../responses/service.js';
import { fitContext } from '../responses/truncate.js';
import { emptyUsage, type Item, type UsageObject } from '../wire/types.js';
import { addUsage } from '../responses/usage.js';
import type { Owner } from '../store/types.js';
import type { CancelSignal } from '../util/cancel.js';

export interface CompactBody {
  model: string;
  input?: string | unknown[] | null;
  instructions?: string | null;
  previous_response_id?: string | null;
  prompt_cache_key?: string | null;
}

const DIRECTIVE = 'Write a concise summary of the conversation so far, to be used in place of it from now on. '
  + 'Keep every fact, decision, name, number, open question and tool result that later turns may need. '
  + 'Write only the summary.';
const SUMMARY_MAX_TOKENS = 1024;

export async function compact(
  deps: { router: ProviderRouter; responses: ResponsesService },
  owner: Owner, body: CompactBody, signal: CancelSignal,
) {
  if (body.previous_response_id && !RESPONSE_ID.test(body.previous_response_id)) {
    throw errors.invalid(`Invalid previous_response_id '${body.previous_response_id.slice(0, 100)}'.`, 'previous_response_id');
  }
  const resolved = await deps.router.resolve(body.model);
  const history = body.previous_response_id ? await deps.responses.chainItems(owner, body.previous_response_id) : [];
  const given = normalizeInput(body.input).items;
  // Encrypted reasoning is opened as for a response (a 400 naming the item when it does not open).
  openInputReasoning(given, owner, deps.responses.executor.sealer);
  openHistoryReasoning(history, owner, deps.responses.executor.sealer);
  const input = given.map((it, i) => {
    if (it.type !== 'item_reference') return it;
    const found = history.find((h) => h.id === it.id);
    if (!found) throw errors.invalid(`Item reference '${it.id}' does not name an item of the previous responses.`, `input[${i}].id`);
    return found;
  });
  const items: Item[] = [...history, ...input];
  if (!items.length) throw errors.invalid('Nothing to compact: give input, previous_response_id, or both.', 'input');

  const messages = await fitContext({
    provider: resolved.provider, model: resolved.model, truncation: 'auto', instructions: body.instructions ?? null,
    history: items, input: [{ type: 'message', id: 'directive', role: 'user', content: [{ type: 'input_text', text: DIRECTIVE }] }],
    maxOutputTokens: SUMMARY_MAX_TOKENS,
  });
  let summary = '';
  const usage: UsageObject = emptyUsage();
  try {
    for await (const ev of resolved.provider.generate({
      model: resolved.model, messages, maxOutputTokens: SUMMARY_MAX_TOKENS, temperature: 0.2, signal,
    })) {
      if (ev.type === 'text') summary += ev.delta;
      else if (ev.type === 'usage') addUsage(usage, ev.usage);
    }
  } catch (err) {
    if (err instanceof ProviderError) {
      throw fromBackend(err, 'The model could not write the summary: ');
    }
    throw err;
  }

  const userMessages = items.filter((it) => it.type === 'message' && it.role === 'user');
  return {
    id: newId('resp'),
    object: 'response.compaction' as const,
    created_at: Math.floor(Date.now() / 1000),
    output: [...userMessages, { type: 'compaction', id: newId('cmp'), encrypted_content: summary.trim() }],
    usage,
  };
}
