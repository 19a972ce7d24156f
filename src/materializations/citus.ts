/**
 * Citus (distributed PostgreSQL) for the materializations: detection of the extension, and the hooks the
 * table, incremental and seed strategies call so that a model with `dist:` (src/config/dist-config.ts) is
 * built as a distributed or reference table.
 *
 * The build order (table, seed, an incremental model's first build or full refresh) is:
 *   1. the intermediate relation is created empty with the model's columns
 *      (`create table … as (…) with no data`; a seed's `create table (…)`);
 *   2. {@link distribute}: `create_distributed_table(…, colocate_with, shard_count)` or `create_reference_table(…)`;
 *   3. the rows: `insert into … (select …)` (Citus runs it on the shards in parallel), or a seed's COPY
 *      (Citus routes each row to its shard);
 *   4. the usual swap (swap.ts): `alter table … rename` keeps a distributed table's shards and its colocation
 *      group, and a failure before the swap leaves the previous table as it was.
 * An incremental run against an existing table never redistributes it: {@link checkIncrementalOnCitus} refuses a
 * `unique_key` Citus cannot honour on the table's distribution before anything runs.
 * Without Citus on the server (PGlite, a plain PostgreSQL) `dist` does nothing here: the CLI warns once per
 * invocation (see {@link distWithoutCitusWarning}) and the models are built as local tables.
 */
import type { Adapter, RelationRef } from '../adapters/adapter.ts';
import { readDistribution, type Distribution } from '../config/dist-config.ts';
import type { NodeConfig } from '../config/types.ts';
import { TsdbtError } from '../errors.ts';
import { readColumns } from './catalog.ts';
import type { MaterializeContext, RecordingSession } from './context.ts';
import { qualified, trimModelSql, uniqueKeyList, type Quoter } from './sql.ts';

/** The Citus extension found on the target's database. */
export interface CitusInfo {
  /** `pg_extension.extversion`, e.g. `13.2-1`. */
  readonly version: string;
}

/** Detection results, once per adapter (= per invocation). */
const detected = new WeakMap<object, Promise<CitusInfo | null>>();

/** `select extversion from pg_extension where extname = 'citus'`: one row when Citus is installed in the database. */
export const CITUS_DETECT_SQL = "select extversion::text as version from pg_catalog.pg_extension where extname = 'citus'";

async function detectOn(conn: Pick<RecordingSession, 'look'> | Pick<Adapter, 'query'>): Promise<CitusInfo | null> {
  const run = 'look' in conn ? conn.look.bind(conn) : conn.query.bind(conn);
  const r = await run<{ version: string }>(CITUS_DETECT_SQL);
  const row = r.rows[0];
  return row ? { version: String(row.version) } : null;
}

/**
 * Whether the target's database has the Citus extension, asked once per adapter (= once per invocation) and
 * remembered. PGlite answers null (Citus cannot load there).
 *
 * @throws DatabaseError when the catalog query fails (the connection is down).
 */
export function detectCitus(adapter: Adapter): Promise<CitusInfo | null> {
  if (adapter.type !== 'postgres') return Promise.resolve(null);
  let p = detected.get(adapter);
  if (!p) {
    p = detectOn(adapter);
    detected.set(adapter, p);
    p.catch(() => detected.delete(adapter));
  }
  return p;
}

/** {@link detectCitus} from inside a materialization: the remembered answer, else asked on the node's own session. */
async function citusFor(ctx: MaterializeContext, s: RecordingSession): Promise<CitusInfo | null> {
  if (ctx.adapter.type !== 'postgres') return null;
  const known = detected.get(ctx.adapter);
  if (known) return known;
  const p = detectOn(s);
  detected.set(ctx.adapter, p);
  return p;
}

/** The run header's note: `Citus 13.2-1 (coordinator)`, or undefined without Citus. */
export function citusHeaderNote(info: CitusInfo | null): string | undefined {
  return info ? `Citus ${info.version} (coordinator)` : undefined;
}

/**
 * The one warning of an invocation whose selected nodes set `dist` on a server without Citus, naming up to five
 * of them; undefined when there is nothing to say. The models are then built as local tables.
 */
