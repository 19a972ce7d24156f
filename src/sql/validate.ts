/**
 * SQL validation before anything runs: every compiled model, data test and
 * snapshot, and every model hook, is parsed with PostgreSQL's own grammar
 * (libpg-query). A syntax error is reported at the model file's line and
 * column — mapped back through the Jinja render (see source-map.ts), into a
 * macro when the macro's text holds the error — with the line, a caret and
 * PostgreSQL's message. A model or test that renders to nothing, or to more
 * than one statement, is an error too (dbt sends one statement; a trailing
 * `;` is fine: tsdbt strips it before wrapping the SELECT). A column
 * qualified by a name that is no FROM item in scope is `sql-from-reference`
 * (scope-check.ts), at the reference, in PostgreSQL's words. Analyses are
 * checked for syntax and FROM references only (never run: any number of
 * statements).
 *
 * Off for the whole invocation with `--no-validate`, or for one node with
 * the config `validate: false` (for syntax the bundled parser, PostgreSQL
 * 18's, does not know).
 */
import { readFileSync } from 'node:fs';
import { TsdbtError, lineColumnAt } from '../errors.ts';
import type { Manifest, ManifestNode } from '../parse/manifest.ts';
import type { CompiledNode, HookSql } from '../compile/compile.ts';
import { parseSql, type ParseResult } from './parser.ts';
import { locateRendered, type MapTemplate, type TemplateLocation } from './source-map.ts';
import { fromReferenceErrors, type FromReferenceError } from './scope-check.ts';

/** A macro as the Jinja environment knows it (JinjaEnv.macroDefinitions()). */
export interface MacroSource {
  readonly uniqueId: string;
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly sql: string;
}

/** What {@link validateCompiled} found. */
export interface SqlValidation {
  /** Every error, in node order: `sql-syntax`, `sql-empty`, `sql-multiple-statements`. */
  readonly errors: readonly TsdbtError[];
  /** unique_id → the parse tree of each validated model / snapshot (for column lineage). */
  readonly trees: ReadonlyMap<string, ParseResult>;
  /** Nodes left out by `validate: false`. */
  readonly skipped: readonly string[];
}

/** Analyses are compiled (never run by tsdbt): checked for syntax and FROM references only, any number of statements. */
const VALIDATED = new Set(['model', 'test', 'snapshot', 'analysis']);
/** Materializations that wrap the model in one statement; a custom one may run a multi-statement body. */
const BUILTIN_MATERIALIZATIONS = new Set(['view', 'table', 'incremental', 'ephemeral', 'materialized_view']);

/**
 * True when the node's config turns validation off: tsdbt's `validate: false`
 * (also as text), or dbt's `static_analysis: off` (dbt ≥ 1.10's config for
 * SQL-parsing engines).
 */
export function validationOff(node: Pick<ManifestNode, 'config'>): boolean {
  const cfg = node.config as Record<string, unknown>;
  const v = cfg.validate;
  return v === false || v === 'false' || v === 'False' || cfg.static_analysis === 'off' || cfg.static_analysis === false;
}

/**
 * Parses the compiled SQL of every model, data test, snapshot and analysis in
 * `compiled`, and each rendered model hook; checks FROM references. Never throws for the user's SQL:
 * every problem is an entry of `errors` (throw them together, e.g. as
 * CompileErrors). The parser must be loaded (loadSqlParser()).
 */
