/**
 * Column-level lineage from PostgreSQL parse trees (libpg-query's JSON AST):
 * for each output column of a model, the upstream columns (of models, seeds,
 * snapshots and sources) it is computed from, through CTEs, subqueries,
 * joins, `select *` (expanded from the parent's known columns), aggregates,
 * window functions, `case`, casts and set operations; plus the columns the
 * model filters or joins on.
 *
 * Kinds, per upstream edge: `direct` (the value passes through, maybe
 * renamed), `derived` (computed: an expression, `case`, a cast, a window
 * function's order/partition), `aggregated` (inside an aggregate, or an
 * aggregate window); a model's `filters` hold the `filter/join key` columns
 * (where, join on/using, group by, having, of the model and of the CTEs and
 * subqueries it reads).
 *
 * Pure: no database. Parents' columns come from the caller (see
 * {@link RelationColumns}).
 */

/** One upstream column: a node (model, seed, snapshot, source) and a column name. */
export interface UpstreamColumn {
  readonly node: string;
  readonly column: string;
  readonly kind: LineageKind;
}

export type LineageKind = 'direct' | 'derived' | 'aggregated' | 'filter/join key';

/** One output column and where it comes from. */
export interface ColumnLineage {
  /** The strongest transformation on any path: `direct` < `derived` < `aggregated` (a constant: `derived`, no upstream). */
  readonly kind: Exclude<LineageKind, 'filter/join key'>;
  readonly upstream: readonly UpstreamColumn[];
}

/** A model's lineage: output columns in order, the filter/join keys, and what could not be resolved. */
export interface NodeLineage {
  /** Output column name → lineage, in the SELECT's order. */
  readonly columns: Record<string, ColumnLineage>;
  readonly filters: readonly UpstreamColumn[];
  /** False when some column set was unknown (`select *` from a relation whose columns nobody knows). */
  readonly complete: boolean;
  readonly notes: readonly string[];
}

/**
 * What the analysis needs to know about relations the SQL reads: which node a
 * `schema.table` is, and that node's columns (null when unknown).
 */
export interface RelationColumns {
  /** unique_id of the node or source the relation name means, or undefined for a relation outside the project. */
  resolve(schema: string | undefined, name: string, database?: string): string | undefined;
  /** The node's columns in order, or null when not known. */
  columns(uniqueId: string): readonly string[] | null;
}

type Kind = 'direct' | 'derived' | 'aggregated';
const RANK: Record<Kind, number> = { direct: 0, derived: 1, aggregated: 2 };
const maxKind = (a: Kind, b: Kind): Kind => (RANK[a] >= RANK[b] ? a : b);

/** base column key `node\u0000column` → kind */
type Sources = Map<string, Kind>;
interface Col {
  readonly name: string;
  readonly sources: Sources;
  /** The strongest transformation in its expression (count(*) is aggregated with no source). */
  readonly kind?: Kind;
}
/** A relation as the query sees it: columns (null = unknown), and the base columns it filtered on. */
interface Rel {
  readonly columns: Col[] | null;
  readonly filters: Set<string>;
  /** For an unknown base relation: its node, so `t.col` can still be attributed. */
  readonly base?: string;
}
interface Item {
  readonly alias: string;
  readonly rel: Rel;
  /** Columns merged by JOIN … USING (shown once by `*`). */
  readonly usingHidden?: Set<string>;
}
interface Scope {
  readonly items: Item[];
  readonly parent?: Scope;
  readonly ctes: Map<string, Rel>;
}

const AGGREGATES = new Set([
  'count', 'sum', 'avg', 'min', 'max', 'array_agg', 'string_agg', 'bool_and', 'bool_or', 'every', 'stddev', 'stddev_pop', 'stddev_samp',
  'variance', 'var_pop', 'var_samp', 'percentile_cont', 'percentile_disc', 'mode', 'json_agg', 'jsonb_agg', 'json_object_agg',
  'jsonb_object_agg', 'corr', 'covar_pop', 'covar_samp', 'regr_avgx', 'regr_avgy', 'regr_count', 'regr_intercept', 'regr_r2',
  'regr_slope', 'regr_sxx', 'regr_sxy', 'regr_syy', 'bit_and', 'bit_or', 'bit_xor', 'xmlagg', 'any_value', 'range_agg', 'range_intersect_agg',
]);

