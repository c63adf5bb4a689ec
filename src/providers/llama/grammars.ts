// Grammars that constrain sampling: JSON output formats and forced tool calls.
// Why a cache: turning a schema into GBNF and parsing it natively costs milliseconds, and agents send
// the same response schema / tool list on every turn. Grammar objects are immutable and shareable;
// each generation creates its own evaluation state from them.

import type { Llama, LlamaGrammar } from 'node-llama-cpp';
import { ProviderError, type FunctionToolDef, type ResponseFormat } from '../types.js';
import { toGbnfSchema } from './json-schema.js';
import { larkRules } from './lark-gbnf.js';
import { inputGrammar, regexInputGrammar } from './regex-gbnf.js';

export class GrammarCache {
  private readonly entries = new Map<string, Promise<LlamaGrammar>>();

  constructor(
    private readonly llama: Llama,
    private readonly maxEntries = 64,
  ) {}

  private get(key: string, create: () => Promise<LlamaGrammar>): Promise<LlamaGrammar> {
    const hit = this.entries.get(key);
    if (hit) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const created = create();
    this.entries.set(key, created);
    created.catch(() => this.entries.delete(key)); // never cache failures
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return created;
  }

  private jsonSchema(schema: Record<string, unknown>, what: string): Promise<LlamaGrammar> {
    return this.get(`schema:${JSON.stringify(schema)}`, async () => {
      try {
        // The converted schema is in node-llama-cpp's dialect; its static type is too strict to name here.
        return await this.llama.createGrammarForJsonSchema(toGbnfSchema(schema) as never);
      } catch (err) {
        throw new ProviderError(
          `${what} could not be turned into a grammar: ${err instanceof Error ? err.message : String(err)}`,
          400,
          false,
          'invalid_json_schema',
        );
      }
    });
  }

  /** Grammar for `text.format` / `response_format`, or undefined for plain text. */
  forResponseFormat(format: ResponseFormat | undefined): Promise<LlamaGrammar | undefined> {
    if (!format || format.type === 'text') return Promise.resolve(undefined);
    if (format.type === 'json_object') return this.get('json', () => this.llama.getGrammarFor('json'));
    return this.jsonSchema(format.schema ?? {}, `The JSON schema "${format.name}"`);
  }

  /** Grammar for a tool's arguments object. A tool without parameters takes exactly `{}`. */
  forToolArguments(tool: FunctionToolDef): Promise<LlamaGrammar> {
    const g = tool.inputGrammar;
    if (g) return this.customInput(tool.name, g.syntax, g.definition);
    const schema = tool.parameters ?? { type: 'object', properties: {}, additionalProperties: false };
    return this.jsonSchema(schema, `The parameters of tool "${tool.name}"`);
  }

  /** `{"input": string}` where the string matches a custom tool's regex or Lark grammar. */
  private customInput(name: string, syntax: 'regex' | 'lark', definition: string): Promise<LlamaGrammar> {
    return this.get(`${syntax}:${definition}`, async () => {
      try {
        const gbnf = syntax === 'regex' ? regexInputGrammar(definition) : (({ body, rules }) => inputGrammar(body, rules))(larkRules(definition));
        return await this.llama.createGrammar({ grammar: gbnf });
      } catch (err) {
        throw new ProviderError(
          `The ${syntax} grammar of tool "${name}" could not be turned into a grammar: ${err instanceof Error ? err.message : String(err)}`,
          400,
          false,
          'invalid_grammar',
        );
      }
    });
  }

  /** Grammar that emits exactly one of the tool names (used to pick a tool for tool_choice=required). */
  forToolName(names: string[]): Promise<LlamaGrammar> {
    const literal = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
    const grammar = `root ::= ${names.map(literal).join(' | ')}`;
    return this.get(`names:${grammar}`, () => this.llama.createGrammar({ grammar }));
  }
}
