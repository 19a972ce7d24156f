/**
 * Checks for the few config values dbt pastes into SQL unquoted because they may
 * be expressions (`unique_key`, `indexes` columns, `incremental_predicates`) or
 * type names (`column_types`). dbt interpolates them as written; tsdbt accepts
 * the same values but refuses any text that could leave its slot in the
 * statement: end the statement, comment out the rest of it, close a
 * parenthesis it did not open, or start a quoting form whose end we cannot see
 * for certain. What is left is one SQL expression (or type name), which is
 * what these configs are documented to hold.
 */

/** A plain, unquoted SQL name: `id`, `order_date` (folded to lower case by Postgres, as dbt writes it). */
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/u;

/** True for a plain SQL name (`id`, `created_at`) — safe to write unquoted, as dbt writes it. */
export function isPlainName(s: string): boolean {
  return PLAIN_NAME.test(s);
}

/** True for one double-quoted SQL name (`"Order ID"`, `"a""b"`): safe as written. */
export function isQuotedName(s: string): boolean {
  return /^"(?:[^"]|"")+"$/u.test(s);
}

/** True for a plain or double-quoted name, as a column reference in `DBT_INTERNAL_SOURCE.<name>` needs. */
export function isColumnName(s: string): boolean {
  return isPlainName(s) || isQuotedName(s);
}

/**
 * Why `text` is not safe to paste into a statement as one SQL expression, or
 * undefined when it is. Refused, outside double-quoted names and single-quoted
 * strings: `;`, `--` and `/* … *\/` comments, `$` (dollar quoting, parameters),
 * a backslash anywhere (escape strings, `standard_conforming_strings = off`),
 * control characters, unterminated quotes, and parentheses that do not balance
 * (a `)` closing one the text did not open). Single-quoted strings are kept
 * (`coalesce(a, '')`).
 *
 * @example sqlFragmentProblem("coalesce(id, '')") // undefined
 * @example sqlFragmentProblem('id); drop table t; --') // "a ')' that closes a parenthesis it did not open"
 */
export function sqlFragmentProblem(text: string): string | undefined {
  if (text.trim() === '') return 'it is empty';
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const code = text.charCodeAt(i);
    if (c === '"') {
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '"') {
          if (text[j + 1] === '"') j++;
          else break;
        }
      }
      if (j >= text.length) return 'an unterminated "quoted name"';
      if (j === i + 1) return 'an empty quoted name ""';
      i = j;
      continue;
    }
    if (c === "'") {
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '\\') return 'a backslash inside a string';
        if (text[j] === "'") {
          if (text[j + 1] === "'") j++;
          else break;
        }
      }
      if (j >= text.length) return "an unterminated 'string'";
      i = j;
      continue;
    }
    if (c === ';') return "a ';' (it would end the statement)";
    if (c === '-' && text[i + 1] === '-') return "a '--' comment";
    if ((c === '/' && text[i + 1] === '*') || (c === '*' && text[i + 1] === '/')) return "a '/* */' comment";
    if (c === '$') return "a '$' (dollar quoting or a parameter)";
    if (c === '\\') return 'a backslash';
    if ((code < 0x20 && c !== '\t' && c !== '\n' && c !== '\r') || code === 0x7f) return 'a control character';
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth < 0) return "a ')' that closes a parenthesis it did not open";
    }
  }
  if (depth > 0) return "a '(' that is never closed";
  return undefined;
}

/**
 * Splits `text` on commas outside parentheses and quotes (`a, coalesce(b, c)` →
 * `['a', 'coalesce(b, c)']`), trimming each part. Use on text that passed
 * {@link sqlFragmentProblem}.
 */
export function splitTopLevelCommas(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) {
        if (text[i + 1] === quote) i++;
        else quote = null;
      }
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(text.slice(start).trim());
  return out;
}

/** Words that may follow a type's first word: `double precision`, `character varying`, `timestamp(3) with time zone`, `interval day to second`. */
const TYPE_WORDS = new Set([
  'precision', 'varying', 'with', 'without', 'time', 'zone', 'year', 'month', 'day', 'hour', 'minute', 'second', 'to', 'character', 'char',
]);

/**
 * Why `type` is not a PostgreSQL type name, or undefined when it is. Accepted:
 * a name, optionally schema-qualified and/or double-quoted (`text`,
 * `public.my_enum`, `"MyType"`), followed only by the words of multi-word SQL
 * types (`double precision`, `character varying`, `with time zone`,
 * `interval day to second`), modifiers of whole numbers (`numeric(10, 2)`,
 * `varchar(20)`), and array brackets (`int[]`, `text[3]`). Anything else —
 * a second column, `default …`, `references …`, `check (…)` — is refused, so
 * a `column_types` value can only ever be a column's type.
 *
 * @example sqlTypeProblem('timestamp(3) with time zone') // undefined
 * @example sqlTypeProblem('int references victim') // "'references' is not part of a type name"
 */
export function sqlTypeProblem(type: string): string | undefined {
  const ident = String.raw`(?:[A-Za-z_][A-Za-z0-9_]*|"(?:[^"]|"")+")`;
  const modifier = String.raw`(?:\s*\(\s*\d+(?:\s*,\s*\d+)*\s*\))?`;
  const first = new RegExp(String.raw`^\s*${ident}(?:\.${ident})?${modifier}`, 'u');
  const word = new RegExp(String.raw`^\s+([A-Za-z]+)${modifier}`, 'u');
  const m = first.exec(type);
  if (!m) return 'it does not start with a type name';
  let rest = type.slice(m[0].length);
  for (;;) {
    const w = word.exec(rest);
    if (!w) break;
    if (!TYPE_WORDS.has(w[1].toLowerCase())) return `'${w[1]}' is not part of a type name`;
    rest = rest.slice(w[0].length);
  }
  rest = rest.replace(/^(?:\s*\[\s*\d*\s*\])*\s*$/u, '');
  if (rest !== '') return `${JSON.stringify(rest.trim())} is not part of a type name`;
  return undefined;
}
