/**
 * Singular data tests: one `test.<package>.<name>` per `.sql` file under the
 * test paths (dbt reads every such file as a test), rendered in the parse
 * phase to capture its refs, sources and config. Built in the
 * `<target schema>_dbt_test__audit` schema when failures are stored, as dbt.
 */
import { posix } from 'node:path';
import { mergeConfig } from '../config/index.ts';
import { cacheable } from './parse-render.ts';
import { fileNodeBase, folderParts, stripExt, testDefaults, uniq } from './node-fields.ts';
import type { ManifestBuilder } from './manifest-builder.ts';

/** Adds every singular test file to the manifest; a render error is recorded and the test left out. */
export function parseSingularTests(b: ManifestBuilder): void {
  const { pkg, project, pp, database, target } = b;
  for (const f of b.files.singularTests) {
    const key = b.fileKey(f);
    const look = pp.lookup(key, f.absPath);
    const raw = look.raw;
    const name = posix.basename(stripExt(f.path));
    const fqn = [pkg, ...folderParts(f.path), name];
    let config = b.projectConfig(project.tests, fqn);
    const c = b.render.captureCached(look.hit ? look.entry.capture : undefined, raw, f.originalFilePath, config, null);
    if (!c) continue;
    pp.record(key, look.stat, { checksum: look.checksum, raw, calls: null, capture: cacheable(c) });
    config = mergeConfig(mergeConfig(config, c.config), b.rootOverride('tests', fqn));
    config = testDefaults(config);
    const tags = uniq([...(config.tags ?? [])]);
    b.register({
      unique_id: `test.${pkg}.${name}`,
      resource_type: 'test',
      ...fileNodeBase(pkg, f, name, fqn, raw, look.checksum),
      config: { ...config, tags },
      tags,
      description: '',
      columns: {},
      meta: {},
      docs: { show: true, node_color: null },
      patch_path: null,
      database,
      schema: `${target.schema}_dbt_test__audit`,
      alias: name,
      relation_name: null,
      depends_on: { nodes: [], macros: [] },
      refs: c.refs.map((r) => ({ ...r })),
      sources: c.sources.map((x) => [...x] as [string, string]),
      created_at: b.now,
    });
  }
}
