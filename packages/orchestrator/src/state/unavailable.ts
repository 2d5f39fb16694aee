/**
 * Whether an error means the state store could not be reached or could not serve now (as opposed
 * to a defect): the one place that knows how each backend reports that. ioredis fails a command
 * whose connection is gone (after `maxRetriesPerRequest` reconnection attempts, or at once on a
 * closed client); better-sqlite3 reports a busy, locked, full or unreadable database file.
 */
export function isStoreUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  if (/^Connection is closed\.?$|^Stream isn't writeable/.test(err.message)) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND)$/.test(code)) return true;
  return /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY)/.test(code);
}
