/**
 * `tsdbt --version`, laid out as `dbt --version` (dbt-core's
 * `get_version_information`: a `Core:` block with `- installed:`, then a
 * `Plugins:` block, one `- <adapter>: <version>` line each), with tsdbt's own
 * version first. `installed` is the dbt-core version tsdbt is compatible with
 * (src/dbt-version.ts); the plugins are the drivers tsdbt talks to the
 * databases with. No network look-up of the latest version (dbt's `latest:`
 * line is left out).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DBT_VERSION } from '../dbt-version.ts';

/** The `version` of the nearest package.json named `name` at or above `start`, or undefined. */
function versionAbove(start: string, name: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version;
      } catch {
        // an unreadable package.json: keep looking upwards
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** tsdbt's own version (its package.json). */
export function tsdbtVersion(): string {
  return versionAbove(dirname(fileURLToPath(import.meta.url)), 'tsdbt') ?? 'unknown';
}

/** An installed dependency's version, found from its entry point (packages need not export package.json). */
function dependencyVersion(name: string): string {
  try {
    const entry = createRequire(import.meta.url).resolve(name);
    return versionAbove(dirname(entry), name) ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

/** The driver a target type talks through, with its version: `pg 8.16.3`, `@electric-sql/pglite 0.5.1`. */
export function driverVersion(type: string): string {
  return type === 'pglite' ? `@electric-sql/pglite ${dependencyVersion('@electric-sql/pglite')}` : `pg ${dependencyVersion('pg')}`;
}

/** The text `tsdbt --version` prints. */
export function versionText(): string {
  return [
    `tsdbt: ${tsdbtVersion()}`,
    'Core:',
    `  - installed: ${DBT_VERSION} (the dbt-core version tsdbt follows: dbt_version in templates, require-dbt-version, artifacts)`,
    '',
    'Plugins:',
    `  - postgres: pg ${dependencyVersion('pg')} (node-postgres)`,
    `  - pglite:   @electric-sql/pglite ${dependencyVersion('@electric-sql/pglite')} (embedded PostgreSQL)`,
  ].join('\n');
}