export function validateCompiled(manifest: Manifest, compiled: Iterable<CompiledNode>, macros: readonly MacroSource[], opts: { readonly root?: string } = {}): SqlValidation {
  const errors: TsdbtError[] = [];
  const trees = new Map<string, ParseResult>();
  const skipped: string[] = [];
  const seen = new Set<string>();
  const push = (e: TsdbtError) => {
    const key = `${e.file}:${e.line}:${e.column}:${e.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    errors.push(e);
  };
  for (const c of compiled) {
    const node = manifest.nodes[c.uniqueId];
    if (!node || !VALIDATED.has(node.resource_type)) continue;
    if (validationOff(node)) {
      skipped.push(node.unique_id);
      continue;
    }
    const r = parseSql(c.compiledCode);
    if (!r.ok) {
      push(syntaxError(manifest, node, c, c.compiledCode, r.offset, r.message, macros, opts.root));
      continue;
    }
    const what = node.resource_type === 'test' ? 'data test' : node.resource_type;
    if (node.resource_type === 'analysis') {
      for (const f of fromReferenceErrors(r.tree, c.compiledCode)) push(syntaxError(manifest, node, c, c.compiledCode, f.offset, f.message, macros, opts.root, f));
      continue;
    }
    if (r.statements.length === 0) {
      push(
        new TsdbtError('sql-empty', `${what} '${node.name}' renders to no SQL statement`, {
          file: node.original_file_path,
          hint: `a ${what} is one SELECT; if its SQL comes from a macro or an if-block, check what it renders to in ${c.compiledPath}`,
        }),
      );
      continue;
    }
    if (r.statements.length > 1 && (node.resource_type !== 'model' || BUILTIN_MATERIALIZATIONS.has(String(node.config.materialized ?? 'view')))) {
      const second = r.statements[1];
      const loc = mapOrCompiled(manifest, node, c, c.compiledCode, second.start, macros, opts.root);
      push(
        new TsdbtError('sql-multiple-statements', `${what} '${node.name}' holds ${r.statements.length} SQL statements; a ${what} is one SELECT\n${excerpt(loc)}`, {
          file: loc.file,
          line: loc.line,
          column: loc.column,
          hint: `remove the ';' that ends the first statement (a trailing ';' at the end is fine); put other statements in a pre_hook / post_hook`,
        }),
      );
      continue;
    }
    // A qualifier that names no FROM item (scope-check.ts): PostgreSQL's run-time error, found now.
    for (const f of fromReferenceErrors(r.tree, c.compiledCode)) push(syntaxError(manifest, node, c, c.compiledCode, f.offset, f.message, macros, opts.root, f));
    if (node.resource_type !== 'test') trees.set(node.unique_id, r.tree);
    for (const [field, key] of [['preHooks', 'pre_hook'], ['postHooks', 'post_hook'], ['beforeBeginHooks', 'pre_hook'], ['afterCommitHooks', 'post_hook']] as const) {
      for (const h of c[field] ?? []) {
        if (typeof h !== 'string') continue; // rendered when it runs (it asks the database)
        const hr = parseSql(h);
        if (!hr.ok) push(hookError(node, key, h, hr.offset, hr.message));
      }
    }
  }
  return { errors, trees, skipped };
}

/** A statement outside the nodes (an `on-run-start` / `on-run-end` hook) as written in `file`. */
export interface LooseStatement {
  /** e.g. `on-run-start hook 0`. */
  readonly label: string;
  /** Project-relative file that holds it (dbt_project.yml). */
  readonly file: string;
  /** The hook as written (a template when it holds Jinja). */
  readonly sql: string;
  /** The hook rendered ahead of the run, when its template could be (src/sql/rendered.ts: renderableAhead). */
  readonly rendered?: string;
}

/**
 * Parses the `on-run-start` / `on-run-end` hooks: those without Jinja as
 * written, those with Jinja as `rendered` ahead when given (the others are
 * checked when they are rendered, at run time: see rendered.ts). Any number
 * of statements is fine. An error points at the hook's text in `file` when
 * found there (`root`: the project directory) — through the Jinja render for
 * a rendered hook — else at the file.
 */
export function validateLoose(list: readonly LooseStatement[], root?: string): TsdbtError[] {
  const errors: TsdbtError[] = [];
  for (const h of list) {
    const templated = /\{[{%#]/.test(h.sql);
    if (templated && typeof h.rendered !== 'string') continue;
    const sql = templated ? h.rendered! : h.sql;
    const r = parseSql(sql);
    if (r.ok) continue;
    let text = '';
    try {
      text = root ? readFileSync(`${root}/${h.file}`, 'utf8') : '';
    } catch {
      text = '';
    }
    const at = text ? text.indexOf(h.sql) : -1;
    let where: { line: number; column: number; lineText: string } | null = null;
    if (at >= 0 && templated) {
      const base = lineColumnAt(text, at);
      const loc = locateRendered(sql, Math.min(r.offset, Math.max(0, sql.length - 1)), { file: h.file, text: h.sql, line: base.line, column: base.column, label: h.label }, []);
      if (loc) where = { line: loc.line, column: loc.column, lineText: text.split('\n')[loc.line - 1] ?? '' };
    } else if (at >= 0) {
      const lc = lineColumnAt(text, at + Math.min(r.offset, h.sql.length));
      where = { ...lc, lineText: text.split('\n')[lc.line - 1] ?? '' };
    }
    const shown = where ?? { ...lineColumnAt(sql, r.offset), lineText: '' };
    if (!where) shown.lineText = sql.split('\n')[shown.line - 1] ?? '';
    errors.push(
      new TsdbtError('sql-syntax', `${r.message} (PostgreSQL's parser, ${h.label}${templated ? ', rendered ahead of the run' : ''})\n${excerpt(shown)}`, {
        file: h.file,
        ...(where ? { line: where.line, column: where.column } : {}),
        hint: `fix the ${h.label} in ${h.file}; if it is valid PostgreSQL that the bundled parser does not know, run with --no-validate`,
      }),
    );
  }
  return errors;
}

