// The continuation cache of one WebSocket connection to /responses, shared by all its lanes
// (`stream_id`). It holds the latest response of each lane with every item of its chain, so a
// `store: false` chain continues without any storage, on its own lane or forked onto another one
// (`previous_response_id` says what a response continues, `stream_id` only where its events go). A turn
// that completes (or ends incomplete) becomes its lane's tip; one that fails evicts the response it
// continued, wherever that is held, so a stale chain is never silently reused. Misses fall back to the store.
import type { ChainCache } from '../responses/service.js';
import type { Item, ResponseObject } from '../wire/types.js';

interface Tip {
  id: string;
  items: Item[];
}

/** One turn's view of the cache: reads the shared tips, remembers what its new response starts from. */
export class ChainTurn implements ChainCache {
  /** Set by the service once the new response's id and chain are known. */
  start: Tip | undefined;

  constructor(private readonly chain: ConnectionChain) {}

  items(id: string): Item[] | undefined {
    return this.chain.items(id);
  }

  started(id: string, items: Item[]): void {
    this.start = { id, items };
  }
}

export class ConnectionChain {
  /** Lane key → its latest response; in order of last update, so the oldest lane's tip goes first. */
  private readonly tips = new Map<string, Tip>();

  /** `maxTips`: tips kept at most (one per lane that may run at once), so unique stream_ids cannot grow memory. */
  constructor(private readonly maxTips: number) {}

  items(id: string): Item[] | undefined {
    for (const t of this.tips.values()) if (t.id === id) return t.items;
    return undefined;
  }

  /** A view for one `create`; pass it back to `ended` with the Response the turn ended with. */
  turn(): ChainTurn {
    return new ChainTurn(this);
  }

  /** A turn of `lane` ended with this Response; `previous` is the id it continued, if any. */
  ended(turn: ChainTurn, r: ResponseObject, previous: string | undefined, lane: string): void {
    const s = turn.start?.id === r.id ? turn.start : undefined;
    if (s && (r.status === 'completed' || r.status === 'incomplete')) {
      this.tips.delete(lane);
      this.tips.set(lane, { id: r.id, items: [...s.items, ...r.output] });
      if (this.tips.size > this.maxTips) this.tips.delete(this.tips.keys().next().value!);
    } else if (previous) {
      this.evict(previous);
    }
  }

  evict(id: string): void {
    for (const [lane, t] of this.tips) if (t.id === id) this.tips.delete(lane);
  }
}
