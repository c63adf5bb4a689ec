// Errors that mean "the store cannot take writes right now" (busy, locked, full, unreachable), as
// opposed to errors caused by what was written. The first are answered with a retryable 503 and
// retried as they are; the second point at one request's data.
const STORE_ERRORS = /^(SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL)|ECONNREFUSED|ECONNRESET|ETIMEDOUT|57P0[1-3]|53300|08\d{3})/;
// node-postgres' own errors for a dropped or hung server carry no code, only these messages.
const PG_CLIENT_ERRORS = /^(Connection terminated|Query read timeout|timeout exceeded when trying to connect|Client (has encountered a connection error|was closed) and is not queryable)/;

export function isStorageUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return STORE_ERRORS.test(code);
  const message = (err as { message?: unknown } | null)?.message;
  return err instanceof Error && typeof message === 'string' && PG_CLIENT_ERRORS.test(message);
}
