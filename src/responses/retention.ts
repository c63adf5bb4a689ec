// Data lifecycle: with RETENTION_DAYS set, responses (with their events and items) older than that are
// deleted by a periodic sweep. Default: keep forever.
import type { Logger } from 'pino';
import type { Store } from '../store/types.js';

export function startRetention(store: Store, days: number | undefined, log: Logger, everyMs = 3_600_000): () => void {
  if (!days) return () => {};
  const sweep = async () => {
    try {
      const n = await store.deleteOlderThan(Math.floor(Date.now() / 1000) - days * 86_400);
      if (n) log.info({ deleted: n, days }, 'retention: deleted old responses');
    } catch (err) {
      log.error({ err }, 'retention sweep failed');
    }
  };
  void sweep();
  const timer = setInterval(sweep, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
