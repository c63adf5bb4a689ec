import type { PageQuery, StoredItem } from './types.js';

/** Cursor page over a response's items (few enough to page in memory): order, then `after`, then limit. */
export function pageItems(items: StoredItem[], q: PageQuery): StoredItem[] {
  const all = q.order === 'desc' ? [...items].reverse() : items;
  let start = 0;
  if (q.after) {
    const i = all.findIndex((it) => it.id === q.after);
    if (i < 0) return [];
    start = i + 1;
  }
  return all.slice(start, start + q.limit);
}