export function distWithoutCitusWarning(info: CitusInfo | null, nodes: readonly { name: string; config: Readonly<Record<string, unknown>> }[], targetType: string): string | undefined {
  if (info) return undefined;
  const named = nodes.filter((n) => n.config.dist !== undefined && n.config.dist !== null).map((n) => n.name);
  if (named.length === 0) return undefined;
  const list = named.slice(0, 5).join(', ') + (named.length > 5 ? ` and ${named.length - 5} more` : '');
  const where = targetType === 'pglite' ? 'the embedded database (PGlite)' : 'this server';
  return `\`dist\` is set on ${named.length} node${named.length === 1 ? '' : 's'} (${list}) but ${where} has no Citus extension: they are built as local tables. Point a postgres target at a Citus coordinator to distribute them (README, "Scaling out with Citus").`;
}

/** The node's distribution when Citus is there to honour it, else undefined (a local table). */
export async function activeDistribution(ctx: MaterializeContext, s: RecordingSession): Promise<Distribution | undefined> {
  const { distribution, problem } = readDistribution(ctx.config);
  if (problem) throw invalidDist(ctx, problem);
  if (!distribution) return undefined;
  return (await citusFor(ctx, s)) ? distribution : undefined;
}

function label(ctx: MaterializeContext): string {
  return `${ctx.seed ? 'seed' : 'model'} ${qualified(ctx.relation, ctx.adapter)}`;
}

function invalidDist(ctx: MaterializeContext, problem: string): TsdbtError {
  return new TsdbtError('invalid-dist-config', `config 'dist' of ${label(ctx)}: ${problem}.`, {
    kind: 'project',
    hint: 'Write dist: <column> (with optional colocate_with: <model> | none and shard_count: N) or dist: reference.',
  });
}

/** The SQL that distributes `rel` (pure): `select create_distributed_table('"s"."t"', 'col', colocate_with => …, shard_count => …)`. */
export function distributeSql(rel: RelationRef, d: Distribution, q: Quoter, colocateWith?: RelationRef): string {
  const name = q.quoteLiteral(qualified(rel, q));
  if (d.kind === 'reference') return `select pg_catalog.create_reference_table(${name})`;
  const args = [name, q.quoteLiteral(d.column)];
  if (d.colocateWith?.toLowerCase() === 'none') args.push(`colocate_with => 'none'`);
  else if (colocateWith) args.push(`colocate_with => ${q.quoteLiteral(qualified(colocateWith, q))}`);
  if (d.shardCount !== undefined && !(colocateWith && d.colocateWith?.toLowerCase() !== 'none')) args.push(`shard_count => ${d.shardCount}`);
  return `select pg_catalog.create_distributed_table(${args.join(', ')})`;
}

/**
 * Distributes the freshly created, still empty intermediate relation `rel` as the node's `dist` config asks
 * (a no-op without `dist` or without Citus). A hash `dist` column the relation does not have is an error naming
 * the model and its columns; `colocate_with` must name a distributed table that exists (built earlier).
 *
 * @throws TsdbtError `invalid-dist-config`, `dist-column-missing`, `colocate-with-missing`; DatabaseError from Citus.
 */
export async function distribute(ctx: MaterializeContext, s: RecordingSession, rel: RelationRef): Promise<Distribution | undefined> {
  const d = await activeDistribution(ctx, s);
  if (!d) return undefined;
  if (d.kind === 'hash') {
    const columns = (await readColumns(s, rel)).map((c) => c.name);
    if (!columns.includes(d.column)) {
      throw new TsdbtError('dist-column-missing', `${label(ctx)} sets dist: ${d.column}, but the model has no column '${d.column}' (it has ${columns.join(', ')}).`, {
        kind: 'project',
        hint: 'Set dist to one of the model\'s columns (names are case-sensitive), or dist: reference for a table copied to every node.',
      });
    }
  }
  let colocate: RelationRef | undefined;
  if (d.kind === 'hash' && d.colocateWith && d.colocateWith.toLowerCase() !== 'none') {
    colocate = ctx.colocateWith;
    const found = colocate && (await s.look(`select 1 from pg_catalog.pg_dist_partition where logicalrelid = to_regclass($1) and partmethod = 'h'`, [qualified(colocate, ctx.adapter)]));
    if (!colocate || !found || found.rows.length === 0) {
      throw new TsdbtError('colocate-with-missing', `${label(ctx)} sets colocate_with: ${d.colocateWith}, which is not a hash-distributed table${colocate ? ` (${qualified(colocate, ctx.adapter)})` : ' (no model of that name)'} yet.`, {
        kind: 'project',
        hint: `Give model ${d.colocateWith} a dist: <column> config and build it first (colocate_with makes it a dependency), or use colocate_with: none.`,
      });
    }
  }
  await s.query(distributeSql(rel, d, ctx.adapter, colocate));
  return d;
}