const key = (node: string, column: string) => `${node}\u0000${column}`;

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

/**
 * The lineage of one statement's parse tree (`tree.stmts[0].stmt`, a
 * SelectStmt). `self` is the analysed node's unique_id (a reference to
 * itself, e.g. `{{ this }}` in an incremental model, is resolved to nothing).
 */
export function statementLineage(stmt: Any, rels: RelationColumns, self?: string): NodeLineage {
  const notes: string[] = [];
  const a = new Analyzer(rels, notes, self);
  const sel = stmt?.SelectStmt;
  if (!sel) return { columns: {}, filters: [], complete: false, notes: ['not a SELECT'] };
  const rel = a.select(sel, undefined, new Map());
  const columns: Record<string, ColumnLineage> = {};
  for (const c of rel.columns ?? []) {
    if (Object.hasOwn(columns, c.name)) {
      notes.push(`column ${c.name} appears twice in the output`);
      continue;
    }
    columns[c.name] = toLineage(c.sources, c.kind);
  }
  if (rel.columns === null) notes.push('the output columns are unknown (select * from a relation whose columns are not known)');
  const filters = [...rel.filters].map((k) => {
    const [node, column] = k.split('\u0000');
    return { node, column, kind: 'filter/join key' as const };
  });
  filters.sort((x, y) => (x.node + x.column < y.node + y.column ? -1 : 1));
  return { columns, filters, complete: !a.incomplete && rel.columns !== null, notes: [...new Set(notes)] };
}

function toLineage(sources: Sources, own?: Kind): ColumnLineage {
  let kind: Kind | undefined = own;
  const upstream: UpstreamColumn[] = [];
  for (const [k, v] of sources) {
    const [node, column] = k.split('\u0000');
    upstream.push({ node, column, kind: v });
    kind = kind ? maxKind(kind, v) : v;
  }
  upstream.sort((x, y) => (x.node === y.node ? (x.column < y.column ? -1 : 1) : x.node < y.node ? -1 : 1));
  return { kind: kind ?? 'derived', upstream };
}

class Analyzer {
  incomplete = false;
  constructor(
    private readonly rels: RelationColumns,
    private readonly notes: string[],
    private readonly self?: string,
  ) {}

  /** A SelectStmt (plain, VALUES, or a set operation) as a relation. */
  select(s: Any, outer: Scope | undefined, ctesIn: Map<string, Rel>): Rel {
    const ctes = new Map(ctesIn);
    if (s.withClause) {
      for (const c of s.withClause.ctes ?? []) {
        const cte = c.CommonTableExpr;
        const q = cte.ctequery?.SelectStmt;
        if (!q) {
          ctes.set(cte.ctename, { columns: null, filters: new Set() });
          continue;
        }
        let rel: Rel;
        if (s.withClause.recursive && q.op && q.op !== 'SETOP_NONE') {
          // A recursive CTE: the non-recursive part gives the columns; the recursive part adds sources.
          const first = this.select(q.larg, outer, ctes);
          ctes.set(cte.ctename, first);
          const second = this.select(q.rarg, outer, ctes);
          rel = mergeSetOp(first, second);
        } else rel = this.select(q, outer, ctes);
        const names = (cte.aliascolnames ?? []).map((n: Any) => n.String?.sval);
        ctes.set(cte.ctename, renameCols(rel, names));
      }
    }
    if (s.op && s.op !== 'SETOP_NONE') {
      const l = this.select(s.larg, outer, ctes);
      const r = this.select(s.rarg, outer, ctes);
      return mergeSetOp(l, r);
    }
    if (s.valuesLists) {
      const rows: Any[] = s.valuesLists.map((l: Any) => l.List?.items ?? []);
      const n = rows[0]?.length ?? 0;
      const scope: Scope = { items: [], parent: outer, ctes };
      const cols: Col[] = [];
      for (let i = 0; i < n; i++) {
        const src: Sources = new Map();
        let k: Kind | undefined;
        for (const row of rows) k = maxOpt(k, this.expr(row[i], scope, src, 'derived', new Set()));
        cols.push({ name: `column${i + 1}`, sources: src, kind: k });
      }
      return { columns: cols, filters: new Set() };
    }
    const scope: Scope = { items: [], parent: outer, ctes };
    const filters = new Set<string>();
    for (const f of s.fromClause ?? []) this.fromItem(f, scope, filters);
    const cols: Col[] = [];
    for (const t of s.targetList ?? []) {
      const res = t.ResTarget;
      const v = res.val;
      const star = v?.ColumnRef?.fields?.some((f: Any) => f.A_Star);
      if (star) {
        const expanded = this.star(v.ColumnRef.fields, scope);
        if (expanded === null) {
          this.incomplete = true;
          return { columns: null, filters: this.filtersOfScope(scope, filters, s) };
        }
        cols.push(...expanded);
        continue;
      }
      const src: Sources = new Map();
      const kind: Kind = v?.ColumnRef ? 'direct' : 'derived';
      const k = this.expr(v, scope, src, kind, filters);
      cols.push({ name: res.name ?? outputName(v), sources: src, kind: k });
    }
    return { columns: cols, filters: this.filtersOfScope(scope, filters, s, cols) };
  }

