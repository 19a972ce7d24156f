/**
 * Project → Manifest: reads every file of a dbt project, captures each
 * node's refs, sources and config by rendering it in dbt's parse phase (or
 * through the static fast path), applies config precedence (project file <
 * properties < `config()` in the file, as dbt) and schema/alias naming
 * (`generate_schema_name` / `generate_alias_name`, overridable by the
 * project's own macros, as dbt), and links refs to unique_ids. This file
 * wires the stages; each resource type is parsed in its own module.
 *
 * Every compile error in the project is collected before anything is thrown
 * (as Dataform's compile session); the thrown error lists them all.
 */
import { join } from 'node:path';
import { CompileErrors, Diagnostics, TsdbtError } from '../errors.ts';
import type { ProjectConfig, Properties, TargetConfig } from '../config/types.ts';
import { checkRequireDbtVersion, loadProperties, relationDatabase } from '../config/index.ts';
import { JinjaEnv } from '../jinja/index.ts';
import { discoverFiles } from './discover.ts';
import type { StaticCall } from './static-extract.ts';
import { PartialParse, partialParseKey, type PartialParseStats } from './partial-parse.ts';
import { ParseRenderer } from './parse-render.ts';
import { ManifestBuilder, inPackageDir } from './manifest-builder.ts';
import { parseDocBlocks } from './docs-blocks.ts';
import { parseMacros } from './macros.ts';
import { installedPackages } from './packages.ts';
import { parseModels } from './models.ts';
import { parseSeeds } from './seeds.ts';
import { parseSnapshots } from './snapshots.ts';
import { parseSources } from './sources.ts';
import { parseSingularTests } from './singular-tests.ts';
import { parseGenericTests } from './generic-tests.ts';
import { resolveConstraintTargets } from './contracts.ts';
import { checkDistConfigs } from './dist-configs.ts';
import { linkExposures, parseExposures } from './exposures.ts';
import { checkGroupsAndAccess, parseGroups } from './groups.ts';
import { linkRefsAndSources } from './link.ts';
import { linkMacroDependencies } from './macro-deps.ts';
import { withoutCustomMaterializationKeys } from './custom-config-keys.ts';
import { DBT_VERSION } from './jinja-context.ts';
import { parseUnitTests } from './unit-tests.ts';
import type { Manifest } from './manifest.ts';

