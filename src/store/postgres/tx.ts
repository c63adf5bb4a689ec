import type pg from 'pg';
import { isStorageUnavailable } from '../errors.js';

/**
 * Runs `fn` in one transaction on a pooled connection: COMMIT on success, ROLLBACK on any error.
 * A checked-out client has no pool 'error' listener: if the server goes away between two queries,
 * the client emits 'error', which unhandled would end the process. It is caught here, and a client
 * that failed (dropped, timed out) is destroyed on release instead of returned to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => { broken ??= err; };
  c.on('error', onError);
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    // A dead or hung connection cannot roll back (the server discards the transaction anyway).
    if (broken || isStorageUnavailable(err)) broken ??= err as Error;
    else await c.query('ROLLBACK').catch((e: Error) => { broken = e; });
    throw err;
  } finally {
    c.off('error', onError);
    c.release(broken);
  }
}