  /** where / group by / having (and join keys already in `filters`), plus the filters of every relation read. */
  private filtersOfScope(scope: Scope, filters: Set<string>, s: Any, cols?: Col[]): Set<string> {
    const collect = (e: Any) => {
      const src: Sources = new Map();
      this.expr(e, scope, src, 'derived', filters);
      for (const k of src.keys()) filters.add(k);
    };
    if (s.whereClause) collect(s.whereClause);
    if (s.havingClause) collect(s.havingClause);
    for (const g of s.groupClause ?? []) {
      const n = g.A_Const?.ival;
      if (g.A_Const && cols) {
        const c = cols[(n?.ival ?? 0) - 1];
        if (c) for (const k of c.sources.keys()) filters.add(k);
        continue;
      }
      const name = g.ColumnRef?.fields?.length === 1 ? g.ColumnRef.fields[0].String?.sval : undefined;
      if (name && cols && !this.findColumn([name], scope, false)) {
        const c = cols.find((x) => x.name === name);
        if (c) for (const k of c.sources.keys()) filters.add(k);
        continue;
      }
      collect(g);
    }
    for (const it of scope.items) for (const k of it.rel.filters) filters.add(k);
    return filters;
  }

  /** Adds a FROM item (and, for joins, both sides and their keys) to `scope`. */
  private fromItem(f: Any, scope: Scope, filters: Set<string>): void {
    if (f.RangeVar) {
      const rv = f.RangeVar;
      const alias = rv.alias?.aliasname ?? rv.relname;
      let rel: Rel;
      const cte = !rv.schemaname ? scope.ctes.get(rv.relname) ?? findCte(scope, rv.relname) : undefined;
      if (cte) rel = cte;
      else {
        const ephemeral = !rv.schemaname && rv.relname.startsWith('__dbt__cte__') ? rv.relname : undefined;
        const id = this.rels.resolve(rv.schemaname, ephemeral ? rv.relname.slice('__dbt__cte__'.length) : rv.relname, rv.catalogname);
        if (!id || id === this.self) {
          if (!id) this.notes.push(`${rv.schemaname ? rv.schemaname + '.' : ''}${rv.relname} is not a node of the project`);
          rel = { columns: null, filters: new Set() };
        } else {
          const names = this.rels.columns(id);
          rel = names ? { columns: names.map((n) => ({ name: n, sources: new Map([[key(id, n), 'direct' as Kind]]) })), filters: new Set(), base: id } : { columns: null, filters: new Set(), base: id };
        }
      }
      scope.items.push({ alias, rel: renameCols(rel, (rv.alias?.colnames ?? []).map((n: Any) => n.String?.sval)) });
      return;
    }
    if (f.RangeSubselect) {
      const sub = f.RangeSubselect;
      const rel = this.select(sub.subquery.SelectStmt, sub.lateral ? scope : scope.parent, scope.ctes);
      scope.items.push({ alias: sub.alias?.aliasname ?? '', rel: renameCols(rel, (sub.alias?.colnames ?? []).map((n: Any) => n.String?.sval)) });
      return;
    }
    if (f.JoinExpr) {
      const j = f.JoinExpr;
      const before = scope.items.length;
      this.fromItem(j.larg, scope, filters);
      const mid = scope.items.length;
      this.fromItem(j.rarg, scope, filters);
      if (j.quals) {
        const src: Sources = new Map();
        this.expr(j.quals, scope, src, 'derived', filters);
        for (const k of src.keys()) filters.add(k);
      }
      const using: string[] = (j.usingClause ?? []).map((u: Any) => u.String?.sval);
      if (j.isNatural) {
        const left = new Set(scope.items.slice(before, mid).flatMap((i) => i.rel.columns?.map((c) => c.name) ?? []));
        for (const c of scope.items.slice(mid).flatMap((i) => i.rel.columns?.map((x) => x.name) ?? [])) if (left.has(c)) using.push(c);
      }
      if (using.length) {
        for (const u of using) {
          for (const it of scope.items.slice(before)) {
            const c = it.rel.columns?.find((x) => x.name === u);
            if (c) for (const k of c.sources.keys()) filters.add(k);
            else if (it.rel.base) filters.add(key(it.rel.base, u));
          }
        }
        // `*` shows a USING column once (from the left side).
        for (const it of scope.items.slice(mid)) scope.items[scope.items.indexOf(it)] = { ...it, usingHidden: new Set([...(it.usingHidden ?? []), ...using]) };
      }
      if (j.alias?.aliasname) {
        // `(a join b) as x`: reachable as x too.
        const cols = scope.items.slice(before).flatMap((i) => (i.rel.columns ?? []).filter((c) => !i.usingHidden?.has(c.name)));
        scope.items.push({ alias: j.alias.aliasname, rel: { columns: cols, filters: new Set() }, usingHidden: new Set(cols.map((c) => c.name)) });
      }
      return;
    }
    if (f.RangeFunction) {
      const rf = f.RangeFunction;
      const src: Sources = new Map();
      for (const fn of rf.functions ?? []) for (const e of fn.List?.items ?? []) this.expr(e, rf.lateral ? scope : { items: [], parent: scope.parent, ctes: scope.ctes }, src, 'derived', filters);
      const names: string[] = (rf.alias?.colnames ?? []).map((n: Any) => n.String?.sval);
      const alias = rf.alias?.aliasname ?? outputName(rf.functions?.[0]?.List?.items?.[0]);
      const derived = new Map([...src].map(([k]) => [k, 'derived' as Kind]));
      const cols = names.length ? names.map((n) => ({ name: n, sources: derived })) : [{ name: alias, sources: derived }];
      scope.items.push({ alias, rel: { columns: cols, filters: new Set() } });
      return;
    }
    this.notes.push(`FROM item ${Object.keys(f)[0]} not analysed`);
    scope.items.push({ alias: '', rel: { columns: null, filters: new Set() } });
    this.incomplete = true;
  }

