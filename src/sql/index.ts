/**
 * src/sql — tsdbt reads the SQL it compiled with PostgreSQL's own parser
 * (libpg-query): syntax errors before anything runs, mapped back to the
 * model file's line (validate.ts, source-map.ts), and column-level lineage
 * (lineage.ts, project-lineage.ts). See README.md in this folder.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompileErrors, TsdbtError } from '../errors.ts';
import type { Manifest } from '../parse/manifest.ts';
import type { CompiledNode } from '../compile/compile.ts';
import { writeFileAtomic } from '../artifacts/index.ts';
import { writeFileAtomicInBackground } from '../compile/background-writes.ts';
import { loadSqlParser, sqlParserReady } from './parser.ts';
import { validateCompiled, validateLoose, type LooseStatement, type MacroSource } from './validate.ts';
import { projectColumnLineage, type ProjectLineage } from './project-lineage.ts';
import { testColumnsNotProduced, testsOnColumn } from './test-columns.ts';
import { unitTestFixtureErrors } from './rendered.ts';

export { loadSqlParser, warmSqlParser, parseSql } from './parser.ts';
export { validateCompiled, validateLoose, validationOff, type LooseStatement, type MacroSource, type SqlValidation } from './validate.ts';
export { statementLineage, type NodeLineage, type ColumnLineage, type UpstreamColumn, type LineageKind } from './lineage.ts';
export { projectColumnLineage, columnTree, type ProjectLineage, type ColumnTree, type ColumnRef } from './project-lineage.ts';
export { testColumnsNotProduced } from './test-columns.ts';
export { checkRenderedSql, renderableAhead, noDatabase, unitTestFixtureErrors } from './rendered.ts';
export { fromReferenceErrors, type FromReferenceError } from './scope-check.ts';
export { locateRendered, type MapTemplate, type TemplateLocation } from './source-map.ts';

/** Where {@link checkProjectSql} prints. */
export interface SqlCheckOutput {
  info(msg: string): void;
  warn(msg: string): void;
}

/**
 * The check every compiling command runs after compile and before any node
 * runs: parses each compiled model, data test, snapshot and model hook
 * (all errors thrown at once), computes column lineage, writes
 * `<target>/lineage.json`, and warns for columns documented in properties
 * that a model does not produce. With `validate: false` (`--no-validate`)
 * it only says that it is off.
 * @returns the lineage (for manifest.json, see {@link withColumnLineage}), or null when off.
 * @throws TsdbtError / CompileErrors (`sql-syntax`, `sql-empty`, `sql-multiple-statements`); exit 2.
 */
