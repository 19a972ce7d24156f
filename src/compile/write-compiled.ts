/**
 * Writes compiled SQL to `target/compiled/…` (dbt's `compiled_path`),
 * skipping files whose content on disk is already the same: re-compiling an
 * unchanged project reads the files but writes none (on this kind of
 * machine a small-file write costs 5–10× a read). Each directory is created
 * once; files in a directory that had to be created are written without
 * trying to read them first.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CompiledNode } from './compile.ts';

/** What {@link writeCompiledFiles} did. */
export interface WriteCompiledStats {
  /** Files written (new or changed). */
  readonly written: number;
  /** Files left alone because their content was already right. */
  readonly unchanged: number;
}

/**
 * Writes each node's `compiledCode` to `<root>/<compiledPath>` unless the
 * file already holds exactly that text.
 * @param root the project directory (compiled paths are relative to it).
 * @throws the filesystem's error when a directory or file cannot be written.
 */
export function writeCompiledFiles(root: string, compiled: Iterable<Pick<CompiledNode, 'compiledPath' | 'compiledCode'>>): WriteCompiledStats {
  const created = new Map<string, boolean>(); // directory → created by us just now
  let written = 0;
  let unchanged = 0;
  for (const c of compiled) {
    const path = join(root, c.compiledPath);
    const dir = dirname(path);
    let fresh = created.get(dir);
    if (fresh === undefined) {
      fresh = mkdirSync(dir, { recursive: true }) !== undefined;
      created.set(dir, fresh);
    }
    if (!fresh) {
      let current: string | undefined;
      try {
        current = readFileSync(path, 'utf8');
      } catch {
        current = undefined;
      }
      if (current === c.compiledCode) {
        unchanged++;
        continue;
      }
    }
    writeFileSync(path, c.compiledCode);
    written++;
  }
  return { written, unchanged };
}
