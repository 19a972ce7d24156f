/**
 * Seeds: one node per `.csv` file under the seed paths, configured by
 * dbt_project.yml's `seeds:` and its properties entry. The file is not read
 * here (loading checks it); its checksum comes from partial parsing.
 */
import { posix } from 'node:path';
import type { NodeProperties } from '../config/types.ts';
import { mergeConfig } from '../config/index.ts';
import { normaliseConfigKeys } from './jinja-context.ts';
import { columnsFrom, fileNodeBase, folderParts, stripExt, uniq } from './node-fields.ts';
import type { ManifestBuilder } from './manifest-builder.ts';

/** Adds every seed file to the manifest; a naming error is recorded and the seed left out. */
export function parseSeeds(b: ManifestBuilder): void {
  const { pkg, project, diags, pp } = b;
  const seedProps = new Map<string, NodeProperties>();
  for (const p of b.properties.seeds) seedProps.set(p.name, p);
  for (const f of b.files.seeds) {
    const name = posix.basename(stripExt(f.path));
    const fqn = [pkg, ...folderParts(f.path), name];
    const props = seedProps.get(name);
    let config = b.projectConfig(project.seeds, fqn);
    if (props?.config) config = mergeConfig(config, normaliseConfigKeys(props.config as Record<string, unknown>));
    config = mergeConfig(config, b.rootOverride('seeds', fqn));
    config = { enabled: true, materialized: 'seed', tags: [], meta: {}, column_types: {}, quote_columns: null, delimiter: ',', grants: {}, docs: { show: true, node_color: null }, ...config };
    const checksum = pp.seedChecksum(b.fileKey(f), f.absPath);
    const names = diags.capture(() => b.naming({ name, resource_type: 'seed', fqn, original_file_path: f.originalFilePath }, config));
    if (!names) continue;
    const tags = uniq([...(config.tags ?? [])]);
    b.register({
      unique_id: `seed.${pkg}.${name}`,
      resource_type: 'seed',
      ...fileNodeBase(pkg, f, name, fqn, '', checksum),
      config: { ...config, tags },
      tags,
      description: b.renderDocs(props?.description ?? '', props?.file, props?.line),
      columns: columnsFrom(props?.columns, (t, line) => b.renderDocs(t, props?.file, line ?? props?.line)),
      meta: (config.meta as Record<string, unknown>) ?? {},
      docs: { show: true, node_color: null },
      patch_path: props ? `${pkg}://${props.file}` : null,
      database: names.database,
      schema: names.schema,
      alias: names.alias,
      relation_name: b.relationName(names),
      depends_on: { nodes: [], macros: [] },
      refs: [],
      sources: [],
      seed_file: f.absPath,
      created_at: b.now,
    });
  }
}
