/**
 * A model is one SELECT: its rendered SQL becomes the body of
 * `create view … as (…)` / `create table … as (…)`. dbt sends anything else to
 * the database, which fails there (or, for `create table x as select …`
 * inside a view body, with a confusing syntax error) after upstream models
 * were built; tsdbt refuses it at compile time, naming the file and line.
 */
import { TsdbtError, lineColumnAt } from '../errors.ts';
import type { ManifestNode } from '../parse/manifest.ts';

/** First keywords a model's SQL may start with (plus an opening parenthesis). */
const QUERY_STARTS = new Set(['select', 'with', 'values', 'table']);

/** Object kinds that end a DDL statement's name (`CREATE OR REPLACE VIEW`). */
const OBJECT_KINDS = new Set([
  'table', 'view', 'index', 'schema', 'function', 'procedure', 'type', 'sequence', 'extension', 'role', 'user',
  'trigger', 'database', 'domain', 'policy', 'publication', 'subscription', 'aggregate', 'rule', 'server',
]);

/**
 * The first token of `sql` after whitespace and `--` / `/* *\/` comments:
 * a word (lower-cased) or `(`, with its 0-based offset; null when `sql` holds
 * nothing else.
 */
export function firstToken(sql: string): { readonly word: string; readonly offset: number } | null {
  let i = 0;
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i])) i++;
    if (sql.startsWith('--', i)) {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else break;
  }
  if (i >= sql.length) return null;
  if (sql[i] === '(') return { word: '(', offset: i };
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i, i + 64));
  return { word: (m ? m[0] : sql[i]).toLowerCase(), offset: i };
}

/**
 * Checks that a rendered model is a query (its first keyword is select, with,
 * values or table, or it opens with `(`). Empty SQL passes (nothing to judge).
 *
 * The error points at the line of that keyword in the model's file: found in
 * `raw_code` with its Jinja blanked out (lines kept), else on the first line
 * of the file that starts with the keyword.
 *
 * @throws TsdbtError `model-not-select` naming the statement (`DELETE`,
 *   `CREATE TABLE`) with a hint: for CREATE keep only the SELECT and set
 *   `materialized`; for other statements use pre_hook / post_hook.
 */
export function assertModelIsSelect(node: Pick<ManifestNode, 'name' | 'raw_code' | 'original_file_path'>, sql: string): void {
  const first = firstToken(sql);
  if (!first || QUERY_STARTS.has(first.word) || first.word === '(') return;
  const statement = statementName(sql.slice(first.offset));
  const where = locate(node.raw_code ?? '', first.word);
  const isCreate = first.word === 'create';
  const hint = isCreate
    ? `keep only the SELECT: tsdbt creates the relation itself from it — set {{ config(materialized='table') }} (or 'view', 'incremental') instead of writing ${statement}; other DDL belongs in a pre_hook / post_hook`
    : `a model is one SELECT whose result becomes the view or table; put ${statement} and other data changes or DDL in a pre_hook / post_hook (e.g. {{ config(post_hook="...") }}) of the model that needs them`;
  throw new TsdbtError(
    'model-not-select',
    `model '${node.name}' is a ${statement} statement, not a SELECT: tsdbt materializes a model by wrapping its SELECT in create view/table`,
    { file: node.original_file_path, line: where?.line, column: where?.column, hint },
  );
}

/** `DELETE`, `CREATE TABLE`, `CREATE OR REPLACE VIEW`, `INSERT INTO`… from the statement's first words. */
function statementName(sql: string): string {
  const words = sql.split(/[^A-Za-z_]+/).filter(Boolean).slice(0, 6).map((w) => w.toLowerCase());
  const first = words[0] ?? '?';
  const out = [first];
  if (['create', 'drop', 'alter'].includes(first)) {
    for (const w of words.slice(1)) {
      out.push(w);
      if (OBJECT_KINDS.has(w)) break;
    }
    if (!out.some((w) => OBJECT_KINDS.has(w))) out.length = Math.min(out.length, 2);
  } else if (first === 'insert' && words[1] === 'into') out.push('into');
  return out.join(' ').toUpperCase();
}

/** Line and column of `word` as the model file's first token (Jinja blanked), or of the first line starting with it. */
function locate(raw: string, word: string): { line: number; column?: number } | null {
  const blank = raw.replace(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g, (m) => m.replace(/[^\n]/g, ' '));
  const t = firstToken(blank);
  if (t && t.word === word) return lineColumnAt(raw, t.offset);
  const re = new RegExp(`^\\s*${word.replace(/[^\w]/g, '\\$&')}(?![\\w])`, 'i');
  const lines = raw.split('\n');
  const i = lines.findIndex((l) => re.test(l));
  return i < 0 ? null : { line: i + 1 };
}
