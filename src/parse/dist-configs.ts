/**
 * Parse-time checks of the Citus distribution configs (`dist`, `colocate_with`, `shard_count`; see
 * src/config/dist-config.ts): every bad value is an error naming the node's file, and a model named by
 * `colocate_with` becomes a dependency (its distributed table must exist before the colocated one is built),
 * as a foreign key constraint's `to: ref()` does.
 */
import { readDistribution } from '../config/dist-config.ts';
import { TsdbtError } from '../errors.ts';
import type { ManifestBuilder } from './manifest-builder.ts';

/** The materializations `dist` applies to; on any other it is ignored with a warning. */
const DISTRIBUTABLE = new Set(['table', 'incremental', 'seed']);

/**
 * Checks `dist` / `colocate_with` / `shard_count` on every model and seed of `b`: values (errors), a `dist` column
 * missing from an enforced contract's columns (error: the model would not produce it), `colocate_with` naming
 * an unknown model or itself (error), `dist` on a view, ephemeral or snapshot (a warning: ignored there).
 */
export function checkDistConfigs(b: ManifestBuilder): void {
  for (const node of Object.values(b.nodes)) {
    if (node.resource_type !== 'model' && node.resource_type !== 'seed' && node.resource_type !== 'snapshot') continue;
    if (node.config.enabled === false) continue;
    const where = { file: node.original_file_path, kind: 'project' as const };
    const { distribution, problem } = readDistribution(node.config);
    if (problem) {
      b.diags.error(new TsdbtError('invalid-dist-config', `config 'dist' of ${node.resource_type} '${node.name}': ${problem}.`, { ...where, hint: 'Write dist: <column> (with optional colocate_with: <model> | none and shard_count: N) or dist: reference.' }));
      continue;
    }
    if (!distribution) continue;
    const materialized = String(node.config.materialized ?? (node.resource_type === 'seed' ? 'seed' : 'view'));
    if (!DISTRIBUTABLE.has(materialized)) {
      b.warnings.push(new TsdbtError('dist-ignored', `config 'dist' of ${node.resource_type} '${node.name}' is ignored: only tables, incremental models and seeds are distributed (this one is ${materialized === 'snapshot' ? 'a snapshot' : `materialized as ${materialized}`}).`, { ...where, hint: 'A view or ephemeral model over distributed tables needs no dist of its own; remove dist from it.' }));
      continue;
    }
    if (distribution.kind !== 'hash') continue;
    const contract = (node.config as { contract?: { enforced?: boolean } }).contract;
    const declared = Object.keys(node.columns);
    if (contract?.enforced === true && declared.length > 0 && !declared.includes(distribution.column)) {
      b.diags.error(new TsdbtError('dist-column-missing', `${node.resource_type} '${node.name}' sets dist: ${distribution.column}, but its contract has no column '${distribution.column}' (it has ${declared.join(', ')}).`, { ...where, hint: 'Set dist to one of the model\'s columns (names are case-sensitive).' }));
    }
    const other = distribution.colocateWith;
    if (!other || other.toLowerCase() === 'none') continue;
    const target = Object.values(b.nodes).find((n) => n.resource_type === 'model' && n.name === other && n.config.enabled !== false);
    if (!target || target.unique_id === node.unique_id) {
      b.diags.error(new TsdbtError('colocate-with-missing', `${node.resource_type} '${node.name}' sets colocate_with: ${other}, ${target ? 'which is the model itself' : 'which is not a model of this project'}.`, { ...where, hint: 'Name another model with dist: <column> (by file name), or write colocate_with: none.' }));
      continue;
    }
    if (!node.depends_on.nodes.includes(target.unique_id)) node.depends_on.nodes.push(target.unique_id);
  }
}
