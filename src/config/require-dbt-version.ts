/**
 * `require-dbt-version` in dbt_project.yml, checked as dbt-core's
 * `Project.validate_version` checks it (for the root project and every
 * installed package, unless `--no-version-check` / `DBT_VERSION_CHECK=false`).
 *
 * The value is one specifier (`">=1.3.0"`), a comma-separated string
 * (`">=1.3.0,<2.0.0"`) or a list; each specifier is
 * `[>=|>|<=|<|=]MAJOR.MINOR.PATCH[-pre]` (dbt's `VersionSpecifier`). All must
 * hold for the version tsdbt reports as `dbt_version`.
 */
import semver from 'semver';
import { TsdbtError } from '../errors.ts';
import type { ProjectConfig } from './types.ts';

const SPEC_RE = /^\s*(>=|>|<=|<|=)?\s*v?(\d+)\.(\d+)\.(\d+)(?:-?([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]*)?\s*$/;

/** The specifiers of a `require-dbt-version` value (a string split at commas, or a list). */
export function dbtVersionSpecs(value: string | readonly string[] | undefined | null): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : String(value).split(',');
  return list.map((v) => String(v).trim()).filter((v) => v !== '');
}

/**
 * Throws when `project.requireDbtVersion` excludes `dbtVersion`.
 * `file` is the project file as the user should look for it (`dbt_project.yml`,
 * `dbt_packages/dbt_utils/dbt_project.yml`).
 * @throws TsdbtError `project-invalid` for a specifier dbt would not parse,
 *   `dbt-version-mismatch` (dbt's INVALID_VERSION_ERROR / IMPOSSIBLE_VERSION_ERROR) when the
 *   version is outside the range or the range is empty.
 */
export function checkRequireDbtVersion(project: ProjectConfig, dbtVersion: string, file: string): void {
  const specs = dbtVersionSpecs(project.requireDbtVersion);
  if (!specs.length) return;
  const comparators: string[] = [];
  for (const spec of specs) {
    const m = SPEC_RE.exec(spec);
    if (!m) {
      throw new TsdbtError('project-invalid', `require-dbt-version: '${spec}' is not a version specifier`, {
        file,
        line: project.requireDbtVersionLine,
        hint: 'write versions as dbt does, e.g. require-dbt-version: [">=1.3.0", "<2.0.0"]',
      });
    }
    comparators.push(`${m[1] ?? '='}${m[2]}.${m[3]}.${m[4]}${m[5] ? `-${m[5]}` : ''}`);
  }
  const range = new semver.Range(comparators.join(' '), { includePrerelease: true });
  const shown = `[${specs.map((s) => `'${s}'`).join(', ')}]`;
  const hint = `use a version of '${project.name}' that supports dbt ${dbtVersion}, or run again with --no-version-check (or DBT_VERSION_CHECK=false)`;
  if (semver.minVersion(range) === null) {
    throw new TsdbtError('dbt-version-mismatch', `the require-dbt-version of '${project.name}' can never be satisfied: ${shown}`, { file, line: project.requireDbtVersionLine, hint });
  }
  if (!range.test(dbtVersion)) {
    throw new TsdbtError(
      'dbt-version-mismatch',
      `this version of dbt is not supported with the '${project.name}' package: tsdbt reports dbt ${dbtVersion}, '${project.name}' requires ${shown}`,
      { file, line: project.requireDbtVersionLine, hint },
    );
  }
}
