/**
 * Small pure helpers the per-resource parsers share: file names → node names
 * and fqn parts, line lookup for messages, and the manifest fields every node
 * of a kind has (dbt's `columns`, the file-node base, data-test defaults).
 */
import { createHash } from 'node:crypto';
import type { ColumnProperties, NodeConfig } from '../config/types.ts';
import type { ProjectFile } from './discover.ts';
import type { ColumnInfo } from './manifest.ts';

/** Hex sha256 of a string (dbt's `checksum` of a node's file). */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `models/a/b.sql` → `models/a/b`. */
export function stripExt(p: string): string {
  return p.replace(/\.[^./]+$/, '');
}

/** The folders of a path relative to its resource path: `a/b/c.sql` → `['a', 'b']` (the middle of dbt's fqn). */
export function folderParts(path: string): string[] {
  const parts = path.split('/');
  parts.pop();
  return parts;
}

/** The 1-based line of the first match of `needle` in `text`, or undefined. */
export function lineOf(text: string, needle: RegExp): number | undefined {
  const m = needle.exec(text);
  if (!m) return undefined;
  let line = 1;
  for (let i = 0; i < m.index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** `s` with RegExp metacharacters escaped. */
export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Unique values, first occurrence order kept. */
export function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/**
 * dbt's `columns` of a node or source table from its properties entries;
 * `docs(text, line)` renders `{{ doc() }}` in a description.
 */
export function columnsFrom(cols: readonly ColumnProperties[] | undefined, docs: (t: string, line?: number) => string): Record<string, ColumnInfo> {
  const out: Record<string, ColumnInfo> = {};
  for (const c of cols ?? []) {
    out[c.name] = {
      name: c.name,
      description: docs(c.description ?? '', (c as ColumnProperties & { line?: number }).line),
      data_type: c.data_type ?? null,
      meta: c.meta ?? {},
      tags: c.tags ?? [],
      quote: c.quote ?? null,
    };
  }
  return out;
}

/** The fields every node read from its own file shares (dbt's `package_name`, paths, code, checksum). */
export function fileNodeBase(pkg: string, f: ProjectFile, name: string, fqn: string[], raw: string, checksum: string) {
  return {
    package_name: pkg,
    name,
    path: f.path,
    original_file_path: f.originalFilePath,
    abs_path: f.absPath,
    fqn,
    raw_code: raw,
    language: 'sql' as const,
    checksum: { name: 'sha256' as const, checksum },
  };
}

/** dbt's defaults for a data test's config (severity ERROR, fail_calc count(*), …), under what was configured. */
export function testDefaults(config: NodeConfig): NodeConfig {
  return {
    enabled: true,
    materialized: 'test',
    severity: 'ERROR',
    store_failures: null,
    where: null,
    limit: null,
    fail_calc: 'count(*)',
    warn_if: '!= 0',
    error_if: '!= 0',
    tags: [],
    meta: {},
    ...config,
  };
}
