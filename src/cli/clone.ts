/**
 * `tsdbt clone --state DIR`: dbt's CloneTask with dbt-adapters' `clone`
 * materialization as dbt-postgres runs it (PostgreSQL cannot clone a table
 * without copying it: `can_clone_table()` is false), for each selected
 * model, seed and snapshot (ephemeral models are not run, as in dbt):
 *  - no relation for the node in DIR's manifest (absent there, or ephemeral)
 *    → "No relation found in state manifest for <unique_id>", a no-op;
 *  - a relation (of any kind) already at the node's place in this target, and
 *    no `--full-refresh` → "Relation <schema>.<alias> already exists", a no-op;
 *  - otherwise the view materialization builds `select * from <the state's
 *    relation>` there (an existing table is replaced by the view).
 * Nodes run independently (dbt's GraphRunnableMode.Independent: no DAG
 * order, a failure stops nothing else). `--state` is required, and may not be
 * this target's own target/ folder. Results go to target/run_results.json
 * (message `No-op` or the statement's, e.g. `CREATE VIEW`).
 * A node's pre/post hooks are not run by tsdbt's clone (dbt's view
 * materialization would run them): a warning says so when a cloned node has hooks.
 * Registered by src/cli/main.ts with one call to {@link registerCloneCommand}.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Console } from './console.ts';
import type { ActionWrapper } from './docs-commands.ts';
import { common } from './flags.ts';
import { openSession, parseSession, select, writeResults, loadState, type CommonFlags, type Session } from './pipeline.ts';
import { TsdbtError } from '../errors.ts';
import { DatabaseError } from '../adapters/adapter.ts';
import { createAdapter } from '../adapters/index.ts';
import { materialize } from '../materializations/index.ts';
import type { Manifest, ManifestNode } from '../parse/manifest.ts';
import type { NodeResult } from '../artifacts/index.ts';

/** dbt's REFABLE_NODE_TYPES: what clone selects. */
const CLONE_TYPES = ['model', 'seed', 'snapshot'] as const;

/** Adds `clone` to `program`. */
export function registerCloneCommand(program: Command, act: ActionWrapper, out: Console): Command {
  return common(
    program.command('clone').description("make each selected model, seed and snapshot a view over its relation in --state DIR's manifest (dbt clone on Postgres)"),
    { selection: true },
  )
    .option('--full-refresh', 'replace relations that already exist in this target too (env: DBT_FULL_REFRESH)')
    .option('--threads <n>', 'accepted for dbt compatibility; nodes are cloned one after another')
    .action(act((flags) => cloneCommand(flags, out)));
}

/** The state's relation a node clones (dbt's `defer_relation`), or null (absent from the state, ephemeral, not refable). */
export function deferRelationOf(state: Manifest, uniqueId: string): { schema: string; identifier: string; relationName: string | null } | null {
  const other = state.nodes[uniqueId];
  if (!other || !(CLONE_TYPES as readonly string[]).includes(other.resource_type) || other.config?.materialized === 'ephemeral') return null;
  return { schema: other.schema, identifier: other.alias, relationName: other.relation_name ?? null };
}

