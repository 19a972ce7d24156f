/**
 * package-lock.yml, in dbt's format (core/dbt/task/deps.py `lock()`): a
 * `packages:` list of the resolved pins (every package, transitive ones
 * included, each with its project `name`), then `sha1_hash:` of the specs it
 * was resolved from. dbt dumps it with PyYAML (keys sorted, list items
 * indented under their key); this writer produces the same text for the
 * values dbt writes.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { TsdbtError } from '../errors.ts';
import { renderDeep } from '../config/render.ts';
import { isPlainObject, lineOf, parseYaml } from '../config/yaml-file.ts';
import { LOCK_FILE, type SpecContext } from './package-spec.ts';
import type { LockEntry } from './resolve.ts';

/** A read package-lock.yml. */
export interface LockFile {
  /** Entries as written (a git URL may still hold `{{ env_var(...) }}`). */
  readonly packages: readonly LockEntry[];
  readonly sha1Hash?: string;
}

/** The text dbt writes for `packages` and `hash`. */
export function formatLockFile(packages: readonly LockEntry[], hash: string): string {
  return stringify({ packages, sha1_hash: hash }, { sortMapEntries: true, singleQuote: true, lineWidth: 0, indentSeq: true });
}

/** Writes `<root>/package-lock.yml`. */
export function writeLockFile(root: string, packages: readonly LockEntry[], hash: string): string {
  const path = join(root, LOCK_FILE);
  writeFileSync(path, formatLockFile(packages, hash));
  return path;
}

/**
 * Reads `<root>/package-lock.yml`, or undefined when there is none.
 * Errors: `yaml-syntax`, `lock-invalid` (not dbt's shape: a packages list of
 * mappings).
 */
export function readLockFile(root: string): LockFile | undefined {
  const abs = join(root, LOCK_FILE);
  if (!existsSync(abs)) return undefined;
  const yf = parseYaml(readFileSync(abs, 'utf8'), LOCK_FILE, abs);
  const data = isPlainObject(yf.data) ? yf.data : {};
  const list = data.packages ?? [];
  if (!Array.isArray(list) || !list.every((e) => isPlainObject(e))) {
    throw new TsdbtError('lock-invalid', `${LOCK_FILE} is not a lock file tsdbt (or dbt) wrote: packages: must be a list of mappings`, {
      file: LOCK_FILE, line: lineOf(yf, ['packages']), hint: `delete ${LOCK_FILE} and run tsdbt deps to write it again`,
    });
  }
  const packages = list.map((e) => Object.fromEntries(Object.entries(e as Record<string, unknown>).map(([k, v]) => [k, String(v)])));
  return { packages, sha1Hash: typeof data.sha1_hash === 'string' ? data.sha1_hash : undefined };
}

/** Renders `env_var()` / `var()` in lock entries (dbt renders the lock with its PackageRenderer before installing). */
export function renderLockEntries(entries: readonly LockEntry[], ctx: SpecContext): LockEntry[] {
  return entries.map((e) => renderDeep(e, { env: ctx.env, cliVars: ctx.cliVars, file: LOCK_FILE, fileKind: LOCK_FILE, secretsAllowed: true }, () => false, () => undefined) as LockEntry);
}
