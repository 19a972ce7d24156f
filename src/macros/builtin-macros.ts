/**
 * dbt's global macros (package `dbt`), written for tsdbt: the `.sql` files in
 * `src/macros/dbt/`, loaded with the package's other sources (no build step;
 * the esbuild bundle keeps `import.meta.url` pointing at this source file, and
 * `npm pack` ships `src/`). Each file is read once per process.
 *
 * Like dbt's global project, each public macro dispatches
 * (`adapter.dispatch('date_trunc', 'dbt')`) to `postgres__x` where Postgres
 * differs, else `default__x`, so a project overrides either the macro itself
 * or one implementation. See README.md in this folder for the list.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One built-in macro file. */
export interface BuiltinMacroFile {
  /** File name, e.g. `dates.sql`. */
  readonly name: string;
  /** Where errors and the manifest say it is: `tsdbt/macros/dbt/dates.sql`. */
  readonly file: string;
  /** Path as dbt records it for its global project's macros: `macros/dates.sql`. */
  readonly path: string;
  readonly source: string;
}

const DIR = fileURLToPath(new URL('./dbt/', import.meta.url));
let files: readonly BuiltinMacroFile[] | undefined;
let digest: string | undefined;

/**
 * The built-in macro files, sorted by name. Register them in package `dbt`
 * before the project's macros (`JinjaEnv.addMacroFile(f.source, f.file, 'dbt')`).
 * @throws the file system's error if tsdbt's installation lacks src/macros/dbt/.
 */
export function builtinMacroFiles(): readonly BuiltinMacroFile[] {
  if (!files) {
    files = Object.freeze(
      readdirSync(DIR)
        .filter((n) => n.endsWith('.sql'))
        .sort()
        .map((name) => Object.freeze({ name, file: `tsdbt/macros/dbt/${name}`, path: `macros/${name}`, source: readFileSync(join(DIR, name), 'utf8') })),
    );
  }
  return files;
}

/** The text of one built-in macro file, e.g. `builtinMacroSource('generic_tests.sql')`. */
export function builtinMacroSource(name: string): string {
  const f = builtinMacroFiles().find((x) => x.name === name);
  if (!f) throw new Error(`tsdbt's built-in macro file ${name} is missing from ${DIR}`);
  return f.source;
}

/**
 * sha256 (hex) of every built-in file's name and text: one short string for
 * the partial-parse key instead of the whole text on every parse.
 */
export function builtinMacrosDigest(): string {
  if (!digest) {
    const h = createHash('sha256');
    for (const f of builtinMacroFiles()) h.update(`${f.name}\u0000${f.source}\u0000`);
    digest = h.digest('hex');
  }
  return digest;
}
