/**
 * Macros: tsdbt's built-in ones (package `dbt`: dbt's global macros in
 * src/macros/dbt, registered lazily) and every `.sql` file under the project's macro
 * paths, added to the Jinja environment and listed as dbt's `macro.<package>.<name>`.
 */
import { readFileSync } from 'node:fs';
import type { Diagnostics } from '../errors.ts';
import type { JinjaEnv } from '../jinja/index.ts';
import { builtinMacroFiles, builtinMacrosDigest } from './builtin-macros.ts';
import type { ProjectFile } from './discover.ts';
import type { InstalledPackage } from './packages.ts';
import type { Macro } from './manifest.ts';

/** The macros found, and every macro source in order (file path, text, …) for the partial-parse key. */
export interface ParsedMacros {
  readonly macros: Record<string, Macro>;
  readonly macroSources: string[];
}

/**
 * Adds the built-in macros and the project's macro files (package `pkg`) to `jinja`.
 * A file that does not compile is recorded in `diags` and contributes no macros.
 * `now` (seconds since the epoch) is each macro's `created_at`.
 */
export function parseMacros(
  jinja: JinjaEnv,
  files: readonly ProjectFile[],
  pkg: string,
  diags: Diagnostics,
  now: number,
  packages: readonly InstalledPackage[] = [],
): ParsedMacros {
  const macros: Record<string, Macro> = {};
  /** `file`: where errors point (project-relative); `originalFilePath`: the manifest's (relative to the macro's package). */
  const addMacros = (source: string, file: string, relPath: string, packageName: string, lazy = false, originalFilePath = file) => {
    const defs = diags.capture(() => jinja.addMacroFile(source, file, packageName, { lazy })) ?? [];
    for (const d of defs) {
      const uid = `macro.${packageName}.${d.name}`;
      macros[uid] = {
        unique_id: uid,
        name: d.name,
        package_name: packageName,
        path: relPath,
        original_file_path: originalFilePath,
        macro_sql: d.sql ?? '',
        depends_on: { macros: [] },
        description: '',
        meta: {},
        arguments: (d.arguments ?? []).map((a: string | { name: string }) => ({ name: typeof a === 'string' ? a : a.name })),
        created_at: now,
      };
    }
  };
  for (const f of builtinMacroFiles()) addMacros(f.source, f.file, f.path, 'dbt', true); // dbt's global macros (src/macros/dbt), compiled on first use
  const macroSources: string[] = [builtinMacrosDigest()];
  // Installed packages next, so the root project's macros (registered last) win for bare names, as in dbt.
  for (const p of packages) {
    for (const f of p.files.macros) {
      const text = readFileSync(f.absPath, 'utf8');
      const shown = `${p.dir}/${f.originalFilePath}`;
      macroSources.push(shown, text);
      addMacros(text, shown, f.path, p.name, false, f.originalFilePath);
    }
  }
  for (const f of files) {
    const text = readFileSync(f.absPath, 'utf8');
    macroSources.push(f.originalFilePath, text);
    addMacros(text, f.originalFilePath, f.path, pkg);
  }
  return { macros, macroSources };
}
