/**
 * What an invocation knows about the schemas it builds in, so the per-node
 * catalog look-ups do not go to the server each time (dbt's relation cache
 * plays this part: the catalog is read once per schema and kept up to date
 * from what the invocation itself creates and drops).
 *
 * Per invocation ({@link RelationCache}, made by the runner) and per schema:
 *  - whether the schema exists (learnt at its first use: found, or created);
 *  - the swap's helper relations there (`<alias>__tsdbt_tmp[_<token>]`,
 *    `<alias>__tsdbt_backup[_<token>]`, any alias, any token), read with one
 *    catalog query at the schema's first use, then updated from this
 *    invocation's own actions: a temporary relation is added before it is
 *    created and removed once it is swapped in or dropped, a leftover removed
 *    once dropped.
 * Another invocation's helpers appearing later are never ours to drop while it
 * runs (their token is not ours, and dead invocations create nothing), so the
 * first read suffices for them. A schema dropped behind the invocation's back
 * (a hook) is noticed when a build fails on it (SQLSTATE 3F000): the schema is
 * forgotten and read again by the next node (`RelationCache.forgetSchema`).
 */
import type { RecordingSession } from './context.ts';
import { BACKUP_SUFFIX, TMP_SUFFIX } from './sql.ts';

/** A helper relation found (or made) in a schema: its name and `pg_class.relkind`. */
export interface HelperRelation {
  readonly name: string;
  readonly relkind: string;
}

interface SchemaFacts {
  /** Resolves once the schema is known to exist. */
  exists?: Promise<void>;
  /** The helper relations in the schema, by name → relkind. */
  helpers?: Promise<Map<string, string>>;
}

/**
 * One invocation's knowledge of its schemas (see the module comment). The runner makes one per
 * invocation and hands it to every node's materialization (`MaterializeContext.relationCache`);
 * without one, every look-up goes to the catalog.
 */
export class RelationCache {
  private readonly schemas = new Map<string, SchemaFacts>();

  private facts(schema: string): SchemaFacts {
    let f = this.schemas.get(schema);
    if (!f) this.schemas.set(schema, (f = {}));
    return f;
  }

  /**
   * Runs `check` (which makes sure `schema` exists) once per schema; later calls wait for the first.
   * A failed check is forgotten, so the next call tries again.
   */
  schemaOnce(schema: string, check: () => Promise<void>): Promise<void> {
    const f = this.facts(schema);
    if (!f.exists) {
      const p = check();
      f.exists = p;
      p.catch(() => {
        if (f.exists === p) f.exists = undefined;
      });
    }
    return f.exists;
  }

  /** Forgets everything known about `schema` (it may have been dropped): the next use reads the catalog again. */
  forgetSchema(schema: string): void {
    this.schemas.delete(schema);
  }

  /** The helper relations of `schema` (read from the catalog on `s` at the first call). */
  private helpersOf(s: RecordingSession, schema: string): Promise<Map<string, string>> {
    const f = this.facts(schema);
    if (!f.helpers) {
      const p = s
        .look<{ name: string; relkind: string }>(helperRelationsSql(), [schema, TMP_SUFFIX, BACKUP_SUFFIX])
        .then((r) => new Map(r.rows.map((row) => [String(row.name), String(row.relkind)])));
      f.helpers = p;
      p.catch(() => {
        if (f.helpers === p) f.helpers = undefined;
      });
    }
    return f.helpers;
  }

  /** The helper relations of `schema` that `match` accepts, sorted by name (as the per-node catalog query orders them). */
  async findHelpers(s: RecordingSession, schema: string, match: (name: string) => boolean): Promise<HelperRelation[]> {
    const all = await this.helpersOf(s, schema);
    return [...all]
      .filter(([name]) => match(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, relkind]) => ({ name, relkind }));
  }

  /** Records that helper `name` (of `relkind`) may exist from now on (call before creating it), or that it is gone (`relkind` null). */
  async noteHelper(s: RecordingSession, schema: string, name: string, relkind: string | null): Promise<void> {
    const all = await this.helpersOf(s, schema);
    if (relkind === null) all.delete(name);
    else all.set(name, relkind);
  }
}

/** SQL listing every swap helper relation in schema `$1`. Rows: `{ name, relkind }`. */
export function helperRelationsSql(): string {
  return [
    'select c.relname::text as name, c.relkind::text as relkind',
    'from pg_catalog.pg_class c',
    'join pg_catalog.pg_namespace n on n.oid = c.relnamespace',
    "where n.nspname = $1 and (pg_catalog.strpos(c.relname, $2) > 0 or pg_catalog.strpos(c.relname, $3) > 0)",
  ].join('\n');
}

