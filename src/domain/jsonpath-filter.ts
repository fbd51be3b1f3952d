/**
 * Lamassu's `field[jsonpath]<expression>` filters (v3.7, docs/filtering.md): PostgreSQL jsonpath
 * predicates over a JSON field. We accept a safe subset and parse it into a tree, so that nothing but
 * that subset reaches a database: comparisons of a path with a literal, `exists(path)`, `exists(path[*]
 * ? (@... <op> literal))`, combined with `&&`, `||`, `!( )` and parentheses.
 * Paths: `$`, `.key`, `."any key"`, `[n]`, `[last]`; `[*]` only as the last step inside exists().
 * Comparisons: == != <> with strings, numbers, true, false, null; < <= > >= with strings and numbers.
 */
import { invalid } from './errors.ts';

export type JsonLiteral = string | number | boolean | null;
export type JsonStep = { key: string } | { index: number } | { last: true };
export type JsonCompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type JsonPathPredicate =
  | { kind: 'and' | 'or'; left: JsonPathPredicate; right: JsonPathPredicate }
  | { kind: 'not'; expr: JsonPathPredicate }
  | { kind: 'cmp'; path: JsonStep[]; op: JsonCompareOp; value: JsonLiteral }
  /** `each`: the path ends in [*]; `filter`: a comparison on each element (`rel` relative to @). */
  | { kind: 'exists'; path: JsonStep[]; each: boolean; filter?: { rel: JsonStep[]; op: JsonCompareOp; value: JsonLiteral } };

const MAX_NODES = 64;
const MAX_STEPS = 16;

const fail = (message: string) => invalid('FILTER_JSONPATH_INVALID', `jsonpath filter: ${message}`);