/**
 * `create table "s"."t" as (\n<sql>\n)\nwith no data`: the intermediate relation with the model's columns and no
 * rows (the query is planned, not run), to be distributed before {@link insertModelRowsSql} fills it.
 */
export function createEmptySql(tmp: RelationRef, sql: string, q: Quoter, opts: { unlogged?: boolean } = {}): string {
  return `create ${opts.unlogged ? 'unlogged ' : ''}table ${qualified(tmp, q)}\nas (\n${trimModelSql(sql)}\n)\nwith no data`;
}

/** `insert into "s"."t"\n(\n<sql>\n)`: the rows of the model into the (distributed) relation created by {@link createEmptySql}. */
export function insertModelRowsSql(tmp: RelationRef, sql: string, q: Quoter): string {
  return `insert into ${qualified(tmp, q)}\n(\n${trimModelSql(sql)}\n)`;
}

/** How an existing table is distributed, from pg_dist_partition: null for a local table. */
export async function currentDistribution(s: RecordingSession, rel: RelationRef, q: Quoter): Promise<{ kind: 'hash' | 'reference' | 'other'; column?: string } | null> {
  const r = await s.look<{ method: string; col: string | null }>(
    `select p.partmethod::text as method, case when p.partmethod = 'h' then pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) end as col
       from pg_catalog.pg_dist_partition p where p.logicalrelid = to_regclass($1)`,
    [qualified(rel, q)],
  );
  const row = r.rows[0];
  if (!row) return null;
  if (row.method === 'h') return { kind: 'hash', column: String(row.col) };
  return { kind: row.method === 'n' ? 'reference' : 'other' };
}

/**
 * Before an incremental run against an existing table on Citus: the table is never redistributed. Returns
 * warnings (the `dist` config and the table's distribution differ: `--full-refresh` rebuilds it) and refuses,
 * before anything runs, a `merge` whose `unique_key` leaves out the distribution column — Citus's rule: a MERGE
 * into a distributed table must join on the target's distribution column.
 *
 * @throws TsdbtError `citus-merge-key` for that case.
 */
export async function checkIncrementalOnCitus(ctx: MaterializeContext, s: RecordingSession, strategy: string): Promise<string[]> {
  if (ctx.adapter.type !== 'postgres' || !(await citusFor(ctx, s))) return [];
  const { distribution: wanted, problem } = readDistribution(ctx.config);
  if (problem) throw invalidDist(ctx, problem);
  const now = await currentDistribution(s, ctx.relation, ctx.adapter);
  const warnings: string[] = [];
  const describe = (d: { kind: string; column?: string } | null | undefined) => (!d ? 'a local table' : d.kind === 'hash' ? `distributed by ${d.column}` : `a ${d.kind} table`);
  const same = (!wanted && !now) || (wanted && now && wanted.kind === now.kind && (wanted.kind !== 'hash' || wanted.column === now.column));
  if (!same) {
    warnings.push(
      `${label(ctx)} is ${describe(now)} but its config asks for ${describe(wanted && (wanted.kind === 'hash' ? { kind: 'hash', column: wanted.column } : wanted))}: an incremental run keeps the table as it is. Run with --full-refresh to rebuild it with the new distribution.`,
    );
  }
  if (now?.kind === 'reference' && strategy === 'merge') {
    throw new TsdbtError('citus-merge-reference', `${label(ctx)}: the merge strategy cannot write a reference table (Citus's rule: a reference table is not allowed as the target of MERGE).`, {
      kind: 'project',
      hint: 'Use incremental_strategy: delete+insert (same result for a unique_key), or distribute the table by a column (dist: <column>, then --full-refresh).',
    });
  }
  if (now?.kind === 'hash' && strategy === 'merge') {
    const keys = uniqueKeyList(ctx.config.unique_key as NodeConfig['unique_key']).map((k) => k.replace(/^"|"$/g, ''));
    if (!keys.includes(now.column!)) {
      throw new TsdbtError(
        'citus-merge-key',
        `${label(ctx)}: the merge strategy on a table distributed by ${now.column} needs ${now.column} in its unique_key (Citus's rule: a MERGE into a distributed table must join on the target's distribution column); unique_key is ${JSON.stringify(ctx.config.unique_key ?? null)}.`,
        {
          kind: 'project',
          hint: `Add ${now.column} to unique_key (e.g. unique_key: [${[...keys, now.column].join(', ')}]), use incremental_strategy: delete+insert, or distribute the table by a unique_key column (then --full-refresh).`,
        },
      );
    }
  }
  return warnings;
}

