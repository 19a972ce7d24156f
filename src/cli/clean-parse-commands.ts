/**
 * `tsdbt clean` and `tsdbt parse`, as dbt's CleanTask and `dbt parse`.
 * Registered by src/cli/main.ts with one call to {@link registerCleanParseCommands}.
 *
 * clean: deletes each of `clean-targets` (default: target-path); refuses, as
 * dbt, a target that is one of the project's source paths (model-, seed-,
 * snapshot-, analysis-, macro-, test-paths …) and — unless
 * `--no-clean-project-files-only` — one outside the project. A refusal is an
 * error (exit 2) and nothing is deleted.
 *
 * parse: parses the project, writes target/manifest.json and
 * target/perf_info.json, and prints how long each step took.
 */
import type { Command } from 'commander';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative, resolve, sep, isAbsolute } from 'node:path';
import type { Console } from './console.ts';
import type { ActionWrapper } from './docs-commands.ts';
import { common } from './flags.ts';
import { openSession, parseSession, type CommonFlags } from './pipeline.ts';
import { validateAtParse } from './lineage.ts';
import { loadProjectConfig } from '../config/index.ts';
import type { ProjectConfig } from '../config/types.ts';
import { TsdbtError } from '../errors.ts';
import { writeFileAtomic } from '../artifacts/index.ts';

/** Adds `clean` and `parse` to `program`. */
export function registerCleanParseCommands(program: Command, act: ActionWrapper, out: Console): void {
  program
    .command('clean')
    .description('delete the clean-targets directories (target/ by default)')
    .option('--project-dir <dir>', 'directory holding dbt_project.yml')
    .option('--profiles-dir <dir>', 'accepted for dbt compatibility; clean reads no profile')
    .option('-t, --target <name>', 'accepted for dbt compatibility; clean reads no profile')
    .option('--vars <yaml>', 'accepted for dbt compatibility')
    .option('--no-clean-project-files-only', 'also delete clean-targets outside the project directory')
    .option('--debug', 'show stack traces')
    .action(
      act(async (flags) => {
        const project = loadProjectConfig(resolve((flags as CommonFlags).projectDir ?? process.cwd()));
        for (const p of cleanPaths(project, { projectFilesOnly: flags.cleanProjectFilesOnly !== false })) {
          if (!existsSync(p)) continue;
          rmSync(p, { recursive: true, force: true });
          out.info(`Cleaned ${relative(project.root, p) || p}/`);
        }
        out.info('Finished cleaning all paths.');
        return 0;
      }),
    );

  common(program.command('parse').description('parse the project, write target/manifest.json and target/perf_info.json, and print how long each step took')).action(
    act(async (flags) => {
      const t0 = performance.now();
      const s = openSession(flags, out);
      const t1 = performance.now();
      const p = parseSession(s, out);
      await validateAtParse(s, p, out); // SQL syntax, as compile and run check it (src/sql)
      const t2 = performance.now();
      const m = p.parsed.manifest;
      const nodes = Object.values(m.nodes);
      const count = (t: string) => nodes.filter((n) => n.resource_type === t).length;
      const pp = p.parsed.partialParse;
      const perf = {
        path_count: pp.parsed + pp.reusedRead + pp.reusedUnread,
        parsed_path_count: pp.parsed,
        is_partial_parse_enabled: pp.loaded,
        load_project_elapsed: (t1 - t0) / 1000,
        // parseSession reads, parses, links and writes manifest.json in one step
        load_all_elapsed: (t2 - t1) / 1000,
        projects: [{ project_name: s.project.name, nodes: nodes.length, sources: Object.keys(m.sources).length, macros: Object.keys(m.macros).length }],
      };
      const dir = join(s.project.root, s.project.targetPath);
      mkdirSync(dir, { recursive: true });
      writeFileAtomic(join(dir, 'perf_info.json'), JSON.stringify(perf, null, 2));
      out.info(
        `Parsed ${count('model')} models, ${count('seed')} seeds, ${count('test')} data tests, ${count('snapshot')} snapshots, ${count('analysis')} analyses, ` +
          `${Object.keys(m.sources).length} sources, ${Object.keys(m.macros).length} macros`,
      );
      out.info(`  read the project and profile: ${(t1 - t0).toFixed(0)} ms`);
      out.info(`  parse and write manifest.json: ${(t2 - t1).toFixed(0)} ms (${pp.parsed} files parsed, ${pp.reusedRead + pp.reusedUnread} reused by partial parsing${pp.loaded ? '' : pp.reason ? `; full parse: ${pp.reason}` : ''})`);
      out.info(`Wrote ${s.project.targetPath}/manifest.json and ${s.project.targetPath}/perf_info.json`);
      return 0;
    }),
  );
}

/**
 * The absolute paths `clean` deletes, as dbt's CleanTask decides.
 * @throws TsdbtError `clean-refused` (kind project: exit 2) naming a
 *   clean-target that is a source path, or — with `projectFilesOnly` — outside the project.
 */
export function cleanPaths(project: ProjectConfig, opts: { projectFilesOnly: boolean }): string[] {
  const root = resolve(project.root);
  const abs = (p: string) => resolve(root, p);
  const sourcePaths = new Set(
    [...project.modelPaths, ...project.seedPaths, ...project.snapshotPaths, ...project.analysisPaths, ...project.macroPaths, ...project.testPaths, ...project.docsPaths].map(abs),
  );
  sourcePaths.add(root);
  const targets = [...new Set(project.cleanTargets.map(abs))];
  const protectedOnes = targets.filter((t) => sourcePaths.has(t));
  if (protectedOnes.length) {
    throw new TsdbtError('clean-refused', `tsdbt will not clean these source paths: ${protectedOnes.map((t) => relative(root, t) || '.').join(', ')}`, {
      file: 'dbt_project.yml',
      kind: 'project',
      hint: 'clean-targets lists directories tsdbt writes (target, dbt_packages, logs); remove the source paths from it',
    });
  }
  const inside = (t: string) => {
    const r = relative(root, t);
    return r !== '' && !r.startsWith('..') && !isAbsolute(r) && !r.startsWith(sep);
  };
  const outside = targets.filter((t) => !inside(t));
  if (outside.length && opts.projectFilesOnly) {
    throw new TsdbtError('clean-refused', `tsdbt will not clean these directories outside the project: ${outside.join(', ')}`, {
      file: 'dbt_project.yml',
      kind: 'project',
      hint: 'clean-targets should be inside the project; to delete them anyway run tsdbt clean --no-clean-project-files-only (as dbt)',
    });
  }
  return targets;
}