/** Runs `clone`; resolves to the exit code (0, or 1 when a node failed). */
export async function cloneCommand(flags: CommonFlags & { fullRefresh?: boolean }, out: Console): Promise<number> {
  const s: Session = openSession(flags, out);
  if (!s.flags.state) {
    throw new TsdbtError('bad-flag', '--state or --defer-state are required for deferral, but neither was provided', {
      hint: 'tsdbt clone --state DIR, DIR being the target/ folder (manifest.json) of the run whose relations to clone',
    });
  }
  const targetDir = resolve(s.project.root, s.project.targetPath);
  if (resolve(s.flags.state) === targetDir) {
    throw new TsdbtError('bad-flag', `The state and target directories are the same: '${s.flags.state}'. Pass a copy of another run's target/ as --state`, {
      hint: 'copy the target/ of the run to clone from elsewhere (e.g. prod-state/) and pass that, or write this run elsewhere with --target-path',
    });
  }
  const p = parseSession(s, out);
  const state = loadState(s).manifest;
  const manifest = p.parsed.manifest;
  const chosen = select(s, p, [...CLONE_TYPES], out).filter((id) => {
    const n = manifest.nodes[id];
    return n && n.config.materialized !== 'ephemeral';
  });
  if (!chosen.length) {
    out.warn('Nothing to do: the selection matched no nodes.');
    writeResults(s, [], 'clone');
    return 0;
  }
  const fullRefresh = !!flags.fullRefresh;
  const results: NodeResult[] = [];
  const adapter = await createAdapter(s.target);
  try {
    out.info(`Running with tsdbt on ${s.target.type} (target ${s.target.name}, schema ${s.target.schema}): cloning ${chosen.length} node${chosen.length === 1 ? '' : 's'} from ${s.flags.state}`);
    out.info('');
    // The relations present in the schemas this clone writes (dbt's populate_adapter_cache).
    const existing = new Map<string, string>();
    for (const schema of new Set(chosen.map((id) => manifest.nodes[id]!.schema))) {
      for (const r of await adapter.listRelations(schema)) existing.set(`${r.schema}.${r.identifier}`, r.kind);
    }
    let index = 0;
    for (const id of chosen) {
      index++;
      const node = manifest.nodes[id]!;
      const r = await cloneOne(node, state, existing, fullRefresh, adapter, out);
      results.push(r);
      const shown = `${index} of ${chosen.length} ${r.status === 'success' ? 'OK' : 'ERROR'} cloned ${node.resource_type} ${node.schema}.${node.alias}`;
      const tail = `[${r.status === 'success' ? (r.message ?? 'No-op') : 'ERROR'} in ${r.execution_time.toFixed(2)}s]`;
      if (r.status === 'success') out.info(`${shown} ${tail}`);
      else out.error(`${shown} ${tail}\n  ${r.message}`);
    }
  } finally {
    await adapter.close();
  }
  writeResults(s, results, 'clone');
  const failed = results.filter((r) => r.status === 'error').length;
  out.info('');
  out.info(`Finished cloning ${results.length} node${results.length === 1 ? '' : 's'}: ${results.length - failed} ok, ${failed} error${failed === 1 ? '' : 's'}`);
  return failed ? 1 : 0;
}

async function cloneOne(
  node: ManifestNode,
  state: Manifest,
  existing: Map<string, string>,
  fullRefresh: boolean,
  adapter: Awaited<ReturnType<typeof createAdapter>>,
  out: Console,
): Promise<NodeResult> {
  const started = new Date().toISOString();
  const t0 = performance.now();
  const result = (status: 'success' | 'error', message: string, sql: string | null, response: Record<string, unknown> = {}): NodeResult => ({
    unique_id: node.unique_id,
    status,
    timing: [{ name: 'execute', started_at: started, completed_at: new Date().toISOString() }],
    thread_id: 'Thread-1',
    execution_time: (performance.now() - t0) / 1000,
    adapter_response: response,
    message,
    failures: null,
    compiled_code: sql,
    relation_name: node.relation_name,
  });
  const defer = deferRelationOf(state, node.unique_id);
  if (!defer) {
    out.info(`No relation found in state manifest for ${node.unique_id}`);
    return result('success', 'No-op', null);
  }
  const here = `${node.schema}.${node.alias}`;
  if (existing.has(here) && !fullRefresh) {
    out.info(`Relation ${here} already exists`);
    return result('success', 'No-op', null);
  }
  const q = (x: string) => adapter.quoteIdentifier(x);
  const from = defer.relationName ?? `${q(defer.schema)}.${q(defer.identifier)}`;
  const sql = `select * from ${from}`;
  const cfg = node.config as Record<string, unknown>;
  if (['pre-hook', 'post-hook', 'pre_hook', 'post_hook'].some((k) => Array.isArray(cfg[k]) && (cfg[k] as unknown[]).length > 0)) {
    out.warn(`[partial] ${node.original_file_path}: tsdbt clone does not run the pre/post hooks of ${node.resource_type} '${node.name}' (dbt's view materialization would)`);
  }
  try {
    await adapter.createSchema(node.schema);
    const r = await adapter.withConnection((conn) =>
      materialize({
        conn,
        adapter,
        relation: { schema: node.schema, identifier: node.alias },
        sql,
        config: { ...node.config, materialized: 'view' },
        fullRefresh,
        docs: { description: node.description, columns: Object.values(node.columns ?? {}).map((c) => ({ name: c.name, description: c.description })) },
      }),
    );
    existing.set(here, 'view');
    return result('success', r.message, sql, { _message: r.message, code: r.message.split(' ')[0], rows_affected: r.rowsAffected ?? -1 });
  } catch (e) {
    if (e instanceof TsdbtError) return result('error', e.format(), sql);
    if (e instanceof DatabaseError) return result('error', `Database Error in ${node.resource_type} ${node.name} (${node.original_file_path})\n  ${e.message}`, sql);
    throw e;
  }
}