/** The templates a node's SQL may come from besides its own file: ephemeral parents, then macros it calls (transitively), then every other macro. */
function calledTemplates(manifest: Manifest, node: ManifestNode, macros: readonly MacroSource[]): MapTemplate[] {
  const out: MapTemplate[] = [];
  const seenNodes = new Set<string>();
  const walkNodes = (n: ManifestNode) => {
    for (const d of n.depends_on.nodes) {
      const p = manifest.nodes[d];
      if (!p || seenNodes.has(d) || p.config.materialized !== 'ephemeral') continue;
      seenNodes.add(d);
      out.push({ file: p.original_file_path, text: p.raw_code, line: 1, column: 1, label: `model '${p.name}'` });
      walkNodes(p);
    }
  };
  walkNodes(node);
  const byId = new Map(macros.map((m) => [m.uniqueId, m]));
  const used = new Set<string>();
  const walkMacros = (ids: readonly string[]) => {
    for (const id of ids) {
      if (used.has(id)) continue;
      used.add(id);
      walkMacros(manifest.macros[id]?.depends_on.macros ?? []);
    }
  };
  walkMacros(node.depends_on.macros);
  const asTemplate = (m: MacroSource): MapTemplate => ({ file: m.file, text: m.sql, line: m.line, column: 1, label: `macro '${m.name}'` });
  for (const id of used) {
    const m = byId.get(id);
    if (m) out.push(asTemplate(m));
  }
  for (const m of macros) if (!used.has(m.uniqueId)) out.push(asTemplate(m));
  return out;
}

/** The node's own template: its raw code, placed where it sits in its file (a snapshot's body is inside the file). */
function rootTemplate(node: ManifestNode, root?: string): MapTemplate {
  let line = 1;
  let column = 1;
  const path = node.abs_path ?? (root ? `${root}/${node.original_file_path}` : undefined);
  if (path && node.resource_type === 'snapshot') {
    try {
      const text = readFileSync(path, 'utf8');
      const at = text.indexOf(node.raw_code);
      if (at > 0) ({ line, column } = lineColumnAt(text, at));
    } catch {
      // the file moved: lines relative to the body
    }
  }
  return { file: node.original_file_path, text: node.raw_code ?? '', line, column, label: `${node.resource_type} '${node.name}'` };
}

/** Maps a compiled offset to the template; falls back to the compiled file itself. */
function mapOrCompiled(manifest: Manifest, node: ManifestNode, c: CompiledNode, sql: string, offset: number, macros: readonly MacroSource[], root?: string): TemplateLocation {
  const pos = Math.min(offset, Math.max(0, sql.length - 1));
  let loc: TemplateLocation | null = null;
  try {
    loc = locateRendered(sql, pos, rootTemplate(node, root), calledTemplates(manifest, node, macros));
  } catch {
    loc = null;
  }
  if (loc) {
    // "at end of input": just after the last character.
    return offset >= sql.length && !loc.inTag ? { ...loc, column: loc.column + 1 } : loc;
  }
  const lc = lineColumnAt(sql, offset);
  const start = sql.lastIndexOf('\n', offset - 1) + 1;
  const nl = sql.indexOf('\n', offset);
  return { file: c.compiledPath, line: lc.line, column: lc.column, lineText: sql.slice(start, nl < 0 ? sql.length : nl), inTag: false, via: [] };
}

