/**
 * Sources: one `source.<package>.<source>.<table>` per table under `sources:`
 * in the properties files. As dbt, a source's `schema`, `database` and a
 * table's `identifier` are rendered (`{{ target.schema }}_raw`,
 * `env_var(...)`); config precedence is dbt_project.yml `sources:` < the
 * source's `config:` < the table's.
 */
import type { NodeConfig } from '../config/types.ts';
import { mergeConfig } from '../config/index.ts';
import { renderValue, targetForJinja } from '../config/render.ts';
import { quoteIdent } from './relation.ts';
import { columnsFrom, folderParts, uniq } from './node-fields.ts';
import { mergeFreshness } from './source-freshness.ts';
import type { ManifestBuilder } from './manifest-builder.ts';

/** Adds every enabled source table to `b.sources`; a render error is recorded and the written name kept. */
export function parseSources(b: ManifestBuilder): void {
  const { pkg, project, diags, env, cliVars, target, database, sources } = b;
  for (const s of b.properties.sources) {
    for (const t of s.tables) {
      const uid = `source.${pkg}.${s.name}.${t.name}`;
      const fqn = [pkg, ...folderParts(s.file.split('/').slice(1).join('/')), s.name, t.name];
      const fromProject = b.projectConfig(project.sources, [pkg, s.name, t.name]);
      let config = mergeConfig(mergeConfig(fromProject, (s.config ?? {}) as NodeConfig), (t.config ?? {}) as NodeConfig);
      config = mergeConfig(config, b.rootOverride('sources', [pkg, s.name, t.name]));
      // dbt: freshness and loaded_at_field of the project < the source < the table (see source-freshness.ts).
      const cfg = (c: unknown) => (c ?? {}) as { freshness?: unknown; loaded_at_field?: unknown };
      const freshness = diags.capture(() =>
        mergeFreshness([cfg(fromProject).freshness, s.freshness, cfg(s.config).freshness, t.freshness, cfg(t.config).freshness], { file: s.file, line: t.line }),
      );
      const loadedAt = [t.loaded_at_field, cfg(t.config).loaded_at_field, s.loaded_at_field, cfg(s.config).loaded_at_field, cfg(fromProject).loaded_at_field].find((v) => typeof v === 'string' && v !== '');
      // dbt renders a source's schema, database and identifier ({{ target.schema }}_raw, env_var(...)).
      const rendered = (v: string | undefined, line: number) =>
        v === undefined
          ? undefined
          : diags.capture(() => String(renderValue(v, { env, cliVars, target: targetForJinja(target), file: s.file, fileKind: 'properties' }, line)));
      const schema = rendered(s.schema, s.line) ?? s.name;
      const identifier = rendered(t.identifier, t.line) ?? t.name;
      const db = rendered(s.database, s.line) ?? database;
      if (config.enabled === false) continue;
      b.sourceLookup.add(`${s.name}.${t.name}`, pkg, uid);
      sources[uid] = {
        unique_id: uid,
        resource_type: 'source',
        package_name: pkg,
        name: t.name,
        source_name: s.name,
        source_description: b.renderDocs(s.description ?? '', s.file, s.line),
        identifier,
        database: db,
        schema,
        relation_name: `${quoteIdent(db)}.${quoteIdent(schema)}.${quoteIdent(identifier)}`,
        description: b.renderDocs(t.description ?? '', s.file, t.line),
        loader: s.loader ?? '',
        loaded_at_field: (loadedAt as string | undefined) ?? null,
        freshness: freshness ?? null,
        columns: columnsFrom(t.columns, (x, line) => b.renderDocs(x, s.file, line ?? t.line)),
        meta: t.meta ?? {},
        source_meta: s.meta ?? {},
        tags: uniq([...(s.tags ?? []), ...(t.tags ?? [])]),
        config: { enabled: true, ...config },
        path: s.file,
        original_file_path: s.file,
        fqn,
        patch_path: null,
        created_at: b.now,
      };
    }
  }
}
