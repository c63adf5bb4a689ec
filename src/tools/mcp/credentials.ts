// MCP credentials (`headers`, `authorization`) live only in this process's memory, keyed by response id,
// from create until the run ends. They are deliberately absent from the stored request, the Response
// object, events and logs. Consequence: a background response whose job runs after a restart (or on an
// instance that did not accept the request) finds no credentials and fails with a clear reason.

export type ServerHeaders = Record<string, Record<string, string>>; // server_label -> headers

/** Entries of responses that never ran (cancelled while queued, crashed) expire on their own. */
const TTL_MS = 24 * 60 * 60 * 1000;

export class CredentialVault {
  private entries = new Map<string, { headers: ServerHeaders; timer: NodeJS.Timeout }>();

  set(responseId: string, headers: ServerHeaders): void {
    if (!Object.keys(headers).length) return;
    this.delete(responseId);
    const timer = setTimeout(() => this.entries.delete(responseId), TTL_MS);
    timer.unref();
    this.entries.set(responseId, { headers, timer });
  }

  get(responseId: string): ServerHeaders | undefined {
    return this.entries.get(responseId)?.headers;
  }

  delete(responseId: string): void {
    const e = this.entries.get(responseId);
    if (e) clearTimeout(e.timer);
    this.entries.delete(responseId);
  }
}

/** One vault per process: the service writes, the runner of the same process reads. */
export const credentialVault = new CredentialVault();
