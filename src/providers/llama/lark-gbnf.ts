// A Lark grammar (the `lark` syntax of custom tools) as a GBNF grammar for the arguments
// `{"input":"<string>"}`: the engine can then only produce an input the grammar derives, JSON-escaped.
// Supported: rules and terminals (`name: …`, `NAME: …`, `?`/`!` prefixes, priorities, `-> alias`),
// `|` (also on continuation lines), `( )`, `[ ]`, `? * +`, `~ n` and `~ n..m`, "strings" (with the `i`
// flag), "a".."z" ranges, /regex/ (no flags), `%import common.X` for Lark's common terminals, and `//`
// comments. `%ignore` is dropped: the grammar then produces no ignored text, still a sentence of the
// Lark grammar. `%declare`, `%override` and templates are refused. The start rule is `start`.
import { jsonCharRange, jsonLiteral, regexExpression } from './regex-gbnf.js';

/** Lark's common.lark terminals, as regexes. */
const COMMON: Record<string, string> = {
  DIGIT: '[0-9]', HEXDIGIT: '[a-fA-F0-9]', INT: '[0-9]+', SIGNED_INT: '[+-]?[0-9]+',
  DECIMAL: '[0-9]+\\.[0-9]*|\\.[0-9]+', FLOAT: '([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+',
  SIGNED_FLOAT: '[+-]?(([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)',
  NUMBER: '[0-9]+(\\.[0-9]*)?([eE][+-]?[0-9]+)?|\\.[0-9]+([eE][+-]?[0-9]+)?',
  SIGNED_NUMBER: '[+-]?([0-9]+(\\.[0-9]*)?([eE][+-]?[0-9]+)?|\\.[0-9]+([eE][+-]?[0-9]+)?)',
  LETTER: '[a-zA-Z]', LCASE_LETTER: '[a-z]', UCASE_LETTER: '[A-Z]', WORD: '[a-zA-Z]+', CNAME: '[_a-zA-Z][_a-zA-Z0-9]*',
  WS: '[ \\t\\f\\r\\n]+', WS_INLINE: '[ \\t]+', NEWLINE: '(\\r?\\n)+', CR: '\\r', LF: '\\n', ESCAPED_STRING: '"([^"\\\\]|\\\\.)*"',
};

const TOKEN = /\s+|"(?:\\.|[^"\\])*"i?|\/(?:\\.|[^/\\])+\/[imslux]*|->|\.\.|[?!]?[_a-zA-Z][_a-zA-Z0-9]*|\d+|[:|()[\]?*+~]/gy;

const ruleName = (name: string) => `l-${name.replace(/_/g, '-')}`;

