/**
 * A check beyond syntax that PostgreSQL itself makes only when it plans a
 * statement: every column qualified by a name (`u.id`, `u.*`) must name a
 * FROM item in scope — the item's alias, or the table's own name when it
 * has no alias. `select stg_users.id from {{ ref('stg_users') }} as u` and
 * `select x.id from t` fail on the server with `missing FROM-clause entry
 * for table "stg_users"` / `"x"` (PostgreSQL's parse_relation.c,
 * errorMissingRTE; it says `invalid reference to FROM-clause entry` with the
 * alias hint only when the name also resolves on the search_path, which a
 * dbt relation in the target schema usually does not). This module finds
 * them in the parse tree, before the run; for a table used under its
 * alias's back it adds PostgreSQL's hint (`Perhaps you meant to reference
 * the table alias "u".`).
 *
 * Certain, not clever: only two-part names (`a.b`, `a.*`) of top-level
 * SELECT statements are checked (three or more parts can mean
 * schema.table.column or table.column.field); every FROM item of a query
 * level is taken as visible to all of that level (its ON clauses, LATERAL
 * items, subqueries) and to every nested level (correlated subqueries,
 * CTE bodies, subqueries in FROM), which is more than PostgreSQL allows, so
 * nothing legal is reported; a level holding a FROM item whose name tsdbt
 * cannot know (a table function such as XMLTABLE without an alias) checks
 * nothing, nor do the levels nested in it. ORDER BY of a set operation
 * (`union … order by`) is not checked.
 */
import { byteIndexer } from './parser.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

/** One qualified column whose qualifier names no FROM item in scope. */
export interface FromReferenceError {
  /** PostgreSQL's words: `missing FROM-clause entry for table "x"`. */
  readonly message: string;
  /** PostgreSQL's hint (`Perhaps you meant to reference the table alias "u".`), when it gives one. */
  readonly hint?: string;
  /** 0-based UTF-16 offset of the column reference in the statement text. */
  readonly offset: number;
  /** The qualifier as written (folded as PostgreSQL folds it). */
  readonly qualifier: string;
}

interface Scope {
  /** The names FROM items are referred to by at this level. */
  readonly names: Set<string>;
  /** Table names that were given an alias → the alias (`from stg_users as u`: stg_users → u). */
  readonly aliased: Map<string, string>;
  /** True when some FROM item's name is not known: nothing is checked here or below. */
  unknown: boolean;
  readonly parent?: Scope;
}

/**
 * The qualified column references of `tree` (libpg-query's parse result of
 * `sql`) whose qualifier is not a FROM item in scope. Pure; never throws for
 * any tree shape (unknown node kinds are walked generically).
 */
export function fromReferenceErrors(tree: { stmts?: readonly { stmt?: Any }[] }, sql: string): FromReferenceError[] {
  const found: FromReferenceError[] = [];
  const toIndex = byteIndexer(sql);
  for (const s of tree.stmts ?? []) {
    if (!s.stmt?.SelectStmt) continue;
    select(s.stmt.SelectStmt, undefined, found, toIndex);
  }
  return found;
}

function select(sel: Any, parent: Scope | undefined, found: FromReferenceError[], toIndex: (b: number) => number): void {
  if (!sel || typeof sel !== 'object') return;
  const scope: Scope = { names: new Set(), aliased: new Map(), unknown: !!parent?.unknown, parent };
  // CTE bodies: their own levels, nested in this one (more permissive than PostgreSQL).
  for (const c of sel.withClause?.ctes ?? []) select(c?.CommonTableExpr?.ctequery?.SelectStmt, scope, found, toIndex);
  if (sel.op && sel.op !== 'SETOP_NONE') {
    select(sel.larg, parent, found, toIndex);
    select(sel.rarg, parent, found, toIndex);
    // ORDER BY / LIMIT of a set operation: not checked (scope unknown).
    walk(sel.limitCount, { ...scope, unknown: true }, found, toIndex);
    walk(sel.limitOffset, { ...scope, unknown: true }, found, toIndex);
    return;
  }
  for (const item of sel.fromClause ?? []) declare(item, scope);
  for (const item of sel.fromClause ?? []) walkFromItem(item, scope, found, toIndex);
  for (const k of ['targetList', 'whereClause', 'groupClause', 'havingClause', 'windowClause', 'sortClause', 'distinctClause', 'limitCount', 'limitOffset', 'valuesLists']) {
    walk(sel[k], scope, found, toIndex);
  }
}