  /** `*` or `t.*` as columns; null when a relation's columns are unknown. */
  private star(fields: Any[], scope: Scope): Col[] | null {
    const qual = fields.length > 1 ? fields[fields.length - 2].String?.sval : undefined;
    const items = qual ? scope.items.filter((i) => i.alias === qual) : scope.items.filter((i) => i.alias !== '' || true);
    const out: Col[] = [];
    const seenJoinAlias = new Set<Item>();
    for (const it of items) {
      if (!qual && it.usingHidden && it.rel.columns && it.rel.columns.every((c) => it.usingHidden!.has(c.name)) && scope.items.indexOf(it) > 0 && isJoinAlias(it)) {
        seenJoinAlias.add(it);
        continue; // a join's alias: its columns are already listed
      }
      if (it.rel.columns === null) {
        this.notes.push(`select ${qual ? qual + '.' : ''}* from ${it.rel.base ?? it.alias}: its columns are not known`);
        return null;
      }
      for (const c of it.rel.columns) if (qual || !it.usingHidden?.has(c.name)) out.push({ name: c.name, sources: new Map(c.sources), kind: c.kind });
    }
    return out;
  }

  /** Finds a column reference in the scope chain: the column, an unknown base relation's column, or null. */
  private findColumn(fields: string[], scope: Scope, outerToo = true): Col | null {
    const col = fields[fields.length - 1];
    const qual = fields.length >= 2 ? fields[fields.length - 2] : undefined;
    for (let s: Scope | undefined = scope; s; s = outerToo ? s.parent : undefined) {
      const items = qual ? s.items.filter((i) => i.alias === qual) : s.items;
      for (const it of items) {
        const c = it.rel.columns?.find((x) => x.name === col);
        if (c) return c;
      }
      const open = items.find((i) => i.rel.columns === null);
      if (open) return { name: col, sources: open.rel.base ? new Map([[key(open.rel.base, col), 'direct' as Kind]]) : new Map(), kind: 'direct' };
      if (qual && items.length) return { name: col, sources: new Map(), kind: 'direct' };
    }
    return null;
  }

