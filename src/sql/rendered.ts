/**
 * SQL that tsdbt renders outside the up-front compile, checked with
 * PostgreSQL's parser too:
 *
 * - unit tests: each `given` / `expect` written as `format: sql` is parsed
 *   before anything runs ({@link unitTestFixtureErrors}; rows holding Jinja
 *   are rendered inside the unit test's SQL, which is checked when the unit
 *   test runs: {@link checkRenderedSql});
 * - `on-run-start` / `on-run-end` hooks holding Jinja: rendered ahead, with
 *   `execute` true as dbt renders them, when nothing in them depends on the
 *   run ({@link renderableAhead}: no `results`, `schemas`,
 *   `database_schemas`, no `log`/`print` that would print twice, no database
 *   query); the others — and model hooks whose templates ask the database —
 *   are checked when they are rendered, just before they run
 *   ({@link checkRenderedSql}): their syntax error is that hook's error, as
 *   a database error would be, and nothing of that hook runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsdbtError, lineColumnAt } from '../errors.ts';
import type { Manifest, UnitTestDefinition } from '../parse/manifest.ts';
import { parseSql, sqlParserReady } from './parser.ts';
import { excerpt } from './validate.ts';
import { locateRendered } from './source-map.ts';

const JINJA = /\{[{%#]/;
/** Names whose values exist only during the run (on-run-end's context) or whose call prints. */
const RUN_ONLY = /\b(results|schemas|database_schemas|log|print)\b/;

/**
 * True when an on-run hook's template can be rendered before the run with
 * the same outcome as at run time: it holds Jinja, and none of the run-only
 * names. (A database query inside is found when rendering: then it is not.)
 */
export function renderableAhead(template: string): boolean {
  return JINJA.test(template) && !RUN_ONLY.test(template);
}

/** A LiveDatabase for rendering ahead: any query rejects with {@link NO_DATABASE}. */
export const NO_DATABASE = 'tsdbt: rendered ahead of the run, without a database';
export const noDatabase = {
  query: (): Promise<never> => Promise.reject(new Error(NO_DATABASE)),
};

/**
 * Parses SQL rendered just before it runs (a hook, a unit test's SQL).
 * Does nothing when validation is off or the parser was not loaded.
 * @param what e.g. `on-run-end hook 0`, `post_hook of model 'm'`, `unit test 't'`
 * @param where the file (and line) that holds what was rendered; with `template` and `root`, the error is located in the template's text in that file
 * @throws TsdbtError `sql-syntax`: PostgreSQL's message, the rendered line and a caret.
 */
export function checkRenderedSql(sql: string, what: string, where: { readonly file: string; readonly line?: number; readonly template?: string; readonly root?: string }, validate?: boolean): void {
  if (validate === false || !sqlParserReady()) return;
  const r = parseSql(sql);
  if (r.ok) return;
  const at = Math.min(r.offset, sql.trimEnd().length);
  // The template as written in its file (a hook in dbt_project.yml): the error at its line and column there.
  let mapped: { line: number; column: number; lineText: string } | null = null;
  if (where.template && where.root) {
    let text = '';
    try {
      text = readFileSync(join(where.root, where.file), 'utf8');
    } catch {
      text = '';
    }
    const k = text ? text.indexOf(where.template) : -1;
    if (k >= 0) {
      const base = lineColumnAt(text, k);
      const loc = locateRendered(sql, Math.min(at, Math.max(0, sql.length - 1)), { file: where.file, text: where.template, line: base.line, column: base.column, label: what }, []);
      if (loc) mapped = { line: loc.line, column: loc.column, lineText: text.split('\n')[loc.line - 1] ?? '' };
    }
  }
  const lc = lineColumnAt(sql, at);
  const rendered = { line: lc.line, column: lc.column, lineText: sql.split('\n')[lc.line - 1] ?? '' };
  const shown = mapped ? `${excerpt(mapped)}\n  as rendered:\n${excerpt(rendered)}` : excerpt(rendered);
  throw new TsdbtError('sql-syntax', `${r.message} (PostgreSQL's parser, ${what}, as rendered when it ran)\n${shown}`, {
    file: where.file,
    ...(mapped ? { line: mapped.line, column: mapped.column } : where.line !== undefined ? { line: where.line } : {}),
    hint: `its template could only be rendered at run time (it asks the database or uses run results), so it was checked then; fix the ${what} in ${where.file}, or run with --no-validate if the SQL is valid PostgreSQL that the bundled parser does not know`,
  });
}

