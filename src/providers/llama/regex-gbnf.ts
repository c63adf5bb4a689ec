// A regular expression as a GBNF grammar for the arguments `{"input":"<string>"}` of a custom tool whose
// input must match it: the engine can then only produce a matching input, already escaped as JSON. The
// whole input must match (as OpenAI's regex format means), so `^`/`$` at the ends are dropped.
// Supported: literals and escapes, `.`, classes (`[a-z]`, `[^…]`, `\d \w \s` and negations), groups
// (`(…)`, `(?:…)`, `(?<name>…)`), `|`, and the quantifiers `* + ? {n} {n,} {n,m}` (lazy or not).
// Backreferences, lookarounds and other anchors cannot be expressed in GBNF and are refused.

const MAX_CHAR = 0x10ffff;
type Range = [number, number];

/** How one code point is written inside a JSON string (the text the model must produce). */
function jsonEscaped(cp: number): string {
  switch (cp) {
    case 0x22: return '\\"';
    case 0x5c: return '\\\\';
    case 0x0a: return '\\n';
    case 0x0d: return '\\r';
    case 0x09: return '\\t';
    case 0x08: return '\\b';
    case 0x0c: return '\\f';
  }
  return cp < 0x20 ? `\\u${cp.toString(16).padStart(4, '0')}` : String.fromCodePoint(cp);
}

const hex = (cp: number) => (cp <= 0xffff ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\U${cp.toString(16).padStart(8, '0')}`);

/** A GBNF string literal of `text` (every character escaped by code point: no quoting pitfalls). */
const literal = (text: string) => `"${[...text].map((c) => hex(c.codePointAt(0)!)).join('')}"`;

/** Characters a JSON string holds unescaped: everything but `"`, `\` and control characters. */
const PLAIN: Range[] = [[0x20, 0x21], [0x23, 0x5b], [0x5d, MAX_CHAR]];

function normalize(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

function complement(ranges: Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [a, b] of normalize(ranges)) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= MAX_CHAR) out.push([next, MAX_CHAR]);
  return out;
}

function intersect(x: Range[], y: Range[]): Range[] {
  const out: Range[] = [];
  for (const [a, b] of x) for (const [c, d] of y) if (Math.max(a, c) <= Math.min(b, d)) out.push([Math.max(a, c), Math.min(b, d)]);
  return normalize(out);
}

/** A set of characters as GBNF: a class of the plain ones, plus the escaped forms of the others. */
function charSet(ranges: Range[]): string {
  const set = normalize(ranges);
  const alts: string[] = [];
  const plain = intersect(set, PLAIN);
  if (plain.length) alts.push(`[${plain.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join('')}]`);
  for (const [a, b] of set) {
    for (let cp = a; cp <= Math.min(b, 0x5c); cp++) {
      if (cp < 0x20 || cp === 0x22 || cp === 0x5c) alts.push(literal(jsonEscaped(cp)));
    }
  }
  if (!alts.length) throw new Error('an empty character class matches nothing');
  return alts.length === 1 ? alts[0]! : `(${alts.join(' | ')})`;
}

const DIGIT: Range[] = [[0x30, 0x39]];
const WORD: Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const SPACE: Range[] = [[0x09, 0x0d], [0x20, 0x20]];

class Parser {
  private i = 0;
  constructor(private readonly src: string) {}

  parse(): string {
    const body = this.alternation();
    if (this.i < this.src.length) throw new Error(`unexpected '${this.src[this.i]}' at ${this.i}`);
    return body;
  }

  private peek(): string | undefined {
    return this.src[this.i];
  }

  private alternation(): string {
    const alts = [this.sequence()];
    while (this.peek() === '|') {
      this.i++;
      alts.push(this.sequence());
    }
    return alts.length === 1 ? alts[0]! : `(${alts.join(' | ')})`;
  }

  private sequence(): string {
    const parts: string[] = [];
    while (this.i < this.src.length && this.peek() !== '|' && this.peek() !== ')') {
      parts.push(this.quantified(this.atom()));
    }
    return parts.length ? parts.join(' ') : '""';
  }

  private quantified(atom: string): string {
    const c = this.peek();
    let q: string | undefined;
    if (c === '*' || c === '+' || c === '?') {
      this.i++;
      q = c;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      if (m) {
        this.i += m[0].length;
        q = m[2] === undefined ? `{${m[1]}}` : `{${m[1]},${m[3]}}`;
      }
    }
    if (q === undefined) return atom;
    if (this.peek() === '?') this.i++; // lazy: the same language
    return `(${atom})${q}`;
  }