export interface ParseOptions {
  readonly project: ProjectConfig;
  readonly target: TargetConfig;
  /** `--vars`, already parsed. */
  readonly cliVars: Record<string, unknown>;
  readonly invocationId: string;
  /** Progress while parsing a large project: files parsed so far of all the project's and packages' files (the console's progress line). */
  readonly onProgress?: (what: string, done: number, total: number) => void;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Reuse what the previous parse learned from unchanged files
   * (`<target-path>/partial_parse.json`, as dbt's partial parsing) and save
   * it for the next one. Default: true unless `DBT_PARTIAL_PARSE` is
   * `false`/`0` (dbt's `--no-partial-parse`).
   */
  readonly partialParse?: boolean;
  /**
   * Check `require-dbt-version` of the root project and every package against
   * the dbt version tsdbt reports ({@link DBT_VERSION}), as dbt. Default: true
   * unless `DBT_VERSION_CHECK` is `false`/`0` (dbt's `--no-version-check`).
   */
  readonly versionCheck?: boolean;
  /**
   * Read models whose only Jinja is `ref`/`source`/`config`/`this` with
   * literal arguments without running nunjucks (static-extract.ts, dbt's
   * static parser). Default: true unless `DBT_STATIC_PARSER` is `false`/`0`
   * (dbt's `--no-static-parser`); off, every model is rendered, which the
   * differential test (static-fast-path.test.ts) compares with.
   */
  readonly staticParser?: boolean;
}

/** What parsing produced, for the compile stage. */
export interface ParseResult {
  readonly manifest: Manifest;
  readonly jinja: JinjaEnv;
  /** unique_id → the static fast-path calls, for nodes that need no full render. */
  readonly staticCalls: ReadonlyMap<string, readonly StaticCall[]>;
  readonly warnings: readonly TsdbtError[];
  /** The database name relations are qualified with (the target's dbname; `postgres` on PGlite). */
  readonly database: string;
  /** How many files partial parsing reused (see partial-parse.ts). */
  readonly partialParse: PartialParseStats;
  /** Installed packages' dbt_project.yml by package name (their `vars:` apply to their nodes' `var()`). */
  readonly packageProjects: ReadonlyMap<string, ProjectConfig>;
}

/**
 * Parses the project into a Manifest, in dbt's order: docs blocks, macros,
 * then (with partial parsing's cache) properties, models and analyses, seeds,
 * snapshots, sources, singular tests, generic tests, and finally ref/source linking.
 * Each resource type has its own module adding to a {@link ManifestBuilder}.
 * @throws TsdbtError (or CompileErrors listing several) for any project error.
 */
export function parseProject(opts: ParseOptions): ParseResult {
  const { project, target } = opts;
  const env = opts.env ?? process.env;
  const diags = new Diagnostics();
  const now = Date.now() / 1000;
  const database = relationDatabase(target);
  const files = discoverFiles(project);
  const pkg = project.name;

  const packages = installedPackages(project, env, { vars: opts.cliVars, target });
  // dbt's Project.validate_version, for the root project and every package (unless --no-version-check).
  if (opts.versionCheck ?? !/^(false|0|no)$/i.test(env.DBT_VERSION_CHECK ?? '')) {
    checkRequireDbtVersion(project, DBT_VERSION, project.file ?? 'dbt_project.yml');
    for (const p of packages) checkRequireDbtVersion(p.project, DBT_VERSION, `${p.dir}/dbt_project.yml`);
  }
  // Docs blocks: the root project's, then each package's (keyed doc.<package>.<name>).
  const docs = parseDocBlocks(files.docs, pkg);
  for (const p of packages) Object.assign(docs, inPackage(diags, p.dir, () => parseDocBlocks(p.files.docs, p.name)) ?? {});
  const jinja = new JinjaEnv({ rootPackage: pkg, dispatch: project.dispatch });
  const { macros, macroSources } = parseMacros(jinja, files.macros, pkg, diags, now, packages);

  // Partial parsing: what earlier parses learned from unchanged files.
  const partialParseOn = opts.partialParse ?? !/^(false|0|no)$/i.test(env.DBT_PARTIAL_PARSE ?? '');
  const pp = new PartialParse(
    join(project.root, project.targetPath),
    // A package's dbt_project.yml (its vars, its config trees) changes what its files parse to.
    partialParseKey({ project, target, cliVars: opts.cliVars, macroSources: [...macroSources, ...packages.map((p) => JSON.stringify({ ...p.project, warnings: undefined }))] }),
    partialParseOn,
  );
  const properties: Properties = pp.properties(project, () => loadProperties(project));

  const renderer = new ParseRenderer({ project, target, cliVars: opts.cliVars, invocationId: opts.invocationId, env, jinja, database, diags });
  const b = new ManifestBuilder({
    project, target, cliVars: opts.cliVars, invocationId: opts.invocationId, env, database, now, diags, files, jinja, pp, properties, docs, macros, renderer,
    staticParser: opts.staticParser ?? !/^(false|0|no)$/i.test(env.DBT_STATIC_PARSER ?? ''),
  });
  // Nothing silently ignored: a Python model would be a missing table without a word.
  for (const f of files.pythonModels) {
    diags.error(
      new TsdbtError('unsupported', `[unsupported] ${f.originalFilePath} is a Python model: tsdbt runs SQL models only (dbt-postgres has no Python runtime either)`, {
        file: f.originalFilePath,
        line: 1,
        hint: 'rewrite it as a .sql model, or move it out of model-paths',
      }),
    );
  }
  const fileCount = (f: object) => Object.values(f).reduce((n: number, v) => n + (Array.isArray(v) ? v.length : 0), 0);
  const totalFiles = fileCount(files) + packages.reduce((n, p) => n + fileCount(p.files), 0);
  let filesDone = fileCount(files);
  opts.onProgress?.('files parsed', 0, totalFiles);
  parseResources(b);
  opts.onProgress?.('files parsed', filesDone, totalFiles);
  // Then every installed package, as dbt parses each project in turn (root first): its nodes get
  // package_name <package>, its own dbt_project.yml trees and vars, and the root project's overrides.
  for (const p of packages) {
    const props = inPackage(diags, p.dir, () => loadProperties(p.project));
    if (!props) continue;
    b.enterPackage(p, props);
    for (const w of props.warnings ?? []) b.warnings.push(w);
    parseResources(b);
    b.leavePackage();
    filesDone += fileCount(p.files);
    opts.onProgress?.('files parsed', filesDone, totalFiles);
  }
  linkRefsAndSources(b);
  linkMacroDependencies(b);
  resolveConstraintTargets(b);
  checkDistConfigs(b);
  linkExposures(b);
  checkGroupsAndAccess(b);
  const unitTests = parseUnitTests(b);

  diags.throwIfErrors();
  pp.save();
  const manifest: Manifest = b.toManifest();
  manifest.unit_tests = unitTests;
  return {
    manifest,
    jinja,
    staticCalls: b.staticCalls,
    warnings: withoutCustomMaterializationKeys([...(properties.warnings ?? []), ...b.warnings, ...diags.warnings], manifest, jinja),
    database,
    partialParse: pp.stats,
    packageProjects: new Map(packages.map((p) => [p.name, p.project])),
  };
}

/** Runs `fn`, recording a TsdbtError it throws (its file shown under the package's folder `dir`); undefined then. */
function inPackage<T>(diags: Diagnostics, dir: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof TsdbtError)) throw e;
    for (const x of e instanceof CompileErrors ? e.errors : [e]) diags.error(inPackageDir(x, dir));
    return undefined;
  }
}

/** One project's resources, in dbt's order: models and analyses, seeds, sources, singular tests, generic tests. */
function parseResources(b: ManifestBuilder): void {
  parseModels(b);
  parseSeeds(b);
  parseSnapshots(b);
  parseSources(b);
  parseSingularTests(b);
  parseGenericTests(b);
  parseExposures(b);
  parseGroups(b);
}