  /**
   * Walks an expression, adding every base column it reads to `out` with the
   * kind this use gives it (`kind` at the top: direct for a bare column;
   * derived below any operator; aggregated below an aggregate).
   */
  expr(e: Any, scope: Scope, out: Sources, kind: Kind, filters: Set<string>): Kind | undefined {
    if (e === null || e === undefined || typeof e !== 'object') return undefined;
    if (Array.isArray(e)) {
      let k: Kind | undefined;
      for (const x of e) k = maxOpt(k, this.expr(x, scope, out, kind, filters));
      return k;
    }
    if (e.ColumnRef) {
      const fields = e.ColumnRef.fields.map((f: Any) => f.String?.sval ?? '*');
      if (fields[fields.length - 1] === '*') {
        // count(*), row_to_json(t.*): every column of the relation
        return kind;
      }
      const col = this.findColumn(fields, scope);
      if (col === null) return undefined; // an output alias (order by) or a name the parser treats as a column
      for (const [k, v] of col.sources) out.set(k, maxKind(out.get(k) ?? 'direct', maxKind(v, kind)));
      return maxKind(kind, col.kind ?? 'direct');
    }
    if (e.FuncCall) {
      const fc = e.FuncCall;
      const name = fc.funcname?.[fc.funcname.length - 1]?.String?.sval;
      const isAgg = (AGGREGATES.has(name) && !fc.over) || (fc.over && AGGREGATES.has(name)) || fc.agg_star || fc.agg_filter || fc.agg_within_group;
      const k: Kind = isAgg ? 'aggregated' : maxKind(kind, 'derived');
      let inner = this.expr(fc.args, scope, out, k, filters);
      inner = maxOpt(inner, this.expr(fc.agg_order, scope, out, k, filters));
      inner = maxOpt(inner, this.expr(fc.agg_filter, scope, out, k, filters));
      if (fc.over) {
        this.expr(fc.over.partitionClause, scope, out, maxKind(kind, 'derived'), filters);
        this.expr(fc.over.orderClause, scope, out, maxKind(kind, 'derived'), filters);
      }
      return maxKind(k, inner ?? k);
    }
    if (e.SubLink) {
      const sl = e.SubLink;
      let res: Kind = maxKind(kind, 'derived');
      this.expr(sl.testexpr, scope, out, res, filters);
      const sub = sl.subselect?.SelectStmt;
      if (sub) {
        const rel = this.select(sub, scope, scope.ctes);
        for (const c of rel.columns ?? []) {
          for (const [k, v] of c.sources) out.set(k, maxKind(out.get(k) ?? 'direct', maxKind(v, maxKind(kind, 'derived'))));
          if (c.kind) res = maxKind(res, c.kind);
        }
        for (const k of rel.filters) filters.add(k);
      }
      return res;
    }
    if (e.TypeCast) {
      return maxOpt(this.expr(e.TypeCast.arg, scope, out, maxKind(kind, 'derived'), filters), 'derived');
    }
    if (e.ResTarget) return this.expr(e.ResTarget.val, scope, out, kind, filters);
    if (e.SortBy) return this.expr(e.SortBy.node, scope, out, kind, filters);
    if (e.A_Const) return undefined;
    // Any other node: operators, case, coalesce, lists… walk its children as derived.
    let res: Kind | undefined;
    for (const [field, v] of Object.entries(e)) {
      if (field === 'location' || typeof v !== 'object') continue;
      res = maxOpt(res, this.expr(v, scope, out, maxKind(kind, 'derived'), filters));
    }
    return res === undefined ? undefined : maxKind(res, 'derived');
  }
}

