/**
 * `tsdbt deps --add-package name@version [--source hub|git|local]`, as
 * dbt-core's `DepsTask.add()`: the entry is appended to the file that holds
 * the packages (packages.yml, or dependencies.yml when it has `packages:`;
 * packages.yml is created when neither exists), after removing entries for
 * the same package (dbt's `check_for_duplicate_packages`: the name, with `-`
 * and `_` swapped and without its namespace, found in an entry's source
 * between `/` or `.` boundaries).
 *
 * Difference from dbt, on purpose: dbt re-dumps the whole file with PyYAML
 * (comments lost, keys sorted); tsdbt edits the YAML document, so comments and
 * the order of the other entries stay as written.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument, YAMLSeq } from 'yaml';
import { TsdbtError } from '../errors.ts';
import { DEPENDENCIES_FILE, PACKAGES_FILE } from './package-spec.ts';

/** `--source`: where `--add-package` installs from. */
export type AddSource = 'hub' | 'git' | 'local';

/** dbt's `Package` click type: `name@version` → name and version (none when there is no single `@`). */
export function parseAddPackage(value: string): { name: string; version?: string } {
  const parts = value.split('@');
  return parts.length === 2 ? { name: parts[0], version: parts[1] } : { name: value };
}

/** dbt's `_create_packages_yml_entry`. A version with commas becomes a list of specifiers. */
export function packagesYmlEntry(name: string, version: string | undefined, source: AddSource): Record<string, unknown> {
  const key = source === 'hub' ? 'package' : source;
  const entry: Record<string, unknown> = { [key]: name };
  if (version) entry[source === 'git' ? 'revision' : 'version'] = version.includes(',') ? version.split(',') : version;
  return entry;
}

/** dbt's duplicate test for `--add-package`: does `identifier` (a package's source) name `packageName`? */
export function isSamePackage(identifier: string, packageName: string): boolean {
  const variants = new Set([packageName, packageName.replace(/_/g, '-'), packageName.replace(/-/g, '_')]);
  if (packageName.includes('/')) {
    const short = packageName.split('/').at(-1)!;
    for (const v of [short, short.replace(/_/g, '-'), short.replace(/-/g, '_')]) variants.add(v);
  }
  for (const v of variants) {
    const idx = identifier.indexOf(v);
    if (idx < 0) continue;
    const end = idx + v.length;
    if ((idx === 0 || '/.'.includes(identifier[idx - 1])) && (end === identifier.length || '/.'.includes(identifier[end]))) return true;
  }
  return false;
}

/**
 * Adds the package to the project's packages file in `root`. Returns the file
 * name written, whether it was created, and the sources of removed duplicates.
 * Errors: `bad-flag` (exit 2) when a hub or git package has no `@version`
 * (dbt: "Version is required in --add-package when a package when source is …").
 */
export function addPackage(root: string, spec: string, source: AddSource): { fileName: string; created: boolean; removed: string[] } {
  const { name, version } = parseAddPackage(spec);
  if (!version && source !== 'local') {
    throw new TsdbtError('bad-flag', `--add-package needs a version when --source is ${source}: got '${spec}'`, {
      hint: source === 'hub' ? 'write it as org/name@version, e.g. --add-package dbt-labs/dbt_utils@1.3.0' : 'write it as url@revision, e.g. --add-package https://github.com/org/repo.git@v1.0.0 --source git',
    });
  }
  const depsPath = join(root, DEPENDENCIES_FILE);
  let fileName = PACKAGES_FILE;
  if (existsSync(depsPath)) {
    const d = parseDocument(readFileSync(depsPath, 'utf8'));
    if (isMap(d.contents) && d.has('packages')) fileName = DEPENDENCIES_FILE;
  }
  const abs = join(root, fileName);
  const created = !existsSync(abs);
  const doc = parseDocument(created ? 'packages: []\n' : readFileSync(abs, 'utf8'));
  if (doc.errors.length) {
    throw new TsdbtError('yaml-syntax', `invalid YAML in ${fileName}: ${doc.errors[0].message.split('\n')[0]}`, { file: fileName, hint: 'fix the file, then run the command again' });
  }
  if (!isMap(doc.contents)) doc.contents = doc.createNode({ packages: [] }) as unknown as typeof doc.contents;
  let list = doc.get('packages');
  if (!isSeq(list)) {
    list = new YAMLSeq();
    doc.set('packages', list);
  }
  const seq = list as YAMLSeq;
  const removed: string[] = [];
  for (let i = seq.items.length - 1; i >= 0; i--) {
    const item = seq.items[i];
    if (!isMap(item)) continue;
    const ident = ['package', 'git', 'local', 'tarball', 'private'].map((k) => item.get(k)).find((v) => typeof v === 'string') as string | undefined;
    if (ident && isSamePackage(ident, name)) {
      removed.push(ident);
      seq.items.splice(i, 1);
    }
  }
  seq.flow = false;
  seq.items.push(doc.createNode(packagesYmlEntry(name, version, source)));
  writeFileSync(abs, doc.toString({ indentSeq: true, lineWidth: 0, singleQuote: true }));
  return { fileName, created, removed };
}