/**
 * The syntax errors of unit tests' `format: sql` rows without Jinja (those
 * with Jinja are checked inside the unit test's SQL when it runs), each at
 * the rows' line and column in the properties file (or the fixture file
 * under `<test-path>/fixtures/`), with PostgreSQL's message. Never throws.
 */
export function unitTestFixtureErrors(manifest: Manifest, root: string): TsdbtError[] {
  const errors: TsdbtError[] = [];
  const files = new Map<string, string | null>();
  const read = (f: string): string | null => {
    if (!files.has(f)) {
      try {
        files.set(f, readFileSync(join(root, f), 'utf8'));
      } catch {
        files.set(f, null);
      }
    }
    return files.get(f)!;
  };
  for (const def of Object.values(manifest.unit_tests ?? {}) as UnitTestDefinition[]) {
    const parts = [...def.given.map((g) => ({ label: `given ${g.input}`, f: g })), { label: 'expect', f: def.expect }];
    for (const { label, f } of parts) {
      if (f.format !== 'sql' || typeof f.rows !== 'string' || JINJA.test(f.rows)) continue;
      const r = parseSql(f.rows);
      if (r.ok) continue;
      // The rows' text in the properties file (a block scalar keeps it verbatim, indented), else the fixture file.
      let file = def.original_file_path;
      let loc: { line: number; column: number; lineText: string } | null = locateIn(read(file), f.rows, r.offset, def.line);
      if (!loc && f.fixture) {
        const dir = def.original_file_path.split('/')[0];
        for (const cand of [`${dir}/fixtures/${f.fixture}.sql`, `tests/fixtures/${f.fixture}.sql`]) {
          loc = locateIn(read(cand), f.rows, r.offset, 1);
          if (loc) {
            file = cand;
            break;
          }
        }
      }
      errors.push(
        new TsdbtError('sql-syntax', `${r.message} (PostgreSQL's parser, ${label} of unit test '${def.name}')${loc ? `\n${excerpt(loc)}` : ''}`, {
          file,
          ...(loc ? { line: loc.line, column: loc.column } : def.line !== undefined ? { line: def.line } : {}),
          hint: `fix the rows of ${label} (format: sql: one SELECT giving the rows) in ${file}, or run with --no-validate`,
        }),
      );
    }
  }
  return errors;
}

/**
 * Where offset `at` of `sql` lies in `text`, which holds `sql` verbatim or
 * line by line with an indent (a YAML block scalar), searched from line
 * `fromLine`. Null when `sql`'s first line is not found.
 */
function locateIn(text: string | null, sql: string, at: number, fromLine = 1): { line: number; column: number; lineText: string } | null {
  if (!text) return null;
  const lines = text.split('\n');
  const sqlLines = sql.split('\n');
  const first = sqlLines.findIndex((l) => l.trim() !== '');
  if (first < 0) return null;
  const pos = lineColumnAt(sql, Math.min(at, sql.trimEnd().length));
  for (let i = Math.max(0, fromLine - 1); i < lines.length; i++) {
    const k = lines[i].indexOf(sqlLines[first].trim());
    if (k < 0 || (sqlLines[first].trim().length < 4 && lines[i].trim() !== sqlLines[first].trim())) continue;
    const indent = k - (sqlLines[first].length - sqlLines[first].trimStart().length);
    const line = i + (pos.line - 1 - first);
    const lineText = lines[line] ?? '';
    return { line: line + 1, column: pos.line - 1 === first ? k + 1 + (pos.column - 1 - (sqlLines[first].length - sqlLines[first].trimStart().length)) : Math.max(0, indent) + pos.column, lineText };
  }
  return null;
}
