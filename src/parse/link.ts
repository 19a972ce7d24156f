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
 * Sets `depends_on.nodes` of every node in `b.nodes`; errors go to `b.diags`. A ref with a
 * version (`ref('m', v=1)`) reaches that version, one without it a versioned model's latest
 * version; a ref to a version that does not exist is `ref-not-found` listing the versions.
 * Then dbt's deprecation warnings (model-versions.ts) go to `b.warnings`.
 */
export function linkRefsAndSources(b: ManifestBuilder): void {
  const { pkg, nodes, sources, byName, diags } = b;
  const refNames = [...byName.keys()].filter((k) => !k.includes('.')); // names, without the `m.v1` version keys
  const sourceNames = Object.values(sources).map((s) => `${s.source_name}.${s.name}`);
  const disabledNames = new Set(Object.values(b.disabled).flat().map((n) => n.name));
  for (const node of Object.values(nodes)) {
    const deps: string[] = [];
    for (const r of node.refs) {
      // ref('m', v=1) / ref('m', version='1') finds `m.v1`; ref('m') a versioned model's latest version (as dbt's RefableLookup).
      const uid = byName.get(refKey(r.name, r.version))?.[0];
      if (uid && (!r.package || r.package === pkg || r.package === nodes[uid].package_name)) {
        deps.push(uid);
        continue;
      }
      const versions = b.versionsByName.get(r.name);
      const versionDisabled = refKey(r.name, r.version) !== r.name && b.disabled[`model.${pkg}.${r.name}.v${r.version}`] !== undefined;
      if (versions && !versionDisabled && refKey(r.name, r.version) !== r.name) {
        const known = versions.map((id) => nodes[id].version!).sort(compareVersions).join(', ');
        diags.error(
          new TsdbtError('ref-not-found', `${node.resource_type} '${node.name}' refers to '${r.name}' with version '${r.version}', which does not exist`, {
            file: node.original_file_path,
            line: r.line,
            hint: `versions of '${r.name}' are: ${known}; ref one of them, or ref('${r.name}') for the latest`,
          }),
        );
        continue;
      }
      const isDisabled = versionDisabled || (refKey(r.name, r.version) === r.name && disabledNames.has(r.name));
      diags.error(
        new TsdbtError(
          isDisabled ? 'ref-disabled' : 'ref-not-found',
          isDisabled
            ? `${node.resource_type} '${node.name}' refers to '${r.name}'${versionDisabled ? ` with version '${r.version}'` : ''}, which is disabled`
            : `${node.resource_type} '${node.name}' refers to '${r.package ? r.package + '.' : ''}${r.name}'${refKey(r.name, r.version) !== r.name ? ` with version '${r.version}'` : ''}, which does not exist`,
          {
            file: node.original_file_path,
            line: r.line,
            hint: isDisabled
              ? `enable '${r.name}' (config enabled: true) or remove the ref`
              : `check the name${b.suggest(r.name, refNames)}; models, seeds and snapshots are referred to by file name without extension`,
          },
        ),
      );
    }
    for (const [s, t] of node.sources) {
      const uid = `source.${pkg}.${s}.${t}`;
      if (sources[uid]) {
        deps.push(uid);
        continue;
      }
      diags.error(
        new TsdbtError('source-not-found', `${node.resource_type} '${node.name}' uses source('${s}', '${t}'), which is not declared`, {
          file: node.original_file_path,
          line: lineOf(node.raw_code, new RegExp(`source\\s*\\(\\s*['"]${escapeRe(s)}['"]`)) ?? (node as ManifestNode & { line?: number }).line,
          hint: `declare it under sources: in a .yml file in a model path${b.suggest(`${s}.${t}`, sourceNames)}`,
        }),
      );
    }
    node.depends_on.nodes = uniq(deps);
  }
  b.warnings.push(...modelDeprecationWarnings(nodes));
}
