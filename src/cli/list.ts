// `respd list`: the key's responses, newest first, through the API's list endpoint (GET /responses), so
// it shows what that tenant sees and works against any instance.
import { intOption, parse, UsageError } from './args.js';
import { connect, HTTP_OPTIONS } from './http-client.js';

export const usage = `respd list [--limit N] [--order desc|asc] [--after ID] [--json] [--url URL] [--key KEY]
  List the responses of the key's tenant: id, status, created, model, output tokens (--json: the API's page).`;

interface ResponseJson { id: string; status: string; created_at: number; model?: string; background?: boolean; usage?: { output_tokens?: number } | null }

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    ...HTTP_OPTIONS,
    limit: { type: 'string' },
    order: { type: 'string' },
    after: { type: 'string' },
    json: { type: 'boolean' },
  }, { names: [] });
  const limit = intOption('limit', values.limit, 1, 100) ?? 20;
  if (values.order !== undefined && values.order !== 'asc' && values.order !== 'desc') throw new UsageError(`--order must be asc or desc, got '${values.order}'`);
  const api = connect(values);
  const q = new URLSearchParams({ limit: String(limit), order: values.order ?? 'desc' });
  if (values.after) q.set('after', values.after);
  const page = await api.json<{ data: ResponseJson[]; has_more: boolean; last_id: string | null }>(`/responses?${q}`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
    return 0;
  }
  const rows = page.data.map((r) => [
    r.id, r.status, new Date(r.created_at * 1000).toISOString().replace('.000', ''), r.model ?? '',
    r.background ? 'background' : '', String(r.usage?.output_tokens ?? ''),
  ]);
  printTable(['ID', 'STATUS', 'CREATED', 'MODEL', 'MODE', 'OUT TOKENS'], rows);
  if (page.has_more) process.stderr.write(`more: respd list --after ${page.last_id}\n`);
  return 0;
}

export function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
}
