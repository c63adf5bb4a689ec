// `respd export-conversation <conv_id>`: the conversation and all its items as one JSON document, read
// through the API (GET /conversations/{id} and every page of its items, oldest first).
import { writeFileSync } from 'node:fs';
import { parse } from './args.js';
import { connect, HTTP_OPTIONS } from './http-client.js';

export const usage = `respd export-conversation <conversation_id> [--output FILE] [--url URL] [--key KEY]
  Print (or write to FILE) {"conversation": …, "items": [...]} with every item, oldest first.`;

const PAGE = 100;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...HTTP_OPTIONS, output: { type: 'string', short: 'o' } }, { names: ['conversation_id'] });
  const api = connect(values);
  const id = encodeURIComponent(positionals[0]!);
  const conversation = await api.json<Record<string, unknown>>(`/conversations/${id}`);
  const items: Array<{ id: string }> = [];
  for (let after: string | undefined; ;) {
    const q = new URLSearchParams({ order: 'asc', limit: String(PAGE) });
    if (after) q.set('after', after);
    const page = await api.json<{ data: Array<{ id: string }>; has_more: boolean; last_id: string | null }>(`/conversations/${id}/items?${q}`);
    items.push(...page.data);
    if (!page.has_more || !page.last_id) break;
    after = page.last_id;
  }
  const doc = `${JSON.stringify({ conversation, items }, null, 2)}\n`;
  if (values.output) {
    writeFileSync(values.output, doc);
    process.stderr.write(`wrote ${items.length} item(s) of ${positionals[0]} to ${values.output}\n`);
  } else {
    process.stdout.write(doc);
  }
  return 0;
}