export async function checkProjectSql(opts: {
  readonly manifest: Manifest;
  readonly compiled: Iterable<CompiledNode>;
  readonly macros: readonly MacroSource[];
  readonly root: string;
  readonly targetPath: string;
  readonly validate?: boolean;
  readonly out?: SqlCheckOutput;
  /** `on-run-start` / `on-run-end` hooks: those without Jinja, and those with Jinja given `rendered` ahead, are checked. */
  readonly hooks?: readonly LooseStatement[];
}): Promise<ProjectLineage | null> {
  if (opts.validate === false) {
    opts.out?.info('SQL validation is off (--no-validate): syntax errors will surface only when the database runs each statement; no column lineage is written');
    return null;
  }
  await loadSqlParser();
  const v = validateCompiled(opts.manifest, opts.compiled, opts.macros, { root: opts.root });
  const errors = [...validateLoose(opts.hooks ?? [], opts.root), ...unitTestFixtureErrors(opts.manifest, opts.root), ...v.errors];
  if (v.skipped.length) {
    const names = v.skipped.map((id) => opts.manifest.nodes[id]?.name ?? id);
    opts.out?.info(`SQL not validated (config validate: false or static_analysis: off): ${names.slice(0, 10).join(', ')}${names.length > 10 ? ` and ${names.length - 10} more` : ''}`);
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new CompileErrors(errors);
  const lineage = projectColumnLineage(opts.manifest, v.trees, opts.root);
  for (const w of undocumentedColumns(opts.manifest, lineage, opts.root)) opts.out?.warn(w.format());
  for (const w of testColumnsNotProduced(opts.manifest, lineage)) opts.out?.warn(w.format());
  writeLineageJson(join(opts.root, opts.targetPath), opts.manifest, lineage);
  return lineage;
}

/**
 * The check for one node compiled at run time (its templates ask the
 * database, so it compiled just before running): its syntax error becomes
 * that node's error. Does nothing under `validate: false`, or when the
 * parser was not loaded (the invocation's {@link checkProjectSql} did not run).
 * @throws TsdbtError `sql-syntax` / `sql-empty` / `sql-multiple-statements`.
 */
export function checkRunTimeNode(manifest: Manifest, compiled: CompiledNode, macros: readonly MacroSource[], opts: { readonly root: string; readonly validate?: boolean }): void {
  if (opts.validate === false || !sqlParserReady()) return;
  const v = validateCompiled(manifest, [compiled], macros, { root: opts.root });
  if (v.errors.length) throw v.errors[0];
}

/**
 * Column lineage of compiled nodes, for readers such as the docs site: parses
 * each compiled model / snapshot (loading the parser) and analyses them in DAG
 * order. Never throws for the user's SQL: a node that does not parse simply has
 * no entry. Shape per node: {@link NodeLineage} (`columns.<name> = {kind,
 * upstream: [{node, column, kind}]}`, `filters`, `complete`, `notes`); walk one
 * column across the DAG with {@link columnTree}.
 */
export async function compiledColumnLineage(manifest: Manifest, compiled: Iterable<CompiledNode>, root?: string): Promise<ProjectLineage> {
  await loadSqlParser();
  const v = validateCompiled(manifest, compiled, [], { root });
  return projectColumnLineage(manifest, v.trees, root);
}

/** `target/lineage.json`: `{metadata, nodes: {unique_id: {name, resource_type, columns, filters, complete, notes}}}`. */
export function lineageJson(manifest: Manifest, lineage: ProjectLineage): Record<string, unknown> {
  const nodes: Record<string, unknown> = {};
  for (const id of [...lineage.keys()].sort()) {
    const n = manifest.nodes[id];
    nodes[id] = { name: n?.name, resource_type: n?.resource_type, original_file_path: n?.original_file_path, ...lineage.get(id) };
  }
  return {
    metadata: { lineage_version: 1, generated_at: new Date().toISOString(), invocation_id: manifest.metadata.invocation_id, parser: 'libpg-query (PostgreSQL 18 grammar)' },
    nodes,
  };
}

/**
 * Writes `<dir>/lineage.json` (compact JSON); a large one is written by the
 * writer thread (src/compile/background-writes.ts), on disk after
 * flushBackgroundWrites().
 */
export function writeLineageJson(dir: string, manifest: Manifest, lineage: ProjectLineage): void {
  writeFileAtomicInBackground(join(dir, 'lineage.json'), JSON.stringify(lineageJson(manifest, lineage)), writeFileAtomic);
}

/**
 * The manifest with each documented column of a node that has lineage given
 * a `lineage: {kind, upstream}` field (dbt's manifest v12 schema allows extra
 * properties on ColumnInfo, not on nodes). The manifest is not changed.
 */
export function withColumnLineage(manifest: Manifest, lineage: ProjectLineage | null | undefined): Manifest {
  if (!lineage || !lineage.size) return manifest;
  const nodes = { ...manifest.nodes };
  for (const [id, l] of lineage) {
    const n = nodes[id];
    if (!n || !Object.keys(n.columns).length) continue;
    const columns = { ...n.columns };
    for (const [name, c] of Object.entries(columns)) {
      const cl = l.columns[name];
      if (cl) columns[name] = { ...c, lineage: cl } as typeof c;
    }
    nodes[id] = { ...n, columns };
  }
  return { ...manifest, nodes };
}

/**
 * Warnings (`column-not-produced`) for each column documented in properties
 * that the model's SQL does not produce — only for models whose output
 * columns are completely known. Points at the column's `- name:` line in
 * the properties file when it can be found.
 */
export function undocumentedColumns(manifest: Manifest, lineage: ProjectLineage, root: string): TsdbtError[] {
  const warnings: TsdbtError[] = [];
  const texts = new Map<string, string | null>();
  for (const [id, l] of lineage) {
    const n = manifest.nodes[id];
    if (!n || n.resource_type !== 'model' || !l.complete) continue;
    const produced = new Set(Object.keys(l.columns).map((c) => c.toLowerCase()));
    for (const col of Object.keys(n.columns)) {
      if (produced.has(col.toLowerCase()) || produced.has(col.replace(/^"|"$/g, '').toLowerCase())) continue;
      const file = n.patch_path ? n.patch_path.replace(/^[^:]*:\/\//, '') : n.original_file_path;
      if (!texts.has(file)) {
        try {
          texts.set(file, readFileSync(join(root, file), 'utf8'));
        } catch {
          texts.set(file, null);
        }
      }
      const line = columnLine(texts.get(file) ?? null, n.name, col);
      warnings.push(
        new TsdbtError('column-not-produced', `column '${col}' is documented for model '${n.name}', but its SQL does not produce it (it produces ${Object.keys(l.columns).join(', ') || 'no columns'})${testNote(manifest, id, col)}`, {
          file,
          line,
          hint: `rename or remove the column in ${file}, or add it to ${n.original_file_path}`,
        }),
      );
    }
  }
  return warnings;
}

/** `; its data tests will fail when they run: not_null_m_c` when the column has generic tests. */
function testNote(manifest: Manifest, model: string, col: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_$]*$|^"(?:[^"]|"")+"$/.test(col.trim())) return ''; // an expression such as lower(name): its tests may well pass
  const tests = testsOnColumn(manifest, model, col);
  return tests.length ? `; ${tests.length === 1 ? 'its data test' : 'its data tests'} ${tests.join(', ')} will fail when run (column "${col}" does not exist)` : '';
}

/** 1-based line of `- name: col` after the model's `- name: model` entry in a properties file. */
function columnLine(text: string | null, model: string, col: string): number | undefined {
  if (!text) return undefined;
  const lines = text.split('\n');
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = lines.findIndex((l) => new RegExp(`^\\s*-\\s*name:\\s*['"]?${esc(model)}['"]?\\s*$`).test(l));
  if (m < 0) return undefined;
  const indent = lines[m].search(/\S/);
  for (let i = m + 1; i < lines.length; i++) {
    const l = lines[i];
    if (/^\s*-\s*name:/.test(l) && l.search(/\S/) <= indent) break;
    if (new RegExp(`^\\s*-\\s*name:\\s*['"]?${esc(col)}['"]?\\s*$`).test(l)) return i + 1;
  }
  return undefined;
}