/** Adds the names a FROM item is referred to by. */
function declare(item: Any, scope: Scope): void {
  if (!item || typeof item !== 'object') return;
  if (item.RangeVar) {
    const rv = item.RangeVar;
    const alias = rv.alias?.aliasname;
    if (alias) {
      scope.names.add(alias);
      if (rv.relname) scope.aliased.set(rv.relname, alias);
    } else if (rv.relname) scope.names.add(rv.relname);
    return;
  }
  if (item.JoinExpr) {
    const j = item.JoinExpr;
    declare(j.larg, scope);
    declare(j.rarg, scope);
    if (j.alias?.aliasname) scope.names.add(j.alias.aliasname);
    if (j.join_using_alias?.aliasname) scope.names.add(j.join_using_alias.aliasname);
    return;
  }
  if (item.RangeSubselect) {
    const alias = item.RangeSubselect.alias?.aliasname;
    if (alias) scope.names.add(alias); // PostgreSQL ≥ 16: a subquery without an alias has no name
    return;
  }
  if (item.RangeFunction) {
    const f = item.RangeFunction;
    const alias = f.alias?.aliasname;
    if (alias) {
      scope.names.add(alias);
      return;
    }
    const fns: Any[] = (f.functions ?? []).map((l: Any) => l?.List?.items?.[0]);
    const call = fns.length === 1 ? fns[0]?.FuncCall : undefined;
    const name = call?.funcname?.[call.funcname.length - 1]?.String?.sval;
    if (name) scope.names.add(name);
    else scope.unknown = true;
    return;
  }
  if (item.RangeTableSample) {
    declare(item.RangeTableSample.relation, scope);
    return;
  }
  const alias = (Object.values(item)[0] as Any)?.alias?.aliasname;
  if (alias) scope.names.add(alias);
  else scope.unknown = true; // XMLTABLE, JSON_TABLE, … without an alias: a name tsdbt does not derive
}

/** Walks the expressions inside a FROM item (join conditions, subqueries, function arguments). */
function walkFromItem(item: Any, scope: Scope, found: FromReferenceError[], toIndex: (b: number) => number): void {
  if (!item || typeof item !== 'object') return;
  if (item.RangeVar) return;
  if (item.JoinExpr) {
    walkFromItem(item.JoinExpr.larg, scope, found, toIndex);
    walkFromItem(item.JoinExpr.rarg, scope, found, toIndex);
    walk(item.JoinExpr.quals, scope, found, toIndex);
    return;
  }
  if (item.RangeSubselect) {
    select(item.RangeSubselect.subquery?.SelectStmt, scope, found, toIndex);
    return;
  }
  walk(item, scope, found, toIndex);
}

/** Walks an expression tree: checks column references, enters subqueries. */
function walk(node: Any, scope: Scope, found: FromReferenceError[], toIndex: (b: number) => number): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) walk(n, scope, found, toIndex);
    return;
  }
  if (node.SelectStmt) {
    select(node.SelectStmt, scope, found, toIndex);
    return;
  }
  if (node.ColumnRef) {
    check(node.ColumnRef, scope, found, toIndex);
    return;
  }
  for (const v of Object.values(node)) if (v && typeof v === 'object') walk(v, scope, found, toIndex);
}

function check(ref: Any, scope: Scope, found: FromReferenceError[], toIndex: (b: number) => number): void {
  const fields: Any[] = ref.fields ?? [];
  if (fields.length !== 2) return;
  const q = fields[0]?.String?.sval;
  if (typeof q !== 'string') return;
  let aliasOf: string | undefined;
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    if (s.unknown || s.names.has(q)) return;
    aliasOf ??= s.aliased.get(q);
  }
  const offset = toIndex(ref.location ?? 0);
  found.push(
    aliasOf
      ? { message: `missing FROM-clause entry for table "${q}"`, hint: `Perhaps you meant to reference the table alias "${aliasOf}".`, offset, qualifier: q }
      : { message: `missing FROM-clause entry for table "${q}"`, offset, qualifier: q },
  );
}
