/**
 * Linking, dbt's last parse step: every node's `ref()` and `source()` calls
 * become `depends_on.nodes` unique_ids. A ref to a missing or disabled node
 * and an undeclared source are errors naming the file and line.
 */
import { TsdbtError } from '../errors.ts';
import { escapeRe, lineOf, uniq } from './node-fields.ts';
import type { ManifestBuilder } from './manifest-builder.ts';
import type { ManifestNode } from './manifest.ts';
import { compareVersions, modelDeprecationWarnings, refKey } from './model-versions.ts';

/**
/**
 * Sets `depends_on.nodes` of every node in `b.nodes`; errors go to `b.diags`. Refs and sources
 * resolve across the root project and its packages in dbt's order (see ref-lookup.ts). A ref with a
 * version (`ref('m', v=1)`) reaches that version, one without it a versioned model's latest
 * version; a ref to a version that does not exist is `ref-not-found` listing the versions.
 * Then dbt's deprecation warnings (model-versions.ts) go to `b.warnings`.
 */
export function linkRefsAndSources(b: ManifestBuilder): void {
  const { rootPkg, nodes, sources, diags } = b;
  const refNames = b.refLookup.names().filter((k) => !k.includes('.')); // names, without the `m.v1` version keys
  const sourceNames = Object.values(sources).map((s) => `${s.source_name}.${s.name}`);
  for (const node of Object.values(nodes)) {
    const deps: string[] = [];
    const file = b.displayPath(node.original_file_path, node.package_name);
    for (const r of node.refs) {
      // ref('m', v=1) / ref('m', version='1') finds `m.v1`; ref('m') a versioned model's latest version (as dbt's RefableLookup).
      const key = refKey(r.name, r.version);
      const withVersion = key !== r.name;
      const uid = b.refLookup.resolve(key, r.package, rootPkg, node.package_name);
      if (uid) {
        deps.push(uid);
        continue;
      }
      const isDisabled = b.disabledLookup.resolve(key, r.package, rootPkg, node.package_name) !== undefined;
      const versions = (b.versionsByName.get(r.name) ?? []).filter((id) => !r.package || nodes[id].package_name === r.package);
      if (versions.length && !isDisabled && withVersion) {
        const known = versions.map((id) => nodes[id].version!).sort(compareVersions).join(', ');
        diags.error(
          new TsdbtError('ref-not-found', `${node.resource_type} '${node.name}' refers to '${r.name}' with version '${r.version}', which does not exist`, {
            file,
            line: r.line,
            hint: `versions of '${r.name}' are: ${known}; ref one of them, or ref('${r.name}') for the latest`,
          }),
        );
        continue;
      }
      const shown = `${r.package ? r.package + '.' : ''}${r.name}${withVersion ? `' with version '${r.version}` : ''}`;
      diags.error(
        new TsdbtError(
          isDisabled ? 'ref-disabled' : 'ref-not-found',
          isDisabled
            ? `${node.resource_type} '${node.name}' refers to '${shown}', which is disabled`
            : `${node.resource_type} '${node.name}' refers to '${shown}', which does not exist`,
          {
            file,
            line: r.line,
            hint: isDisabled
              ? `enable '${r.name}' (config enabled: true) or remove the ref`
              : r.package && !b.refLookup.has(r.name)
                ? `check the name${b.suggest(r.name, refNames)}; models, seeds and snapshots are referred to by file name without extension`
                : r.package
                  ? `'${r.name}' exists, but not in package '${r.package}': check the package name (the name: in its dbt_project.yml)`
                  : `check the name${b.suggest(r.name, refNames)}; models, seeds and snapshots are referred to by file name without extension`,
          },
        ),
      );
    }
    for (const [s, t] of node.sources) {
      const uid = b.sourceLookup.resolve(`${s}.${t}`, null, rootPkg, node.package_name);
      if (uid && sources[uid]) {
        deps.push(uid);
        continue;
      }
      diags.error(
        new TsdbtError('source-not-found', `${node.resource_type} '${node.name}' uses source('${s}', '${t}'), which is not declared`, {
          file,
          line: lineOf(node.raw_code, new RegExp(`source\\s*\\(\\s*['"]${escapeRe(s)}['"]`)) ?? (node as ManifestNode & { line?: number }).line,
          hint: `declare it under sources: in a .yml file in a model path${b.suggest(`${s}.${t}`, sourceNames)}`,
        }),
      );
    }
    node.depends_on.nodes = uniq(deps);
  }
  b.warnings.push(...modelDeprecationWarnings(nodes));
}
