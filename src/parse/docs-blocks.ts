/**
 * dbt's docs blocks: `{% docs name %}…{% enddocs %}` in the `.md` files under
 * the docs paths, keyed `doc.<package>.<name>` as in dbt's manifest.
 */
import { readFileSync } from 'node:fs';
import { extractDocBlocks } from '../jinja/index.ts';
import type { ProjectFile } from './discover.ts';
import type { Documentation } from './manifest.ts';

/**
 * Reads every docs block of `files` (package `pkg`); a later block of the same name replaces an earlier one.
 * @throws TsdbtError for a malformed block (from extractDocBlocks).
 */
export function parseDocBlocks(files: readonly ProjectFile[], pkg: string): Record<string, Documentation> {
  const docs: Record<string, Documentation> = {};
  for (const f of files) {
    const text = readFileSync(f.absPath, 'utf8');
    for (const block of extractDocBlocks(text, f.originalFilePath)) {
      docs[`doc.${pkg}.${block.name}`] = {
        unique_id: `doc.${pkg}.${block.name}`,
        name: block.name,
        package_name: pkg,
        path: f.path,
        original_file_path: f.originalFilePath,
        block_contents: block.contents.trim(),
      };
    }
  }
  return docs;
}