function syntaxError(manifest: Manifest, node: ManifestNode, c: CompiledNode, sql: string, offset: number, message: string, macros: readonly MacroSource[], root?: string, found?: FromReferenceError): TsdbtError {
  const code = found ? 'sql-from-reference' : 'sql-syntax';
  const by = found ? "PostgreSQL's error when it runs, found in the parse tree before" : "PostgreSQL's parser";
  const hintLine = found?.hint ? `\n  HINT: ${found.hint}` : '';
  const fix = found
    ? `qualify the column with a name its FROM clause gives (${found.hint ? found.hint.replace(/^Perhaps you meant to reference /, '').replace(/\.$/, '') : 'an alias or table name in scope'}), or add the table to FROM; set {{ config(validate=false) }} on ${node.name} to skip the check`
    : `fix the SQL there; if it is valid PostgreSQL that the bundled parser (PostgreSQL 18) does not know, set {{ config(validate=false) }} on ${node.name} or run with --no-validate`;
  // At end of input, point just after the last non-blank character.
  let at = offset;
  if (at >= sql.trimEnd().length) at = sql.trimEnd().length;
  const compiledAt = lineColumnAt(sql, at);
  if (node.test_metadata) {
    // A generic test's SQL is its test macro's: point into a project or package macro whose own text holds
    // the error; otherwise (tsdbt's built-in tests, a bad argument) at the test in its properties file.
    const user = macros.filter((m) => !m.uniqueId.startsWith('macro.dbt.'));
    const loc = mapOrCompiled(manifest, node, c, sql, at, user, root);
    if (loc.file === c.compiledPath || loc.inTag || loc.file === node.original_file_path) {
      const line = (node as ManifestNode & { line?: number }).line ?? node.refs[0]?.line;
      const start = sql.lastIndexOf('\n', at - 1) + 1;
      const nl = sql.indexOf('\n', at);
      const lineText = sql.slice(start, nl < 0 ? sql.length : nl);
      return new TsdbtError(
        code,
        `${message} (${by}, data test '${node.name}', in its compiled SQL ${c.compiledPath}:${compiledAt.line}:${compiledAt.column})\n${excerpt({ line: compiledAt.line, column: compiledAt.column, lineText })}${hintLine}`,
        {
          file: node.original_file_path,
          line,
          hint: `check the test's arguments and config (where:, column names, expressions) in ${node.original_file_path}; or set validate: false on the test, or run with --no-validate`,
        },
      );
    }
    macros = user;
  }
  const loc = mapOrCompiled(manifest, node, c, sql, at, macros, root);
  const lines = [excerpt(loc)];
  if (loc.inTag) lines.push(`  the error is in the output of this tag: ${quoteAround(sql, at)}`);
  for (const v of loc.via) lines.push(`  called from ${v.label} at ${v.file}:${v.line}`);
  if (loc.file !== c.compiledPath) lines.push(`  compiled SQL: ${c.compiledPath}:${compiledAt.line}:${compiledAt.column}`);
  if (found?.hint) lines.push(`  HINT: ${found.hint}`);
  return new TsdbtError(code, `${message} (${by}, ${node.resource_type} '${node.name}')\n${lines.join('\n')}`, {
    file: loc.file,
    line: loc.line,
    column: loc.column,
    hint: fix,
  });
}

function hookError(node: ManifestNode, key: string, sql: string, offset: number, message: string): TsdbtError {
  const cfg = (node.config as Record<string, unknown>)[key];
  const templates = (Array.isArray(cfg) ? cfg : [cfg]).map((h) => (typeof h === 'string' ? h : h && typeof h === 'object' && typeof (h as { sql?: unknown }).sql === 'string' ? (h as { sql: string }).sql : '')).filter(Boolean);
  // The hook's template, when it is written in the model's file: located there.
  for (const t of templates) {
    const at = node.raw_code?.indexOf(t) ?? -1;
    if (at < 0) continue;
    const inner = locateRendered(sql, Math.min(offset, sql.length - 1), { file: node.original_file_path, text: t, line: 1, column: 1, label: key }, []);
    if (!inner) continue;
    const base = lineColumnAt(node.raw_code, at);
    const line = base.line + inner.line - 1;
    const column = inner.line === 1 ? base.column + inner.column - 1 : inner.column;
    const lineText = node.raw_code.split('\n')[line - 1] ?? '';
    return new TsdbtError('sql-syntax', `${message} (PostgreSQL's parser, ${key} of ${node.resource_type} '${node.name}')\n${excerpt({ line, column, lineText })}`, {
      file: node.original_file_path,
      line,
      column,
      hint: `fix the ${key}; if it is valid PostgreSQL that the bundled parser does not know, set validate: false on ${node.name} or run with --no-validate`,
    });
  }
  const lc = lineColumnAt(sql, offset);
  const lineText = sql.split('\n')[lc.line - 1] ?? '';
  return new TsdbtError('sql-syntax', `${message} (PostgreSQL's parser, ${key} of ${node.resource_type} '${node.name}', as rendered)\n${excerpt({ line: lc.line, column: lc.column, lineText })}`, {
    file: node.original_file_path,
    hint: `fix the ${key} of ${node.name} (in its config: the model file, a properties file or dbt_project.yml); or set validate: false on it, or run with --no-validate`,
  });
}

/** `   12 | select a,, b` and a caret under the column. */
export function excerpt(loc: Pick<TemplateLocation, 'line' | 'column' | 'lineText'>): string {
  const num = String(loc.line);
  const pad = ' '.repeat(num.length);
  const before = loc.lineText.slice(0, Math.max(0, loc.column - 1)).replace(/[^\t]/g, ' ');
  return `  ${num} | ${loc.lineText}\n  ${pad} | ${before}^`;
}

/** A short quote of the compiled SQL around `at`: `… a b c …`. */
function quoteAround(sql: string, at: number): string {
  const a = Math.max(0, at - 20);
  const b = Math.min(sql.length, at + 20);
  return `'${a > 0 ? '…' : ''}${sql.slice(a, b).replace(/\s+/g, ' ')}${b < sql.length ? '…' : ''}'`;
}

/** Keeps HookSql importable for callers that pass hooks through. */
export type { HookSql };
