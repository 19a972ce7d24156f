/**
 * The `sha1_hash` of package-lock.yml, computed exactly as dbt-core's
 * `_create_sha1_hash` (core/dbt/task/deps.py): each package spec is turned
 * into its dataclass `to_dict()` (every field, `None` included, `name`
 * dropped when unset, `warn-unpinned` by its alias, plus `unrendered`: the
 * entry as written), dumped with Python's `json.dumps(..., sort_keys=True)`,
 * the dumps sorted, joined with newlines and SHA-1 hashed.
 *
 * Checked against dbt's own functional tests: a hub package
 * `fivetran/fivetran_utils@0.4.7` gives 71304bca…, two git subdirectories of
 * one repository give b9c8042f… (see lock-hash.test.ts).
 */
import { createHash } from 'node:crypto';
import type { PackageSpec } from './package-spec.ts';

/**
 * Python's `json.dumps(value, sort_keys=True)` (separators `, ` and `: `,
 * `ensure_ascii`). Integers and floats are written as JavaScript numbers (a
 * YAML `1.0` written by a user reads as the integer 1 here: dbt would write
 * `1.0`; no real spec has a float version).
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? 'Infinity' : Number.isNaN(value) ? 'NaN' : '-Infinity';
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (value instanceof Date) return pythonJsonDumps(value.toISOString());
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  return `{${keys.map((k) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(obj[k])}`).join(', ')}}`;
}

/** dbt's `PackageSpec.to_dict()` for one entry (see the module comment). */
export function specToDbtDict(s: PackageSpec): Record<string, unknown> {
  const r = s.rendered;
  const opt = (k: string) => (r[k] === undefined ? null : r[k]);
  let d: Record<string, unknown>;
  switch (s.kind) {
    case 'local':
      d = { local: r.local, unrendered: s.unrendered };
      break;
    case 'tarball':
      d = { tarball: r.tarball, name: r.name, unrendered: s.unrendered };
      break;
    case 'git':
      d = { git: r.git, revision: opt('revision'), 'warn-unpinned': opt('warn-unpinned'), subdirectory: opt('subdirectory'), unrendered: s.unrendered };
      break;
    case 'hub': {
      // The dataclass field is install_prerelease (no alias): a hyphenated key does not reach dbt's to_dict.
      const ip = r.install_prerelease;
      d = { package: r.package, version: r.version, install_prerelease: ip === undefined ? false : ip, unrendered: s.unrendered };
      break;
    }
  }
  if (s.kind !== 'tarball' && r.name !== undefined && r.name !== null) d.name = r.name;
  return d;
}

/** dbt's `_create_sha1_hash(packages)`: 40 hex characters. */
export function packagesSha1(specs: readonly PackageSpec[]): string {
  const lines = specs.map((s) => pythonJsonDumps(specToDbtDict(s))).sort();
  return createHash('sha1').update(lines.join('\n'), 'utf8').digest('hex');
}