  private atom(): string {
    const c = this.src[this.i++]!;
    switch (c) {
      case '(': {
        if (this.src.startsWith('?:', this.i)) this.i += 2;
        else if (this.src.startsWith('?<', this.i) && !/^\?<[=!]/.test(this.src.slice(this.i))) this.i = this.src.indexOf('>', this.i) + 1;
        else if (this.peek() === '?') throw new Error('lookarounds cannot be expressed as a grammar');
        const inner = this.alternation();
        if (this.src[this.i++] !== ')') throw new Error('unbalanced parenthesis');
        return `(${inner})`;
      }
      case '[': return charSet(this.charClass());
      case '.': return charSet(complement([[0x0a, 0x0a]]));
      case '\\': return this.escape(false) as string;
      case '^': case '$': throw new Error(`the anchor '${c}' is only supported at the ends`);
      case '*': case '+': case '?': throw new Error(`nothing to repeat at ${this.i - 1}`);
      default: {
        const cp = this.src.codePointAt(this.i - 1)!;
        if (cp > 0xffff) this.i++;
        return charSet([[cp, cp]]);
      }
    }
  }

  /** After a backslash: a GBNF expression, or (inClass) the character ranges. */
  private escape(inClass: boolean): string | Range[] {
    const c = this.src[this.i++];
    if (c === undefined) throw new Error('trailing backslash');
    const sets: Record<string, Range[]> = { d: DIGIT, w: WORD, s: SPACE, D: complement(DIGIT), W: complement(WORD), S: complement(SPACE) };
    const controls: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, f: 0x0c, v: 0x0b, '0': 0 };
    let ranges: Range[];
    if (sets[c]) ranges = sets[c]!;
    else if (controls[c] !== undefined) ranges = [[controls[c]!, controls[c]!]];
    else if (c === 'x' || c === 'u') {
      const m = c === 'x' ? /^[0-9a-fA-F]{2}/.exec(this.src.slice(this.i)) : /^(\{[0-9a-fA-F]+\}|[0-9a-fA-F]{4})/.exec(this.src.slice(this.i));
      if (!m) throw new Error(`bad \\${c} escape`);
      this.i += m[0].length;
      const cp = parseInt(m[0].replace(/[{}]/g, ''), 16);
      ranges = [[cp, cp]];
    } else if (/[1-9kbBpP]/.test(c) && !(inClass && c === 'b')) throw new Error(`the escape \\${c} cannot be expressed as a grammar`);
    else if (inClass && c === 'b') ranges = [[0x08, 0x08]];
    else ranges = [[c.codePointAt(0)!, c.codePointAt(0)!]];
    return inClass ? ranges : charSet(ranges);
  }

  private charClass(): Range[] {
    const negated = this.peek() === '^';
    if (negated) this.i++;
    const ranges: Range[] = [];
    let first = true;
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined) throw new Error('unterminated character class');
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      const lo = this.classAtom();
      if (this.peek() === '-' && this.src[this.i + 1] !== ']' && this.src[this.i + 1] !== undefined && lo.length === 1 && lo[0]![0] === lo[0]![1]) {
        this.i++;
        const hi = this.classAtom();
        if (hi.length !== 1 || hi[0]![0] !== hi[0]![1] || hi[0]![0] < lo[0]![0]) throw new Error('bad range in character class');
        ranges.push([lo[0]![0], hi[0]![0]]);
      } else {
        ranges.push(...lo);
      }
    }
    return negated ? complement(ranges) : ranges;
  }

  private classAtom(): Range[] {
    const c = this.src[this.i++]!;
    if (c === '\\') return this.escape(true) as Range[];
    const cp = this.src.codePointAt(this.i - 1)!;
    if (cp > 0xffff) this.i++;
    return [[cp, cp]];
  }
}

/** The strings a regex matches, as a GBNF expression of their JSON-escaped text (anchors at the ends dropped). */
export function regexExpression(regex: string): string {
  let src = regex.startsWith('^') ? regex.slice(1) : regex;
  // A final `$` is an anchor unless an odd number of backslashes escapes it.
  if (src.endsWith('$') && (/\\*(?=\$$)/.exec(src)![0].length % 2 === 0)) src = src.slice(0, -1);
  return new Parser(src).parse();
}

/** A literal string as a GBNF expression of its JSON-escaped text. */
export function jsonLiteral(text: string): string {
  return text ? literal([...text].map((c) => jsonEscaped(c.codePointAt(0)!)).join('')) : '""';
}

/** The characters from `from` to `to` (code points) as a GBNF expression of their JSON-escaped text. */
export function jsonCharRange(from: number, to: number): string {
  return charSet([[from, to]]);
}

/** GBNF for `{"input":"<the string>"}`, the string's JSON text given by `body` and `rules`. */
export function inputGrammar(body: string, rules = ''): string {
  return `root ::= ${literal('{"input":"')} body ${literal('"}')}\nbody ::= ${body}\n${rules}`;
}

/** GBNF for `{"input":"<a JSON string whose value matches regex>"}`; throws with the reason when it cannot. */
export function regexInputGrammar(regex: string): string {
  return inputGrammar(regexExpression(regex));
}
