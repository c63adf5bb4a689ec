// What an SDK call ended with, for tests of refusals: 200 when it succeeded, else the HTTP status and the
// error's `param` and `code` (anything that is not an API error is rethrown: a test must not pass on it).
import OpenAI from 'openai';

export interface ApiOutcome {
  status: number;
  param?: string | null;
  code?: string | null;
}

export async function status(p: Promise<unknown>): Promise<ApiOutcome> {
  try {
    await p;
    return { status: 200 };
  } catch (e) {
    if (!(e instanceof OpenAI.APIError)) throw e;
    return { status: e.status!, param: (e.error as any)?.param, code: (e.error as any)?.code };
  }
}
