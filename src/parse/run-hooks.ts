/**
 * `on-run-start` / `on-run-end` hooks (dbt_project.yml) as dbt's HookNodes:
 * one `operation` node per hook, named `<package>-<hook type>-<index>`
 * (unique_id `operation.<package>.<package>-on-run-start-0`), for the root
 * project and every installed package, in the order dbt runs them: packages
 * by name first, the root project last, each package's hooks in the order
 * written (dbt's `RunTask._hook_keyfunc`).
 *
 * Pure: no database. The hooks are rendered and run at run time
 * (src/runner/run-hooks.ts).
 */
import { createHash } from 'node:crypto';
import type { ProjectConfig } from '../config/types.ts';
import type { ManifestNode } from './manifest.ts';

export type RunHookType = 'on-run-start' | 'on-run-end';

/** A project-level hook: a ManifestNode of resource_type `operation` (dbt's HookNode), plus its position. */
export interface RunHookNode extends ManifestNode {
  readonly resource_type: 'operation';
  /** 0-based position in its package's list (dbt's `index`). */
  readonly index: number;
  readonly hook_type: RunHookType;
}

/** A project that may declare hooks: the root, or an installed package (`dir`: its folder relative to the root). */
export interface HookSourceProject {
  readonly project: Pick<ProjectConfig, 'name' | 'onRunStart' | 'onRunEnd'>;
  readonly dir?: string;
}

/**
 * The `type` hooks of `root` and `packages`, as dbt orders them (packages by
 * name, the root project last; within one, as written). `schema` and
 * `database` are the target's (dbt gives hook nodes the target schema).
 */
export function projectRunHooks(
  type: RunHookType,
  root: HookSourceProject,
  packages: readonly HookSourceProject[],
  where: { readonly schema: string; readonly database: string },
): RunHookNode[] {
  const sorted = [...packages].filter((p) => p.project.name !== root.project.name).sort((a, b) => (a.project.name < b.project.name ? -1 : a.project.name > b.project.name ? 1 : 0));
  const out: RunHookNode[] = [];
  for (const p of [...sorted, root]) {
    const list = (type === 'on-run-start' ? p.project.onRunStart : p.project.onRunEnd) ?? [];
    list.forEach((sql, index) => {
      const pkg = p.project.name;
      const name = `${pkg}-${type}-${index}`;
      const text = typeof sql === 'string' ? sql : String(sql ?? '');
      const node = operationNode(pkg, name, text, { ...where, file: p.dir ? `${p.dir}/dbt_project.yml` : './dbt_project.yml', path: `hooks/${name}.sql` });
      out.push({ ...node, resource_type: 'operation', fqn: [pkg, 'hooks', name], tags: [type], index, hook_type: type });
    });
  }
  return out;
}

/**
 * An `operation` node (dbt's HookNode) named `name` in package `pkg`, running
 * `rawCode`: the shape on-run hooks and `run-operation` results take
 * (unique_id `operation.<pkg>.<name>`, unless `uniqueId` is given).
 */
export function operationNode(
  pkg: string,
  name: string,
  rawCode: string,
  where: { readonly schema: string; readonly database: string; readonly file?: string; readonly path?: string; readonly uniqueId?: string },
): ManifestNode {
  return {
    unique_id: where.uniqueId ?? `operation.${pkg}.${name}`,
    resource_type: 'operation',
    package_name: pkg,
    name,
    path: where.path ?? '',
    original_file_path: where.file ?? '',
    fqn: (where.uniqueId ?? `operation.${pkg}.${name}`).split('.'),
    raw_code: rawCode,
    language: 'sql',
    checksum: { name: 'sha256', checksum: createHash('sha256').update(rawCode).digest('hex') },
    config: { enabled: true, materialized: 'view' } as ManifestNode['config'],
    tags: [],
    description: '',
    columns: {},
    meta: {},
    docs: { show: true },
    patch_path: null,
    database: where.database,
    schema: where.schema,
    alias: name,
    relation_name: null,
    depends_on: { nodes: [], macros: [] },
    refs: [],
    sources: [],
    created_at: Date.now() / 1000,
  };
}
