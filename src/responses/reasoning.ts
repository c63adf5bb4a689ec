// Reasoning items given as input or found in history: their text, and the opening of their
// `encrypted_content`. The opened text is kept on the item under a symbol, so it reaches the model
// (context.ts) but never a stored or returned JSON: JSON.stringify skips symbol keys.
import { errors } from '../wire/errors.js';
import type { Owner } from '../store/types.js';
import type { ReasoningSealer } from './sealed-reasoning.js';
import type { Item } from '../wire/types.js';

const OPENED = Symbol('opened reasoning');
type WithOpened = Item & { [OPENED]?: string };

/** The reasoning text of an item: its opened encrypted_content, else its reasoning_text parts. */
export function reasoningTextOf(item: Item): string {
  const opened = (item as WithOpened)[OPENED];
  if (opened !== undefined) return opened;
  if (!Array.isArray(item.content)) return '';
  let text = '';
  for (const p of item.content) if (p?.type === 'reasoning_text' && typeof p.text === 'string') text += p.text;
  return text;
}

/** Opens the encrypted reasoning of a request's input items; one that does not open is a 400 naming it. */
export function openInputReasoning(items: Item[], owner: Owner, sealer: ReasoningSealer): void {
  items.forEach((it, i) => {
    if (it.type !== 'reasoning' || typeof it.encrypted_content !== 'string') return;
    try {
      (it as WithOpened)[OPENED] = sealer.open(it.encrypted_content, owner);
    } catch {
      throw errors.invalid(
        `The encrypted_content of input[${i}] could not be opened: it was changed or cut, or it was sealed for another API key or end user.`,
        `input[${i}].encrypted_content`, 'invalid_encrypted_content',
      );
    }
  });
}

/**
 * Stored items of earlier turns: a reasoning item that was sent encrypted (and stored as sent) opened
 * when it was accepted; should its key be gone since, it is left out rather than fail the request.
 */
export function openHistoryReasoning(items: Item[], owner: Owner, sealer: ReasoningSealer): void {
  for (const it of items) {
    if (it.type !== 'reasoning' || typeof it.encrypted_content !== 'string' || reasoningTextOf(it)) continue;
    try {
      (it as WithOpened)[OPENED] = sealer.open(it.encrypted_content, owner);
    } catch {
      /* see above */
    }
  }
}
