/**
 * Groups and model access, as dbt-core's ManifestLoader checks them after linking
 * (`check_valid_group_config`, `check_valid_access_property`, `_process_refs` with
 * `is_invalid_private_ref` / `is_invalid_protected_ref`):
 *
 * - `groups:` in properties files → `manifest.groups['group.<pkg>.<name>']` (an owner with a name or an
 *   email, as dbt's Group);
 * - a node whose `group` config names no group: "Invalid group 'x', expected one of [...]";
 * - a public model materialized as ephemeral: dbt's InvalidAccessTypeError;
 * - a ref to a `private` model from a node outside its group (or with no group, e.g. an exposure;
 *   or from another package whose target package has `restrict-access: true`), and a ref to a
 *   `protected` model from another package when the model's package has `restrict-access: true`:
 *   dbt's DbtReferenceError, "Node <id> attempted to reference node <id>, which is not allowed because
 *   the referenced node is private to the '<group>' group." (or "protected to the '<pkg>' package.").
 *
 * A generic test takes the group of the node it is attached to when it has none of its own, so tests on
 * a private model are allowed.
 */
import { TsdbtError } from '../errors.ts';
import type { ManifestBuilder } from './manifest-builder.ts';
import type { ManifestNode } from './manifest.ts';

/** dbt's manifest v12 Group. */
export interface Group {
  name: string;
  resource_type: 'group';
  package_name: string;
  path: string;
  original_file_path: string;
  unique_id: string;
  owner: { email: string | null; name: string | null };
  description: string | null;
  config: { meta: Record<string, unknown> };
}

const GROUP_KEYS = ['name', 'owner', 'description', 'config'];

/** Adds the current project's `groups:` to `b.groups`; a group without an owner name or email is `group-invalid`. */
export function parseGroups(b: ManifestBuilder): void {
  for (const e of b.properties.extras?.groups ?? []) {
    const owner = e.data.owner as Record<string, unknown> | undefined;
    for (const k of Object.keys(e.data)) {
      if (!GROUP_KEYS.includes(k)) b.diags.warn(new TsdbtError('unknown-property', `unknown property '${k}' on group '${e.name}'`, { file: e.file, line: e.keyLines[k], hint: `dbt's group keys are ${GROUP_KEYS.join(', ')}` }));
    }
    if (!owner || typeof owner !== 'object' || (!owner.name && !owner.email)) {
      b.diags.error(new TsdbtError('group-invalid', `group '${e.name}': owner must have at least one of 'name' or 'email'`, { file: e.file, line: e.keyLines.owner ?? e.line, hint: 'write owner:\n  name: …\n  email: …' }));
      continue;
    }
    const uid = `group.${b.pkg}.${e.name}`;
    const config = (e.data.config && typeof e.data.config === 'object' ? e.data.config : {}) as { meta?: Record<string, unknown> };
    b.groups[uid] = {
      name: e.name,
      resource_type: 'group',
      package_name: b.pkg,
      path: e.file.split('/').slice(1).join('/'),
      original_file_path: e.file,
      unique_id: uid,
      owner: { email: owner.email ? String(owner.email) : null, name: owner.name ? String(owner.name) : null },
      description: typeof e.data.description === 'string' ? e.data.description : null,
      config: { meta: config.meta ?? {} },
    };
  }
}

function groupOf(b: ManifestBuilder, n: { config?: unknown; attached_node?: string | null; resource_type: string }): string | null {
  const own = (n.config as { group?: unknown } | undefined)?.group;
  if (typeof own === 'string' && own !== '') return own;
  if (n.resource_type === 'test' && n.attached_node) {
    const g = (b.nodes[n.attached_node]?.config as { group?: unknown } | undefined)?.group;
    if (typeof g === 'string' && g !== '') return g;
  }
  return null;
}

/**
 * After linking: dbt's group and access checks (see the module comment). Errors go to `b.diags`,
 * naming the referencing file and the line of its `ref()` when known.
 */
export function checkGroupsAndAccess(b: ManifestBuilder): void {
  const names = new Set(Object.values(b.groups).map((g) => g.name));
  const sorted = [...names].sort();
  for (const node of Object.values(b.nodes)) {
    const group = (node.config as { group?: unknown }).group;
    if (typeof group === 'string' && group !== '' && !names.has(group)) {
      b.diags.error(
        new TsdbtError('group-not-found', `Invalid group '${group}', expected one of [${sorted.map((g) => `'${g}'`).join(', ')}]`, {
          file: b.displayPath(node.original_file_path, node.package_name),
          hint: `declare it under groups: in a properties file (name and owner)${b.suggest(group, sorted)}`,
        }),
      );
    }
    if (node.resource_type === 'model' && node.config.access === 'public' && node.config.materialized === 'ephemeral') {
      b.diags.error(
        new TsdbtError('access-invalid', `Node ${node.unique_id} has an invalid value (public) for the access field: ephemeral models cannot be public`, {
          file: b.displayPath(node.original_file_path, node.package_name),
          hint: 'make it protected or private, or materialize it as a table or view',
        }),
      );
    }
  }
  // A referrer is a node or an exposure as it is (no copy: 12,000 spread copies cost ~0.1–0.5 s of parse and GC);
  // its file and ref line are worked out only for an error.
  type Referrer = { unique_id: string; resource_type: string; package_name: string; config?: unknown; attached_node?: string | null; original_file_path: string; refs: { name: string; line?: number }[]; depends_on: { nodes: string[] } };
  const referrers: Referrer[] = [...(Object.values(b.nodes) as Referrer[]), ...(Object.values(b.exposures) as unknown as Referrer[])];
  const restricted = (pkg: string) => (pkg === b.rootPkg ? b.rootProject.restrictAccess : b.packageProject(pkg)?.restrictAccess) === true;
  for (const r of referrers) {
    for (const pid of r.depends_on.nodes) {
      const target: ManifestNode | undefined = b.nodes[pid];
      if (!target || target.resource_type !== 'model' || pid === r.unique_id) continue;
      const access = String(target.config.access ?? 'protected');
      const crossPackage = r.package_name !== target.package_name;
      let scope: string | null = null;
      if (access === 'private') {
        const mine = r.resource_type === 'exposure' ? null : groupOf(b, r);
        const theirs = groupOf(b, target);
        if (!mine || mine !== theirs || (crossPackage && restricted(target.package_name))) scope = `'${theirs ?? ''}' group`;
      } else if (access === 'protected' && crossPackage && restricted(target.package_name)) {
        scope = `'${target.package_name}' package`;
      }
      if (!scope) continue;
      b.diags.error(
        new TsdbtError('ref-not-allowed', `Node ${r.unique_id} attempted to reference node ${target.unique_id}, which is not allowed because the referenced node is ${access} to the ${scope}.`, {
          file: b.displayPath(r.original_file_path, r.package_name),
          line: r.refs.find((x) => x.name === target.name)?.line,
          hint:
            access === 'private'
              ? `put ${r.unique_id} in group '${groupOf(b, target) ?? ''}' (config group:), or make ${target.name} protected or public (access:)`
              : `make ${target.name} public (access: public) in package '${target.package_name}', or ref a public model`,
        }),
      );
    }
  }
}