function unquote(s: string): string {
  return JSON.parse(s.replace(/\\(?!["\\/bfnrtu])/g, '\\\\')) as string;
}

function caseless(text: string): string {
  return [...text].map((c) => (c.toLowerCase() === c.toUpperCase() ? jsonLiteral(c) : `(${jsonLiteral(c.toLowerCase())} | ${jsonLiteral(c.toUpperCase())})`)).join(' ');
}

class Expr {
  private i = 0;
  constructor(private readonly toks: string[], private readonly used: Set<string>) {}

  parse(): string {
    const e = this.alternatives();
    if (this.i < this.toks.length) throw new Error(`unexpected '${this.toks[this.i]}'`);
    return e;
  }

  private alternatives(): string {
    const alts = [this.sequence()];
    while (this.toks[this.i] === '|') {
      this.i++;
      alts.push(this.sequence());
    }
    return alts.length === 1 ? alts[0]! : `(${alts.join(' | ')})`;
  }

  private sequence(): string {
    const parts: string[] = [];
    for (;;) {
      const t = this.toks[this.i];
      if (t === undefined || t === '|' || t === ')' || t === ']') break;
      if (t === '->') {
        this.i += 2; // an alias names the tree node; the language is the same
        continue;
      }
      parts.push(this.quantified(this.atom()));
    }
    return parts.length ? parts.join(' ') : '""';
  }

  private quantified(atom: string): string {
    const t = this.toks[this.i];
    if (t === '?' || t === '*' || t === '+') {
      this.i++;
      return `(${atom})${t}`;
    }
    if (t === '~') {
      const n = this.toks[this.i + 1];
      if (!n || !/^\d+$/.test(n)) throw new Error('~ needs a number');
      this.i += 2;
      if (this.toks[this.i] === '..') {
        const m = this.toks[this.i + 1];
        if (!m || !/^\d+$/.test(m)) throw new Error('~ n..m needs two numbers');
        this.i += 2;
        return `(${atom}){${n},${m}}`;
      }
      return `(${atom}){${n}}`;
    }
    return atom;
  }

  private atom(): string {
    const t = this.toks[this.i++];
    if (t === undefined) throw new Error('unexpected end of rule');
    if (t === '(' || t === '[') {
      const inner = this.alternatives();
      const close = t === '(' ? ')' : ']';
      if (this.toks[this.i++] !== close) throw new Error(`missing '${close}'`);
      return t === '(' ? `(${inner})` : `(${inner})?`;
    }
    if (t.startsWith('"')) {
      const flagI = t.endsWith('i') && !t.endsWith('"');
      const text = unquote(flagI ? t.slice(0, -1) : t);
      if (this.toks[this.i] === '..') {
        const to = this.toks[this.i + 1];
        if (!to?.startsWith('"')) throw new Error('a range needs two strings');
        this.i += 2;
        const [a, b] = [text, unquote(to)].map((s) => [...s]);
        if (a!.length !== 1 || b!.length !== 1) throw new Error('a range is between single characters');
        return jsonCharRange(a![0]!.codePointAt(0)!, b![0]!.codePointAt(0)!);
      }
      return flagI ? `(${caseless(text)})` : jsonLiteral(text);
    }
    if (t.startsWith('/')) {
      const end = t.lastIndexOf('/');
      if (end < t.length - 1) throw new Error(`regex flags (${t.slice(end + 1)}) are not supported`);
      return `(${regexExpression(t.slice(1, end).replace(/\\\//g, '/'))})`;
    }
    if (/^[_a-zA-Z]/.test(t)) {
      this.used.add(t);
      return ruleName(t);
    }
    throw new Error(`unexpected '${t}'`);
  }
}

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) throw new Error(`cannot read '${text.slice(at, at + 20)}'`);
    if (!/^\s+$/.test(m[0])) out.push(m[0]);
  }
  return out;
}

/** GBNF rules for a Lark grammar; `body` derives the start rule's strings (JSON-escaped). */
export function larkRules(grammar: string): { body: string; rules: string } {
  // Each name's Lark text, or its GBNF when it was imported.
  const defs = new Map<string, { lark: string } | { gbnf: string }>();
  const used = new Set<string>();
  let current: string | undefined;
  for (const raw of grammar.split(/\r?\n/)) {
    const line = raw.replace(/^\s*\/\/.*$/, '');
    if (!line.trim()) continue;
    const directive = /^\s*%(\w+)\s*(.*)$/.exec(line);
    if (directive) {
      current = undefined;
      const [, kind, rest] = directive;
      if (kind === 'ignore') continue;
      if (kind !== 'import') throw new Error(`%${kind} is not supported`);
      const m = /^common\.(\w+)(?:\s*->\s*(\w+))?$/.exec(rest!.trim()) ?? /^common\s*\(([\w\s,]+)\)$/.exec(rest!.trim());
      if (!m) throw new Error(`only imports from common are supported: ${rest}`);
      const names = m[1]!.includes(',') || /\s/.test(m[1]!.trim()) ? m[1]!.split(',').map((n) => n.trim()) : [m[1]!];
      for (const n of names) {
        if (!COMMON[n]) throw new Error(`common.${n} is not known`);
        defs.set(m[2] ?? n, { gbnf: `(${regexExpression(COMMON[n]!)})` });
      }
      continue;
    }
    const def = /^\s*[?!]?([_a-zA-Z][_a-zA-Z0-9]*)(?:\.-?\d+)?\s*:(.*)$/.exec(line);
    if (def) {
      current = def[1]!;
      if (defs.has(current)) throw new Error(`'${current}' is defined twice`);
      defs.set(current, { lark: def[2]! });
      continue;
    }
    if (!current) throw new Error(`a line outside any rule: '${line.trim().slice(0, 40)}'`);
    defs.set(current, { lark: `${(defs.get(current) as { lark: string }).lark}\n${line}` });
  }
  if (!defs.has('start')) throw new Error('the grammar has no start rule');
  const rules: string[] = [];
  for (const [name, d] of defs) {
    const expr = 'gbnf' in d ? d.gbnf : new Expr(tokenize(d.lark), used).parse();
    rules.push(`${ruleName(name)} ::= ${expr}`);
  }
  for (const n of used) if (!defs.has(n)) throw new Error(`'${n}' is used but not defined`);
  return { body: ruleName('start'), rules: `${rules.join('\n')}\n` };
}