type Token =
  | { t: 'op'; v: string }
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'word'; v: string };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (['==', '!=', '<>', '<=', '>=', '&&', '||'].includes(two)) {
      out.push({ t: 'op', v: two === '<>' ? '!=' : two });
      i += 2;
      continue;
    }
    if ('()[]$@.?!<>*'.includes(ch)) {
      out.push({ t: 'op', v: ch });
      i++;
      continue;
    }
    if (ch === '"') {
      // A JSON string: the same escapes as jsonpath's.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw fail('unterminated string');
      try {
        out.push({ t: 'str', v: JSON.parse(text.slice(i, j + 1)) as string });
      } catch {
        throw fail('bad string escape');
      }
      i = j + 1;
      continue;
    }
    const num = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (num) {
      if (!Number.isFinite(Number(num[0]))) throw fail(`number ${num[0].slice(0, 32)} out of range`);
      out.push({ t: 'num', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (word) {
      out.push({ t: 'word', v: word[0] });
      i += word[0].length;
      continue;
    }
    throw fail(`unexpected "${ch}"`);
  }
  return out;
}

/** Keys go into SQL JSON paths quoted: no quote, backslash or control character in them. */
function checkKey(key: string): string {
  if (key.length === 0 || key.length > 128 || /["\\\u0000-\u001f]/.test(key)) throw fail('keys are 1-128 characters without quotes, backslashes or control characters');
  return key;
}

class Parser {
  private at = 0;
  private nodes = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t?.t === 'op' && t.v === v;
  }
  private expect(v: string): void {
    if (!this.isOp(v)) throw fail(`"${v}" expected`);
    this.at++;
  }
  private count(): void {
    if (++this.nodes > MAX_NODES) throw fail(`at most ${MAX_NODES} terms`);
  }

  parse(): JsonPathPredicate {
    const e = this.or();
    if (this.at !== this.tokens.length) throw fail('unexpected text after the expression');
    return e;
  }

  private or(): JsonPathPredicate {
    let left = this.and();
    while (this.isOp('||')) {
      this.at++;
      this.count();
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): JsonPathPredicate {
    let left = this.unary();
    while (this.isOp('&&')) {
      this.at++;
      this.count();
      left = { kind: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): JsonPathPredicate {
    this.count();
    if (this.isOp('!')) {
      this.at++;
      this.expect('(');
      const expr = this.or();
      this.expect(')');
      return { kind: 'not', expr };
    }
    if (this.isOp('(')) {
      this.at++;
      const e = this.or();
      this.expect(')');
      return e;
    }
    const t = this.peek();
    if (t?.t === 'word' && t.v === 'exists') {
      this.at++;
      return this.exists();
    }
    return this.comparison();
  }

  private exists(): JsonPathPredicate {
    this.expect('(');
    this.expect('$');
    const { steps, each } = this.steps(true);
    let filter: { rel: JsonStep[]; op: JsonCompareOp; value: JsonLiteral } | undefined;
    if (this.isOp('?')) {
      if (!each) throw fail('a filter "? (...)" follows [*]');
      this.at++;
      this.expect('(');
      this.expect('@');
      const rel = this.steps(false).steps;
      const op = this.compareOp();
      const value = this.literal();
      checkOperands(op, value);
      this.expect(')');
      filter = { rel, op, value };
    }
    this.expect(')');
    return { kind: 'exists', path: steps, each, ...(filter ? { filter } : {}) };
  }

  private comparison(): JsonPathPredicate {
    if (this.isOp('$')) {
      this.at++;
      const path = this.steps(false).steps;
      const op = this.compareOp();
      const value = this.literal();
      checkOperands(op, value);
      return { kind: 'cmp', path, op, value };
    }
    // literal <op> path: the same comparison turned around.
    const value = this.literal();
    const op = this.compareOp();
    this.expect('$');
    const path = this.steps(false).steps;
    const flipped: Record<JsonCompareOp, JsonCompareOp> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
    checkOperands(op, value);
    return { kind: 'cmp', path, op: flipped[op], value };
  }

  /** Steps after `$` or `@`; `[*]` allowed as the last one when `wildcard`. */
  private steps(wildcard: boolean): { steps: JsonStep[]; each: boolean } {
    const steps: JsonStep[] = [];
    for (;;) {
      if (this.isOp('.')) {
        this.at++;
        const t = this.peek();
        if (t?.t === 'word' || t?.t === 'str') {
          steps.push({ key: checkKey(String(t.v)) });
          this.at++;
        } else throw fail('a key follows "."');
      } else if (this.isOp('[')) {
        this.at++;
        const t = this.peek();
        if (t?.t === 'num' && Number.isInteger(t.v) && t.v >= 0 && t.v < 1e6) steps.push({ index: t.v });
        else if (t?.t === 'word' && t.v === 'last') steps.push({ last: true });
        else if (t?.t === 'op' && t.v === '*') {
          if (!wildcard) throw fail('[*] only as the last step inside exists()');
          this.at++;
          this.expect(']');
          if (this.isOp('.') || this.isOp('[')) throw fail('[*] only as the last step inside exists()');
          return { steps, each: true };
        } else throw fail('an index, last or * between [ ]');
        this.at++;
        this.expect(']');
      } else break;
      if (steps.length > MAX_STEPS) throw fail(`at most ${MAX_STEPS} steps in a path`);
    }
    return { steps, each: false };
  }

  private compareOp(): JsonCompareOp {
    const t = this.peek();
    if (t?.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) {
      this.at++;
      return t.v as JsonCompareOp;
    }
    throw fail('a comparison (==, !=, <, <=, >, >=) expected');
  }

  private literal(): JsonLiteral {
    const t = this.peek();
    this.at++;
    if (t?.t === 'str') return t.v;
    if (t?.t === 'num') return t.v;
    if (t?.t === 'word' && (t.v === 'true' || t.v === 'false')) return t.v === 'true';
    if (t?.t === 'word' && t.v === 'null') return null;
    throw fail('a literal (string, number, true, false, null) expected');
  }
}

function checkOperands(op: JsonCompareOp, value: JsonLiteral): void {
  if (op !== '==' && op !== '!=' && typeof value !== 'string' && typeof value !== 'number') throw fail(`${op} compares strings or numbers`);
}

export function parseJsonPathFilter(text: string): JsonPathPredicate {
  return new Parser(tokenize(text)).parse();
}

const stepText = (s: JsonStep) => ('key' in s ? `.${JSON.stringify(s.key)}` : 'index' in s ? `[${s.index}]` : '[last]');
const literalText = (v: JsonLiteral) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** The predicate as PostgreSQL jsonpath text, rebuilt from the tree (keys quoted, strings escaped). */
export function jsonPathText(p: JsonPathPredicate): string {
  switch (p.kind) {
    case 'and':
      return `(${jsonPathText(p.left)} && ${jsonPathText(p.right)})`;
    case 'or':
      return `(${jsonPathText(p.left)} || ${jsonPathText(p.right)})`;
    case 'not':
      return `!(${jsonPathText(p.expr)})`;
    case 'cmp':
      return `$${p.path.map(stepText).join('')} ${p.op} ${literalText(p.value)}`;
    case 'exists': {
      const path = `$${p.path.map(stepText).join('')}${p.each ? '[*]' : ''}`;
      const filter = p.filter ? ` ? (@${p.filter.rel.map(stepText).join('')} ${p.filter.op} ${literalText(p.filter.value)})` : '';
      return `exists(${path}${filter})`;
    }
  }
}
