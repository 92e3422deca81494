// The `filter` of Vertex AI v1 List* RPCs, an AIP-160 subset (https://google.aip.dev/160). The emulator
// evaluates it like the service so that code listing jobs by state, label or time behaves the same
// locally, and rejects a filter it cannot evaluate rather than silently matching everything.

export class FilterError extends Error {
  override name = 'FilterError';
}

export type FilterRecord = { labels: Record<string, string>; fields: Record<string, string | undefined> };

type Predicate = (record: FilterRecord) => boolean;
type Operator = '=' | '!=' | '<' | '<=' | '>' | '>=' | ':';

// Two-character operators first, or "<=" would be read as "<" followed by a value starting with "=".
const OPERATORS: readonly Operator[] = ['!=', '<=', '>=', '=', '<', '>', ':'];
const LABEL_KEY = /^[a-z0-9_-]+$/;
const FIELD_START = /^[A-Za-z_]$/;
const FIELD_CHAR = /^[A-Za-z0-9_.-]$/;
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const KEYWORDS = new Set(['AND', 'OR', 'NOT']);
const ORDERINGS: Record<'<' | '<=' | '>' | '>=', (order: number) => boolean> = {
  '<': (order) => order < 0,
  '<=': (order) => order <= 0,
  '>': (order) => order > 0,
  '>=': (order) => order >= 0,
};

/**
 * Parses `filter` once, up front, so a bad filter fails the List call with INVALID_ARGUMENT rather
 * than surfacing per record. `allowedFields` are snake_case names looked up in `record.fields`;
 * `labels.<key>` is always allowed.
 */
export function compileFilter(filter: string, allowedFields: readonly string[]): Predicate {
  if (filter.trim() === '') return () => true;
  return new Parser(filter, allowedFields).parseFilter();
}