function maxOpt(a: Kind | undefined, b: Kind | undefined): Kind | undefined {
  return a === undefined ? b : b === undefined ? a : maxKind(a, b);
}

function isJoinAlias(it: Item): boolean {
  return it.rel.columns !== null && it.rel.filters.size === 0 && it.usingHidden !== undefined && it.usingHidden.size === it.rel.columns.length && !it.rel.base;
}

function findCte(scope: Scope, name: string): Rel | undefined {
  for (let s = scope.parent; s; s = s.parent) {
    const c = s.ctes.get(name);
    if (c) return c;
  }
  return undefined;
}

/** Column names in order from `alias(a, b)` / `cte(a, b)`; the rest keep theirs. */
function renameCols(rel: Rel, names: (string | undefined)[]): Rel {
  if (!names.length || !rel.columns) return rel;
  return { ...rel, columns: rel.columns.map((c, i) => (names[i] ? { ...c, name: names[i]! } : c)) };
}

/** union / intersect / except: columns by position, named by the left side. */
function mergeSetOp(l: Rel, r: Rel): Rel {
  const filters = new Set([...l.filters, ...r.filters]);
  if (!l.columns || !r.columns) return { columns: null, filters };
  const cols = l.columns.map((c, i) => {
    const src: Sources = new Map(c.sources);
    for (const [k, v] of r.columns![i]?.sources ?? []) src.set(k, maxKind(src.get(k) ?? 'direct', v));
    return { name: c.name, sources: src, kind: maxOpt(c.kind, r.columns![i]?.kind) };
  });
  return { columns: cols, filters };
}

/** The name PostgreSQL gives an unnamed output column. */
export function outputName(v: Any): string {
  if (!v) return '?column?';
  if (v.ColumnRef) {
    const f = v.ColumnRef.fields;
    return f[f.length - 1].String?.sval ?? '?column?';
  }
  if (v.FuncCall) return v.FuncCall.funcname[v.FuncCall.funcname.length - 1].String?.sval ?? '?column?';
  if (v.TypeCast) {
    const inner = outputName(v.TypeCast.arg);
    if (inner !== '?column?') return inner;
    const names = v.TypeCast.typeName?.TypeName?.names ?? v.TypeCast.typeName?.names ?? [];
    const last = names[names.length - 1]?.String?.sval;
    return last ? ({ int4: 'int4', int8: 'int8', float8: 'float8', bool: 'bool', varchar: 'varchar', numeric: 'numeric' } as Record<string, string>)[last] ?? last : '?column?';
  }
  if (v.CaseExpr) return 'case';
  if (v.CoalesceExpr) return 'coalesce';
  if (v.MinMaxExpr) return v.MinMaxExpr.op === 'IS_GREATEST' ? 'greatest' : 'least';
  if (v.SubLink?.subLinkType === 'EXISTS_SUBLINK') return 'exists';
  if (v.SubLink?.subselect?.SelectStmt?.targetList?.[0]) {
    const t = v.SubLink.subselect.SelectStmt.targetList[0].ResTarget;
    return t.name ?? outputName(t.val);
  }
  if (v.A_Indirection) {
    const ind = v.A_Indirection.indirection;
    const last = ind?.[ind.length - 1]?.String?.sval;
    return last ?? outputName(v.A_Indirection.arg);
  }
  return '?column?';
}
