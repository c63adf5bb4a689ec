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

/** A cursor page as every list endpoint sends it. */
export interface ListPage<T> {
  object: 'list';
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/**
 * The list page of `rows` read with one more than `limit` (that extra row only says `has_more`), each
 * row shown as the API shows it by `present`.
 */
export function toListPage<R, T extends { id?: string | null }>(rows: R[], limit: number, present: (row: R) => T): ListPage<T> {
  const data = (rows.length > limit ? rows.slice(0, limit) : rows).map(present);
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: rows.length > limit };
}
