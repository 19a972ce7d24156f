/**
 * The Citus distribution configs of a model or seed, read from its config (pure; no database).
 *
 * Named as dbt-redshift users know them (`dist:`), with Citus's options:
 *   - `dist: <column>`   — a hash-distributed table on that column (`create_distributed_table`);
 *     `colocate_with: <model name> | none` and `shard_count: N` as options;
 *   - `dist: reference`  — a reference table copied to every node (`create_reference_table`);
 *     `dist: all` is accepted as the same (dbt-redshift's `diststyle all`);
 *   - no `dist`           — a plain local table, as without Citus.
 * Settable in `config()`, properties files and `dbt_project.yml` (`+dist:`), like any config.
 * The materialization side is src/materializations/citus.ts.
 */

/** A model's distribution, normalised. `colocateWith` is the model name as written, or `none`; absent: Citus's default. */
export type Distribution =
  | { readonly kind: 'hash'; readonly column: string; readonly colocateWith?: string; readonly shardCount?: number }
  | { readonly kind: 'reference' };

/** The config keys this module reads. */
export const DIST_CONFIG_KEYS = ['dist', 'colocate_with', 'shard_count'] as const;

/**
 * Reads `dist`, `colocate_with` and `shard_count` from a node's config.
 *
 * @returns `{ distribution }` (undefined when `dist` is unset or null) or `{ problem }`, one sentence saying what is
 *   wrong with the values (for a TsdbtError naming the node): a `dist` that is not a string, an empty one,
 *   `colocate_with` / `shard_count` without a column `dist`, a `shard_count` that is not a whole number in 1..64000.
 */
export function readDistribution(config: Readonly<Record<string, unknown>>): { distribution?: Distribution; problem?: string } {
  const dist = config.dist;
  const colocate = config.colocate_with;
  const shards = config.shard_count;
  const has = (v: unknown) => v !== undefined && v !== null;
  if (!has(dist)) {
    if (has(colocate) || has(shards)) return { problem: '`colocate_with` and `shard_count` need `dist: <column>` (a hash-distributed table)' };
    return {};
  }
  if (typeof dist !== 'string' || dist.trim() === '') return { problem: `\`dist\` must be a column name, \`reference\` or \`all\`, not ${JSON.stringify(dist)}` };
  const d = dist.trim();
  if (/^(reference|all)$/i.test(d)) {
    if (has(colocate) || has(shards)) return { problem: `\`colocate_with\` and \`shard_count\` apply to hash-distributed tables only, not to \`dist: ${d}\` (a reference table is on every node)` };
    return { distribution: { kind: 'reference' } };
  }
  if (has(colocate) && (typeof colocate !== 'string' || colocate.trim() === '')) {
    return { problem: `\`colocate_with\` must be a model name or \`none\`, not ${JSON.stringify(colocate)}` };
  }
  let shardCount: number | undefined;
  if (has(shards)) {
    const n = typeof shards === 'string' && /^\d+$/.test(shards.trim()) ? Number(shards) : shards;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 64000) return { problem: `\`shard_count\` must be a whole number from 1 to 64000, not ${JSON.stringify(shards)}` };
    shardCount = n;
  }
  const colocateWith = typeof colocate === 'string' ? colocate.trim() : undefined;
  return { distribution: { kind: 'hash', column: d, ...(colocateWith ? { colocateWith } : {}), ...(shardCount ? { shardCount } : {}) } };
}

/** True when a config asks for Citus distribution (`dist` set to anything). */
export function wantsDistribution(config: Readonly<Record<string, unknown>>): boolean {
  return config.dist !== undefined && config.dist !== null;
}