/** Where an incremental run stages its new rows on Citus (see {@link citusStaging}). */
export interface CitusStaging {
  /** The staging table, a regular table in the target's schema. */
  readonly relation: RelationRef;
  /** `"schema"."name"`, what the strategy's DML reads from. */
  readonly source: string;
  /** `drop table if exists` (errors ignored with `quiet`). */
  drop(quiet?: boolean): Promise<void>;
  /**
   * Creates it empty with the model's columns, distributes it like the target (colocated with a hash-distributed
   * target, a reference table for a reference target), then fills it with the model's rows.
   */
  fill(run: (statement: string) => Promise<unknown>): Promise<void>;
}

/**
 * On Citus, an incremental run against a distributed or reference table stages its new rows in a table of the
 * same distribution (colocated with the target) instead of a session temporary table: Citus refuses a MERGE into a
 * distributed table from a local table ("MERGE INTO an distributed table from Postgres table is not yet supported")
 * and a DELETE on a reference table whose subquery reads one ("relation … is not distributed"), and a colocated
 * staging table lets `append`, `delete+insert` and `merge` run on the shards. Undefined when the target is a local
 * table or the server has no Citus (the temporary table, as on PostgreSQL). Named `<alias>__tsdbt_incr_<token>`.
 */
export async function citusStaging(ctx: MaterializeContext, s: RecordingSession, identifier: string): Promise<CitusStaging | undefined> {
  if (ctx.adapter.type !== 'postgres' || !(await citusFor(ctx, s))) return undefined;
  const now = await currentDistribution(s, ctx.relation, ctx.adapter);
  if (!now || now.kind === 'other') return undefined;
  const q = ctx.adapter;
  const token = ctx.adapter.invocationToken;
  const relation: RelationRef = { schema: ctx.relation.schema, identifier: token ? `${identifier.slice(0, 63 - 7)}_${token}` : identifier };
  const name = qualified(relation, q);
  // Staging tables a crashed run left (another token; one run per schema at a time holds the run lock).
  const stale = await s.look<{ name: string }>(
    `select c.relname::text as name from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relkind = 'r' and c.relname <> $3 and pg_catalog.left(c.relname, -7) = $2 and pg_catalog.right(c.relname, 7) ~ '^_[0-9a-f]{6}$'`,
    [relation.schema, identifier.slice(0, 63 - 7), relation.identifier],
  );
  return {
    relation,
    source: name,
    drop: async (quiet = false) => {
      try {
        if (!quiet) for (const r of stale.rows) await s.query(`drop table if exists ${qualified({ schema: relation.schema, identifier: r.name }, q)}`);
        await s.query(`drop table if exists ${name}`);
      } catch (e) {
        if (!quiet) throw e;
      }
    },
    fill: async (run) => {
      await run(createEmptySql(relation, ctx.sql, q));
      const d: Distribution = now.kind === 'hash' ? { kind: 'hash', column: now.column!, colocateWith: 'target' } : { kind: 'reference' };
      await s.query(distributeSql(relation, d, q, now.kind === 'hash' ? ctx.relation : undefined));
      await run(insertModelRowsSql(relation, ctx.sql, q));
    },
  };
}

/**
 * The Citus worker a database error says was unreachable (`host:port` from Citus's "connection to the remote node
 * user@host:port failed …"), or undefined for any other error.
 */
export function lostCitusWorker(e: unknown): string | undefined {
  const m = e instanceof Error ? /connection to the remote node (?:[^@\s]+@)?(\S+?) failed/.exec(e.message) : null;
  return m?.[1];
}
