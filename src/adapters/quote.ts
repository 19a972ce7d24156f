/**
 * SQL quoting shared by both adapters. Same rules as node-postgres's
 * `escapeIdentifier` / `escapeLiteral` (which follow libpq's PQescapeIdentifier /
 * PQescapeLiteral), so SQL generated for PGlite and for a server is identical.
 */
import type { RelationRef } from './adapter.ts';

/**
 * Quotes an identifier: wraps it in double quotes and doubles any double quote inside.
 * `quoteIdentifier('my "t"')` → `"my ""t"""`. Case is preserved (no folding).
 */
export function quoteIdentifier(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/**
 * Quotes a string literal: wraps it in single quotes and doubles single quotes.
 * When the value holds a backslash, backslashes are doubled and the literal is
 * written in the escape-string form ` E'…'` (leading space included, as pg does),
 * so the result is correct whatever `standard_conforming_strings` says.
 * `quoteLiteral("it's")` → `'it''s'`; `quoteLiteral('a\\b')` → ` E'a\\\\b'`.
 */
export function quoteLiteral(value: string): string {
  let hasBackslash = false;
  let out = "'";
  for (const c of value) {
    if (c === "'") out += "''";
    else if (c === '\\') {
      out += '\\\\';
      hasBackslash = true;
    } else out += c;
  }
  out += "'";
  return hasBackslash ? ' E' + out : out;
}

/**
 * `"schema"."identifier"`. `database` is not rendered: a Postgres session cannot
 * reach another database, and both engines have exactly one.
 */
export function quoteRelation(rel: RelationRef): string {
  return quoteIdentifier(rel.schema) + '.' + quoteIdentifier(rel.identifier);
}
