/**
 * `--inline "select … {{ ref('x') }}"` for `show` and `compile`, as dbt's
 * inline SQL node (dbt-core's `SqlBlockParser` makes a node named
 * `inline_query`, parses it like a model — its `ref`/`source` calls recorded —
 * and compiles it with the run-time context, ephemeral parents inlined as
 * CTEs). Nothing is written to target/compiled/ for it.
 */
import { Diagnostics, TsdbtError } from '../errors.ts';
import { Compiler } from '../compile/compile.ts';
import type { RelationState } from '../compile/compile.ts';
import type { Adapter } from '../adapters/adapter.ts';
import type { ManifestNode, Manifest } from '../parse/manifest.ts';
import { ParseRenderer } from '../parse/parse-render.ts';
import { NameLookup } from '../parse/ref-lookup.ts';
import { lookupKeys, refKey } from '../parse/model-versions.ts';
import { sha256 } from '../parse/node-fields.ts';
import type { Parsed, Session } from './pipeline.ts';

/** The name dbt gives the inline node (`inline_query`), shown in errors and in `show --output json`. */
export const INLINE_NODE_NAME = 'inline_query';
/** What an inline node's errors name as their file (no file exists). */
const INLINE_FILE = '--inline';

/**
 * The inline SQL as a node of the project: parsed like a model (parse-phase
 * render, `execute` false) to record its refs and sources, which are
 * resolved here as dbt resolves a root-project node's refs.
 * Internally an `analysis` (compiled like one, never materialized); its
 * unique_id is dbt's `sql_operation.<project>.inline_query`.
 * @throws TsdbtError `ref-not-found` / `source-not-found` (file `--inline`), or a template error.
 */
export function inlineNode(s: Session, p: Parsed, sql: string): ManifestNode {
  const m = p.parsed.manifest;
  const project = m.metadata.project_name ?? s.project.name;
  const diags = new Diagnostics();
  const renderer = new ParseRenderer({
    project: s.project, target: s.target, cliVars: s.cliVars, invocationId: s.invocationId, env: process.env, jinja: p.parsed.jinja, database: p.parsed.database, diags,
  });
  const captured = renderer.capture(sql, INLINE_FILE, { materialized: 'view' }, null);
  diags.throwIfErrors();
  const refs = new NameLookup();
  for (const n of Object.values(m.nodes)) {
    if (n.resource_type === 'model' || n.resource_type === 'seed' || n.resource_type === 'snapshot') for (const k of lookupKeys(n)) refs.add(k, n.package_name, n.unique_id);
  }
  const sources = new NameLookup();
  for (const src of Object.values(m.sources)) sources.add(`${src.source_name}.${src.name}`, src.package_name, src.unique_id);
  const dependsOn: string[] = [];
  for (const r of captured?.refs ?? []) {
    const id = refs.resolve(refKey(r.name, r.version), r.package, project, project);
    if (id === undefined) {
      throw new TsdbtError('ref-not-found', `the inline SQL refers to '${r.name}', which does not exist`, { file: INLINE_FILE, hint: 'check the name with `tsdbt ls --resource-type model seed snapshot --output name`' });
    }
    if (!dependsOn.includes(id)) dependsOn.push(id);
  }
  for (const [sn, tn] of captured?.sources ?? []) {
    const id = sources.resolve(`${sn}.${tn}`, null, project, project);
    if (id === undefined) throw new TsdbtError('source-not-found', `the inline SQL reads source('${sn}', '${tn}'), which is not declared`, { file: INLINE_FILE, hint: 'check the name with `tsdbt ls --resource-type source`' });
    if (!dependsOn.includes(id)) dependsOn.push(id);
  }
  return {
    unique_id: `sql_operation.${project}.${INLINE_NODE_NAME}`,
    resource_type: 'analysis',
    package_name: project,
    name: INLINE_NODE_NAME,
    path: INLINE_FILE,
    original_file_path: INLINE_FILE,
    fqn: [project, INLINE_NODE_NAME],
    raw_code: sql,
    language: 'sql',
    checksum: { name: 'sha256', checksum: sha256(sql) },
    config: { enabled: true, materialized: 'view', tags: [], meta: {} },
    tags: [],
    description: '',
    columns: {},
    meta: {},
    docs: { show: false },
    patch_path: null,
    database: p.parsed.database,
    schema: s.target.schema,
    alias: INLINE_NODE_NAME,
    relation_name: null,
    depends_on: { nodes: dependsOn, macros: [] },
    refs: (captured?.refs ?? []).map((r) => ({ ...r })),
    sources: (captured?.sources ?? []).map((x) => [...x] as [string, string]),
    created_at: Date.now() / 1000,
  };
}

/**
 * Compiles inline SQL with the run-time context (refs to real relations,
 * `execute` true, ephemeral parents as CTEs); a template that asks the
 * database (`run_query`, `adapter.get_columns_in_relation`, …) is compiled on
 * `adapter`, which is required then.
 * @throws TsdbtError (template, ref, or `needs-database` without an adapter), or a DatabaseError.
 */
export async function compileInline(s: Session, p: Parsed, sql: string, relations: RelationState, adapter: Adapter | null): Promise<string> {
  const node = inlineNode(s, p, sql);
  const m = p.parsed.manifest;
  const manifest: Manifest = { ...m, nodes: { ...m.nodes, [node.unique_id]: node } };
  const compiler = new Compiler(
    {
      project: s.project,
      parsed: { ...p.parsed, manifest },
      target: s.target,
      cliVars: s.cliVars,
      invocationId: s.invocationId,
      fullRefresh: false,
      relations,
      selected: [node.unique_id],
      flags: { FULL_REFRESH: false, WHICH: 'compile' },
    },
    [node.unique_id],
  );
  const { compiled, atRunTime } = compiler.compileUpFront();
  const done = compiled.get(node.unique_id);
  if (done) return done.compiledCode;
  if (!atRunTime.has(node.unique_id)) throw new TsdbtError('compile-failed', 'the inline SQL did not compile', { file: INLINE_FILE });
  if (!adapter) {
    throw new TsdbtError('needs-database', 'the inline SQL asks the database while compiling (run_query, adapter introspection, statement), and no connection is open', {
      file: INLINE_FILE,
      hint: 'start the database of the target (or choose another with --target)',
    });
  }
  const c = await adapter.withConnection((conn) => compiler.compileAtRunTime(node.unique_id, conn));
  return c.compiledCode;
}
