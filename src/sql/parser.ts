/**
 * PostgreSQL's own parser (libpg-query: the server's grammar compiled to
 * WASM, PostgreSQL 18) behind two calls: {@link loadSqlParser} once (async,
 * ~20 ms), then {@link parseSql} synchronously for each statement text.
 *
 * libpg-query reports a syntax error's position as a 0-based offset in
 * characters (code points); JavaScript strings index UTF-16 units, so the
 * offset is converted here. Node `location` fields in the tree are byte
 * offsets into the UTF-8 text (see {@link byteToIndex}).
 */
import { loadModule, parseSync, type ParseResult } from 'libpg-query';

export type { ParseResult };

let loaded: Promise<void> | null = null;
let ready = false;

/** Loads the WASM parser once; later calls return the same promise. @throws the loader's Error (a broken install). */
export function loadSqlParser(): Promise<void> {
  loaded ??= loadModule().then(() => {
    ready = true;
  });
  return loaded;
}

// A statement touching the grammar's common paths (CTE, window, CASE, cast, join, set operation, quoting).
const WARM_SQL =
  'with a as (select id, sum(x) over (partition by y order by z) as s, case when b > 1 then \'x\' else null end as c ' +
  'from "db"."s"."t" where q in (1, 2) and r is not null group by 1 having count(*) > 0) ' +
  'select a.*, b.id::text as bid, coalesce(b.v, 0) + 1 as v from a left join "s"."u" as b on a.id = b.id ' +
  'union all select 1, 2, 3, 4, 5, 6 order by 1 limit 10';
/** Parses of {@link WARM_SQL} by {@link warmSqlParser}: enough for V8 to queue the hot WASM functions for TurboFan. */
const WARM_RUNS = 40;

/**
 * {@link loadSqlParser}, then a few parses of a representative statement, so
 * that V8 tiers the parser's WASM code up (TurboFan, on background threads)
 * while the caller goes on with other work. Await it before parsing the
 * project: measured on the 10,000-model bench project, the first 3,000
 * parses otherwise run in Liftoff code at 4–8× the later cost (~0.7 s CPU
 * on the main thread); warmed, they cost ~0.1 s more than steady state.
 * @throws the loader's Error (a broken install).
 */
export async function warmSqlParser(): Promise<void> {
  await loadSqlParser();
  for (let i = 0; i < WARM_RUNS; i++) parseSync(WARM_SQL);
}

/** True once {@link loadSqlParser} has finished. */
export function sqlParserReady(): boolean {
  return ready;
}

/** The outcome of parsing one text: its statements, or PostgreSQL's syntax error. */
export type SqlParse =
  | { readonly ok: true; readonly tree: ParseResult; readonly statements: readonly { readonly start: number; readonly end: number }[] }
  | { readonly ok: false; readonly message: string; /** 0-based UTF-16 offset into the text; the text's length for "at end of input". */ readonly offset: number };

/**
 * Parses `sql` with PostgreSQL's grammar. An empty text (or comments only)
 * gives zero statements. Statement ranges are UTF-16 offsets into `sql`.
 * @throws Error when {@link loadSqlParser} has not finished.
 */
export function parseSql(sql: string): SqlParse {
  if (!ready) throw new Error('tsdbt: the SQL parser is not loaded (await loadSqlParser() first)');
  if (!/\S/.test(sql)) return { ok: true, tree: { version: 0, stmts: [] } as ParseResult, statements: [] };
  let tree: ParseResult;
  try {
    tree = parseSync(sql);
  } catch (e) {
    const err = e as { message?: string; sqlDetails?: { message?: string; cursorPosition?: number } };
    const pos = err.sqlDetails?.cursorPosition;
    return { ok: false, message: err.sqlDetails?.message ?? String(err.message ?? e), offset: pos === undefined ? 0 : codePointToIndex(sql, pos) };
  }
  const toIndex = byteIndexer(sql);
  const statements = (tree.stmts ?? []).map((s) => {
    const start = toIndex(s.stmt_location ?? 0);
    const end = s.stmt_len ? toIndex((s.stmt_location ?? 0) + s.stmt_len) : sql.length;
    return { start, end };
  });
  return { ok: true, tree, statements };
}

/** UTF-16 index of the `n`-th code point of `s` (clamped to its length). */
export function codePointToIndex(s: string, n: number): number {
  let i = 0;
  for (let k = 0; k < n && i < s.length; k++) i += s.codePointAt(i)! > 0xffff ? 2 : 1;
  return i;
}

/** A function mapping UTF-8 byte offsets into `s` to UTF-16 indexes (identity for ASCII text). */
export function byteIndexer(s: string): (byte: number) => number {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return (b) => Math.min(b, s.length);
  const idx: number[] = [];
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i)!;
    const bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < bytes; k++) idx.push(i);
    i += cp > 0xffff ? 2 : 1;
  }
  return (b) => (b >= idx.length ? s.length : idx[b]);
}

/** {@link byteIndexer} for one offset. */
export function byteToIndex(s: string, byte: number): number {
  return byteIndexer(s)(byte);
}