class Parser {
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly allowedFields: readonly string[],
  ) {}

  parseFilter(): Predicate {
    const predicate = this.parseExpression();
    this.skipWs();
    // parseExpression only stops early at a ")" it has no "(" for.
    if (this.pos < this.src.length) throw this.error('unexpected ")" with no matching "("');
    return predicate;
  }

  private parseExpression(): Predicate {
    const parts = [this.parseSequence()];
    while (this.acceptKeyword('AND')) parts.push(this.parseSequence());
    return combine(parts, 'every');
  }

  // AIP-160 reads terms separated only by whitespace as an implicit AND.
  private parseSequence(): Predicate {
    const parts = [this.parseFactor()];
    for (;;) {
      this.skipWs();
      if (this.pos >= this.src.length || this.src[this.pos] === ')' || this.peekKeyword('AND')) break;
      parts.push(this.parseFactor());
    }
    return combine(parts, 'every');
  }

  // OR sits below AND in the grammar, so it binds tighter: `a AND b OR c` is `a AND (b OR c)`,
  // the reverse of SQL and most programming languages.
  private parseFactor(): Predicate {
    const parts = [this.parseTerm()];
    while (this.acceptKeyword('OR')) parts.push(this.parseTerm());
    return combine(parts, 'some');
  }

  private parseTerm(): Predicate {
    this.skipWs();
    if (this.acceptKeyword('NOT') || this.accept('-')) {
      const inner = this.parseSimple();
      return (record) => !inner(record);
    }
    return this.parseSimple();
  }

  private parseSimple(): Predicate {
    this.skipWs();
    const open = this.pos;
    if (!this.accept('(')) return this.parseRestriction();
    const inner = this.parseExpression();
    this.skipWs();
    if (!this.accept(')'))
      throw this.error(`expected ")" to close the "(" at character ${open + 1}, found ${this.describeHere()}`);
    return inner;
  }

  private parseRestriction(): Predicate {
    const start = this.pos;
    const name = this.readField();
    this.skipWs();
    const op = OPERATORS.find((candidate) => this.src.startsWith(candidate, this.pos));
    if (op === undefined) {
      // A bare word is an AIP-160 global search, which Vertex AI List* filters do not offer.
      throw this.error(`expected an operator (=, !=, <, <=, >, >=, :) after "${name}", found ${this.describeHere()}`);
    }
    this.pos += op.length;
    this.skipWs();
    const value = this.readValue(`${name}${op}`);
    return this.restriction(name, start, op, value);
  }

  private readField(): string {
    const start = this.pos;
    if (FIELD_START.test(this.src[this.pos] ?? '')) {
      while (FIELD_CHAR.test(this.src[this.pos] ?? '')) this.pos++;
    }
    if (this.pos === start) throw this.error(`expected a field name, found ${this.describeHere()}`);
    const name = this.src.slice(start, this.pos);
    if (KEYWORDS.has(name)) throw this.error(`expected a field name, found ${name}`, start);
    return name;
  }

  private readValue(restriction: string): string {
    const start = this.pos;
    if (this.accept('"')) {
      let text = '';
      for (;;) {
        const c = this.src[this.pos++];
        if (c === undefined) throw this.error('unterminated string: expected a closing "', start);
        if (c === '"') return text;
        text += c === '\\' && this.pos < this.src.length ? this.src[this.pos++] : c;
      }
    }
    // Bare values run to whitespace or a parenthesis, so unquoted timestamps (with ":" and "-") work.
    while (this.pos < this.src.length && !/[\s()]/.test(this.src[this.pos] ?? '')) this.pos++;
    const text = this.src.slice(start, this.pos);
    // `state= AND x=1` almost certainly lost its value; matching the literal word needs quotes.
    if (text === '' || KEYWORDS.has(text)) {
      const hint = text === '' ? '' : ` (quote "${text}" to match the word itself)`;
      throw this.error(`missing value after "${restriction}"${hint}`, start);
    }
    return text;
  }

  private restriction(name: string, at: number, op: Operator, value: string): Predicate {
    // `labels:key` is the map form of "key present", which Vertex AI documents alongside labels.key:*.
    if (name === 'labels' && op === ':')
      return (record) => ownValue(record.labels, this.labelKey(value, at)) !== undefined;
    const isLabel = name.startsWith('labels.');
    const key = isLabel ? this.labelKey(name.slice('labels.'.length), at) : this.fieldName(name);
    const lookup = isLabel
      ? (r: FilterRecord) => ownValue(r.labels, key)
      : (r: FilterRecord) => ownValue(r.fields, key);
    switch (op) {
      case '=':
        return (record) => lookup(record) === value;
      case '!=':
        return (record) => lookup(record) !== value;
      case ':': {
        // Labels may legitimately carry an empty value, so for them presence is just the key existing.
        if (value === '*') return isLabel ? (r) => lookup(r) !== undefined : (r) => (lookup(r) ?? '') !== '';
        if (isLabel) return (record) => lookup(record) === value;
        const pattern = wildcard(value);
        return (record) => {
          const actual = lookup(record);
          return actual !== undefined && pattern.test(actual);
        };
      }
      default: {
        const holds = ORDERINGS[op];
        return (record) => {
          const actual = lookup(record);
          return actual !== undefined && holds(compare(actual, value));
        };
      }
    }
  }

  private labelKey(key: string, at: number): string {
    if (!LABEL_KEY.test(key)) {
      throw this.error(`invalid label key "${key}": label keys use only lowercase letters, digits, "_" and "-"`, at);
    }
    return key;
  }

  // Google APIs accept the JSON (camelCase) spelling of a field as well as the proto one.
  private fieldName(name: string): string {
    const field = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (!this.allowedFields.includes(field)) {
      const supported = [...this.allowedFields, 'labels.<key>'].join(', ');
      throw new FilterError(`unsupported field "${name}" in filter; supported: ${supported}`);
    }
    return field;
  }

  private skipWs(): void {
    while (/\s/.test(this.src[this.pos] ?? '')) this.pos++;
  }

  private accept(c: string): boolean {
    if (this.src[this.pos] !== c) return false;
    this.pos++;
    return true;
  }

  // Keywords are upper case only, and must stand alone so fields like ORDER or NOTE stay fields.
  private peekKeyword(keyword: string): boolean {
    this.skipWs();
    if (!this.src.startsWith(keyword, this.pos)) return false;
    const after = this.src[this.pos + keyword.length];
    return after === undefined || /[\s(]/.test(after);
  }

  private acceptKeyword(keyword: string): boolean {
    if (!this.peekKeyword(keyword)) return false;
    this.pos += keyword.length;
    return true;
  }

  private describeHere(): string {
    const c = this.src[this.pos];
    return c === undefined ? 'end of filter' : `"${c}"`;
  }

  private error(message: string, at = this.pos): FilterError {
    return new FilterError(`invalid filter ${JSON.stringify(this.src)} at character ${at + 1}: ${message}`);
  }
}

function combine(parts: Predicate[], how: 'every' | 'some'): Predicate {
  const [only] = parts;
  return parts.length === 1 && only ? only : (record) => parts[how]((part) => part(record));
}

// Own properties only: a label key such as "constructor" must not find Object.prototype members.
function ownValue(map: Record<string, string | undefined>, key: string): string | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

function wildcard(value: string): RegExp {
  const escaped = value.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(escaped.join('.*'), 's');
}

// Instants first so offsets and differing fraction lengths compare correctly ("…12:00:00Z" vs
// "…13:00:00+01:00"), then numbers so "10" > "9", then plain string order.
function compare(a: string, b: string): number {
  const ta = instant(a);
  const tb = instant(b);
  if (ta !== undefined && tb !== undefined) return ta < tb ? -1 : ta > tb ? 1 : 0;
  if (NUMBER.test(a) && NUMBER.test(b)) return Math.sign(Number(a) - Number(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

// Nanoseconds as a bigint: Vertex AI timestamps carry microseconds, which Date would truncate to ms.
function instant(text: string): bigint | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const [, seconds = '', fraction = '', offset = ''] = match;
  const ms = Date.parse(`${seconds}${offset}`.toUpperCase());
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt(fraction.padEnd(9, '0'));
}
