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
import { Diagnostics, type TsdbtError } from '../errors.ts';
import type { ProjectConfig, Properties, TargetConfig } from '../config/types.ts';
import { loadProperties, relationDatabase } from '../config/index.ts';
import { JinjaEnv } from '../jinja/index.ts';
import { discoverFiles } from './discover.ts';
import type { StaticCall } from './static-extract.ts';
import { PartialParse, partialParseKey, type PartialParseStats } from './partial-parse.ts';
import { ParseRenderer } from './parse-render.ts';
import { ManifestBuilder } from './manifest-builder.ts';
import { parseDocBlocks } from './docs-blocks.ts';
import { parseMacros } from './macros.ts';
import { installedPackages, unloadedResourcesWarning } from './packages.ts';
import { parseModels } from './models.ts';
import { parseSeeds } from './seeds.ts';
import { parseSources } from './sources.ts';
import { parseSingularTests } from './singular-tests.ts';
import { parseGenericTests } from './generic-tests.ts';
import { linkRefsAndSources } from './link.ts';
import { parseUnitTests } from './unit-tests.ts';
import type { Manifest } from './manifest.ts';

export interface ParseOptions {
  readonly project: ProjectConfig;
  readonly target: TargetConfig;
  /** `--vars`, already parsed. */
  readonly cliVars: Record<string, unknown>;
  readonly invocationId: string;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Reuse what the previous parse learned from unchanged files
   * (`<target-path>/partial_parse.json`, as dbt's partial parsing) and save
   * it for the next one. Default: true unless `DBT_PARTIAL_PARSE` is
   * `false`/`0` (dbt's `--no-partial-parse`).
   */
  readonly partialParse?: boolean;
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
}

/**
 * Parses the project into a Manifest, in dbt's order: docs blocks, macros,
 * then (with partial parsing's cache) properties, models and analyses, seeds,
 * sources, singular tests, generic tests, and finally ref/source linking.
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

  const docs = parseDocBlocks(files.docs, pkg);
  const jinja = new JinjaEnv({ rootPackage: pkg, dispatch: project.dispatch });
  const packages = installedPackages(project, env);
  const { macros, macroSources } = parseMacros(jinja, files.macros, pkg, diags, now, packages);
  for (const p of packages) {
    const w = unloadedResourcesWarning(p);
    if (w) diags.warn(w);
  }

  // Partial parsing: what earlier parses learned from unchanged files.
  const partialParseOn = opts.partialParse ?? !/^(false|0|no)$/i.test(env.DBT_PARTIAL_PARSE ?? '');
  const pp = new PartialParse(
    join(project.root, project.targetPath),
    partialParseKey({ project, target, cliVars: opts.cliVars, macroSources }),
    partialParseOn,
  );
  const properties: Properties = pp.properties(project, () => loadProperties(project));

  const renderer = new ParseRenderer({ project, target, cliVars: opts.cliVars, invocationId: opts.invocationId, env, jinja, database, diags });
  const b = new ManifestBuilder({
    project, target, cliVars: opts.cliVars, invocationId: opts.invocationId, env, database, now, diags, files, jinja, pp, properties, docs, macros, renderer,
  });
  parseModels(b);
  parseSeeds(b);
  parseSources(b);
  parseSingularTests(b);
  parseGenericTests(b);
  linkRefsAndSources(b);
  const unitTests = parseUnitTests(b);

  diags.throwIfErrors();
  pp.save();
  const manifest: Manifest = b.toManifest();
  manifest.unit_tests = unitTests;
  return { manifest, jinja, staticCalls: b.staticCalls, warnings: [...(properties.warnings ?? []), ...b.warnings, ...diags.warnings], database, partialParse: pp.stats };
}
