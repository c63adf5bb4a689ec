// Errors that mean "the store cannot take writes right now" (busy, locked, full, unreachable), as
// opposed to errors caused by what was written. The first are answered with a retryable 503 and
// retried as they are; the second point at one request's data.
const STORE_ERRORS = /^(SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL)|ECONNREFUSED|ECONNRESET|ETIMEDOUT|57P0[1-3]|53300|08\d{3})/;

export function isStorageUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STORE_ERRORS.test(code);
}
