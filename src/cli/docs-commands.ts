/**
 * The `tsdbt docs` commands (commander): `generate`, `serve`, `lineage`.
 * Registered by src/cli/main.ts with one call to {@link registerDocsCommands}.
 */
import { Command, Option } from 'commander';
import { join, resolve } from 'node:path';
import type { Console } from './console.ts';
import { common } from './flags.ts';
import { openSession, parseSession, type CommonFlags } from './pipeline.ts';
import { loadProjectConfig } from '../config/index.ts';
import { TsdbtError } from '../errors.ts';
import type { SelectionWarning } from '../graph/index.ts';
import { docsGenerate } from './docs-generate.ts';
import { serveDocs } from '../docs/serve.ts';
import { docsLineageGraph, listLineage, selectLineage, toDot, toLineageJson, toMermaid } from '../docs/lineage.ts';

/** main.ts's wrapper that runs a command and records its exit code. */
export type ActionWrapper = (
  fn: (flags: CommonFlags & Record<string, unknown>, cmd: Command) => Promise<number>,
) => (...args: unknown[]) => Promise<void>;

/** A console whose informational lines go to stderr, so stdout holds only the command's output. */
function quietStdout(out: Console): Console {
  return { ...out, info: (t: string) => void process.stderr.write(t + '\n') };
}

/**
 * Adds `docs generate`, `docs serve` and `docs lineage` to `program`.
 * `signal` (main.ts's Ctrl-C controller) stops `docs serve`.
 */
export function registerDocsCommands(program: Command, act: ActionWrapper, out: Console, signal?: AbortSignal): Command {
  const docs = program.command('docs').description('generate the documentation site (lineage graph + a page per node), serve it, or print the lineage');

  common(
    docs
      .command('generate')
      .description('write target/index.html (one self-contained file), target/manifest.json and target/catalog.json'),
    { selection: true },
  )
    .option('--no-compile', 'do not compile the project first (the site shows raw SQL only)')
    .option('--empty-catalog', 'do not read the database: catalog.json has no relations (no column types or stats)')
    .action(
      act(async (flags) => {
        const started = performance.now();
        const r = await docsGenerate(flags, out, { compile: flags.compile !== false, emptyCatalog: !!flags.emptyCatalog });
        const kb = (r.bytes / 1024).toFixed(0);
        out.info(`Catalog written to ${r.catalogPath} (${r.relations} relations)`);
        out.info(`Docs site written to ${r.indexPath} (${r.nodes} nodes, ${kb} kB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        out.info(`Open it in a browser (no server needed), or run: tsdbt docs serve`);
        return 0;
      }),
    );

  docs
    .command('serve')
    .description('serve target/ on localhost and print the URL (Ctrl-C stops it)')
    .option('--project-dir <dir>', 'directory holding dbt_project.yml (default: current directory)')
    .option('--port <port>', 'port to listen on', '8080')
    .option('--host <host>', 'interface to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--debug', 'show stack traces')
    .action(
      act(async (flags) => {
        const port = Number(flags.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new TsdbtError('bad-flag', `--port must be a whole number from 0 to 65535, got '${flags.port}'`, { hint: 'e.g. --port 8080' });
        }
        const project = loadProjectConfig(resolve(flags.projectDir ?? process.cwd()));
        const server = await serveDocs(join(project.root, project.targetPath), { port, host: String(flags.host) });
        out.info(`Serving docs at ${server.url}`);
        out.info('Press Ctrl-C to stop.');
        await new Promise<void>((resolveStop) => {
          if (signal?.aborted) resolveStop();
          signal?.addEventListener('abort', () => resolveStop(), { once: true });
          if (!signal) process.once('SIGINT', () => resolveStop());
        });
        await server.close();
        out.info('Stopped.');
        return 0;
      }),
    );

  common(docs.command('lineage').description('print the lineage (models, seeds, snapshots, analyses, sources) as Mermaid, Graphviz DOT or JSON'), { selection: true })
    .addOption(new Option('--format <format>', 'output format').choices(['mermaid', 'dot', 'json']).default('mermaid'))
    .action(
      act(async (flags) => {
        const quiet = quietStdout(out);
        const s = openSession(flags, quiet);
        const p = parseSession(s, quiet);
        const m = p.parsed.manifest;
        const warnings: SelectionWarning[] = [];
        const keep = flags.select?.length || flags.exclude?.length ? selectLineage(m, p.graph, flags.select, flags.exclude, warnings) : undefined;
        for (const w of warnings) out.warn(w.hint ? `${w.message}\n  hint: ${w.hint}` : w.message);
        const listing = listLineage(m, docsLineageGraph(m, p.graph, keep));
        const fmt = String(flags.format);
        out.out((fmt === 'dot' ? toDot(listing, m.metadata.project_name) : fmt === 'json' ? toLineageJson(listing) : toMermaid(listing)).replace(/\n$/, ''));
        return 0;
      }),
    );

  return docs;
}
