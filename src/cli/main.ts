/**
 * The `tsdbt` command line (commander). Thin: each command calls the
 * pipeline; output goes through the Console.
 *
 * Exit codes: 0 success; 1 a node or test failed (or a run-time error, e.g.
 * `run-locked` under --no-wait); 2 a project, config or usage error; 130 / 143
 * cancelled by SIGINT / SIGTERM.
 */
import { Command, CommanderError, Option } from 'commander';
import { join } from 'node:path';
import { TsdbtError } from '../errors.ts';
import { DatabaseError } from '../adapters/adapter.ts';
import { createConsole, type Console } from './console.ts';
import { common } from './flags.ts';
import { applyEnvFlags, colorChoice } from './env-flags.ts';
import { addLoggingOptions, mergeLoggingFlags } from './logging-flags.ts';
import { resolveLogOptions } from './logging.ts';
import { openSession, parseSession, select, compileSessionWithCompiler, relationState, runCommand, retryCommand, sqlCheck, type CommonFlags } from './pipeline.ts';
import { withColumnLineage } from '../sql/index.ts';
import { registerLineageCommand } from './lineage.ts';
import { createAdapter } from '../adapters/index.ts';
import { maskTarget, scrubConnectionText } from '../secrets.ts';
import { writeManifest, nodeForJson, sourceForJson, unitTestForJson } from '../artifacts/index.ts';
import type { Manifest } from '../parse/manifest.ts';
import { planRun, COMMAND_RESOURCE_TYPES, type RunCommand } from '../runner/run.ts';
import { topologicalOrder } from '../graph/index.ts';
import { registerDocsCommands } from './docs-commands.ts';
import { registerDepsCommand } from './deps-command.ts';
import { withUnitTestNodes } from '../unittests/run-unit-test.ts';
import { registerRunOperationCommand } from './run-operation.ts';
import { registerSourceCommands } from './freshness-command.ts';
import { registerCleanParseCommands } from './clean-parse-commands.ts';
import { registerCloneCommand } from './clone.ts';
import { registerInitCommand } from './init.ts';
import { showCommand, compileInlineCommand, printCompiled } from './show.ts';
import { versionText, tsdbtVersion } from './version.ts';
import { addHelpExamples } from './help-examples.ts';
import { currentRecorder, inputDirs, profileCandidates, startRecording, stopRecording } from '../parse/unchanged.ts';
import { statSync } from 'node:fs';
import { flushBackgroundWrites } from '../compile/background-writes.ts';

const VERSION = tsdbtVersion();


/** Runs the CLI with `argv` (process.argv shape). Resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  exitQuietlyWhenStdoutCloses();
  // `tsdbt compile` records what it read and printed, so an identical invocation with nothing changed
  // replays it (src/parse/unchanged.ts; bin/tsdbt.mjs sets the build id and tries the replay first).
  const buildId = (globalThis as { __tsdbtBuildId?: string }).__tsdbtBuildId;
  if (buildId && argv[2] === 'compile' && !argv.includes('--inline')) {
    startRecording({ buildId, argv, cwd: process.cwd(), tty: [!!process.stdout.isTTY, !!process.stderr.isTTY] });
  }
  const out = createConsole({ color: colorChoice(argv) });
  let code = 0;
  let debug = argv.includes('--debug');
  const program = new Command('tsdbt')
    .description('A dbt-compatible SQL transformation compiler and runner for PostgreSQL (embedded PGlite by default).')
    .version(versionText(), '-v, --version', "print tsdbt's version, the dbt version it follows and the database drivers'")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) })
    .showHelpAfterError('(run with --help for usage)');
  addLoggingOptions(program.option('--debug', 'show stack traces and debug output'));

  const controller = new AbortController();
  const act = (fn: (flags: CommonFlags & Record<string, unknown>, cmd: Command) => Promise<number>) => async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const flags = cmd.opts() as CommonFlags & Record<string, unknown>;
    debug = !!flags.debug || !!program.opts().debug;
    applyEnvFlags(cmd, flags);
    // Logging flags: given on the program (`tsdbt -q run`) or the command; env vars where neither (logging.ts).
    const logFlags = mergeLoggingFlags(program.opts(), flags);
    Object.assign(flags, { ...logFlags, debug: debug || undefined });
    const logOptions = resolveLogOptions(logFlags);
    const invocation = { command: cmd.parent && cmd.parent !== program ? `${cmd.parent.name()} ${cmd.name()}` : cmd.name(), args: flags };
    out.configureLogging?.(logOptions, invocation);
    currentRecorder()?.consoleSetup({ logOptions, ...invocation });
    let ok = false;
    try {
      code = await fn(flags, cmd);
      ok = true;
    } finally {
      // Files queued for the writer thread (compiled SQL, big artifacts) are on disk before the command returns.
      if (ok) await flushBackgroundWrites();
      else await flushBackgroundWrites().catch(() => undefined);
    }
  };

  for (const name of ['run', 'seed', 'test', 'snapshot', 'build'] as const) {
    const help = {
      run: 'materialize the selected models in dependency order',
      seed: 'load the CSV files under seed-paths into tables',
      test: 'run data tests on the selected nodes',
      snapshot: 'run the selected snapshots (SCD type 2 history tables), each in one transaction',
      build: 'seed, run and test the selected nodes in DAG order; a failing test skips what is downstream',
    }[name];
    const cmd = common(program.command(name).description(help), { selection: true, run: true });
    if (name === 'run' || name === 'build') cmd.option('--empty', "build every model's schema with no rows: ref() and source() read nothing (dbt's --empty)");
    cmd.action(
      act((flags) => runCommand(name, flags, out, controller.signal)),
    );
  }

  common(program.command('retry').description('re-run the nodes that errored, failed or were skipped in the last run (target/run_results.json)'), { run: true }).action(
    act((flags) => retryCommand(flags, out, controller.signal)),
  );

  common(program.command('compile').description('render the selected nodes to target/compiled/ (prints the SQL with --select of one node, or of --inline SQL)'), { selection: true })
    .option('--threads <n>', 'ignored; accepted for dbt compatibility')
    .option('--inline <sql>', 'compile this SQL (Jinja allowed: ref, source, macros) and print it')
    .addOption(new Option('--output <format>', 'how the printed SQL is shown').choices(['text', 'json']).default('text'))
    .action(act((flags) => (flags.inline !== undefined ? compileInlineCommand(flags, out) : compileCommand(flags, out))));

  common(program.command('ls').alias('list').description('list the selected nodes'), { selection: true })
    .addOption(new Option('--output <format>', 'output format').choices(['name', 'path', 'json', 'selector']).default('selector'))
    .option('--output-keys <keys...>', "with --output json: the node properties to print, space-separated; dotted keys read nested values (e.g. 'name resource_type config.materialized')", (v: string, prev: string[] = []) => [...prev, ...v.split(/\s+/).filter(Boolean)])
    .action(act((flags) => lsCommand(flags, out)));

  common(program.command('show').description('run a model\'s compiled SQL (or --inline SQL) and print the first rows'), { selection: true })
    .option('--inline <sql>', "SQL to run instead of a model; Jinja is rendered as in a model (e.g. \"select * from {{ ref('orders') }}\")")
    .option('--limit <n>', 'rows to show; -1 for every row', '5')
    .addOption(new Option('--output <format>', 'text table, or JSON {"node", "show": [rows]}').choices(['text', 'json']).default('text'))
    .action(act((flags) => showCommand(flags, out)));

  common(program.command('debug').description('show the project, the profile target (password masked) and test the connection'), { selection: true })
    .addOption(new Option('--plan [command]', 'print, as JSON, what COMMAND would execute for the selection (the ExecutionPlan), without connecting').choices(['run', 'seed', 'test', 'snapshot', 'build']))
    .action(act((flags) => (flags.plan ? planCommand(flags, out) : debugCommand(flags, out))));

  registerCleanParseCommands(program, act, out);
  registerLineageCommand(program, act, out);
  registerDepsCommand(program, act, out);
  registerRunOperationCommand(program, act, out);
  registerCloneCommand(program, act, out);
  registerInitCommand(program, act, out);
  registerSourceCommands(program, act, out);
  registerDocsCommands(program, act, out, controller.signal);
  addHelpExamples(program);

  // Ctrl-C / SIGTERM: cancel running queries at once (their transactions roll back), skip what has not
  // started, write run_results.json, exit 130 / 143. A second signal exits immediately.
  let signalCode: number | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    const exitCode = SIGNAL_EXIT_CODES[sig] ?? 130;
    if (signalCode !== undefined) {
      process.stderr.write(`\n${sig} received again: exiting now\n`);
      process.exit(signalCode);
    }
    signalCode = exitCode;
    out.warn(`\n${sig} received: cancelling the running queries (press Ctrl-C again to exit at once)`);
    controller.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await program.parseAsync(argv);
    return signalCode ?? code;
  } catch (e) {
    code = reportError(e, out, debug);
    return signalCode ?? code;
  } finally {
    stopRecording();
    out.close?.(signalCode ?? code);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/**
 * `tsdbt ls | head -1`: when the reader of stdout goes away, stop quietly
 * with exit 0 (what `head` expects of the writer) instead of an unhandled
 * EPIPE error with a stack trace. Installed once per process.
 */
function exitQuietlyWhenStdoutCloses(): void {
  if (process.stdout.listeners('error').some((l) => (l as { tsdbtEpipe?: true }).tsdbtEpipe)) return;
  const onError = Object.assign((e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  }, { tsdbtEpipe: true as const });
  process.stdout.on('error', onError);
}

/** Exit codes after a signal, as shells report them (128 + signal number). */
export const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Prints an error as one paragraph and picks the exit code. */
export function reportError(e: unknown, out: Console, debug: boolean): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return 2;
  }
  if (e instanceof TsdbtError) {
    out.error(e.format());
    if (debug && e.stack) out.error(scrubConnectionText(e.stack));
    return e.kind === 'runtime' ? 1 : 2;
  }
  if (e instanceof DatabaseError) {
    // A statement outside any node (show --inline, debug): the database's own words.
    out.error(`Database Error: ${e.message}${e.detail ? `\n  DETAIL: ${e.detail}` : ''}${e.hint ? `\n  hint: ${e.hint}` : ''}`);
    return 1;
  }
  const err = e as Error;
  out.error(`Internal error in tsdbt (this is a bug, please report it): ${scrubConnectionText(err?.message ?? String(e))}`);
  if (debug && err?.stack) out.error(scrubConnectionText(err.stack));
  else out.error('  run again with --debug to see the stack trace');
  return 2;
}

async function compileCommand(flags: CommonFlags & Record<string, unknown>, console_: Console): Promise<number> {
  const rec = currentRecorder();
  const out = rec ? rec.wrapConsole(console_) : console_;
  const notReplayed = (globalThis as { __tsdbtNotReplayed?: string }).__tsdbtNotReplayed;
  if (notReplayed) console_.debug?.(`Compiling in full: ${notReplayed}`);
  const s = openSession(flags, out);
  // manifest.json is written after compiling, with every compiled node's compiled_code (as dbt's compile).
  const p = parseSession(s, out, { writeManifest: false });
  const ids = select(s, p, ['model', 'test', 'analysis', 'snapshot'], out);
  let relations = new Map<string, string>() as ReadonlyMap<string, string>;
  // Which relations exist matters only to is_incremental() and to templates that look at a relation's
  // type or call the adapter; opening the database (PGlite: ~0.6 s and its lock) is skipped when no selected
  // node is incremental and neither their code nor a non-builtin macro could ask. Without a reachable
  // database everything compiles as if nothing existed.
  const m = p.parsed.manifest;
  const asksDatabase = /\badapter\.|\brun_query\b|\bstatement\s*\(|load_relation|(?:\bthis|\))\.(?:type|is_(?:table|view|materialized_view))\b/;
  const rendered = ids.map((id) => m.nodes[id]).concat(Object.values(m.nodes).filter((n) => n.config.materialized === 'ephemeral'));
  const needsRelations =
    rendered.some((n) => n && (n.config.materialized === 'incremental' || asksDatabase.test(n.raw_code ?? ''))) ||
    Object.values(m.macros).some((mac) => mac.package_name !== 'dbt' && asksDatabase.test(mac.macro_sql ?? ''));
  if (rec) {
    // What the files and command line do not pin: the database, --state's folder, the clock or the invocation id in a template.
    const perInvocation = /\b(?:run_started_at|invocation_id|modules\.|now\s*\(|random)/;
    if (needsRelations) rec.unreplayable = 'a selected node or a macro may ask the database';
    else if (flags.state || flags.defer) rec.unreplayable = '--state / --defer read another folder';
    else if (rendered.some((n) => n && perInvocation.test(n.raw_code ?? '')) || Object.values(m.macros).some((mac) => mac.package_name !== 'dbt' && perInvocation.test(mac.macro_sql ?? ''))) {
      rec.unreplayable = 'a selected node or a macro uses the time or the invocation id';
    }
  }
  const adapter = needsRelations ? await createAdapter(s.target).catch(() => null) : null;
  try {
    if (adapter) relations = await relationState(adapter, p.parsed);
  } finally {
    await adapter?.close();
  }
  const { compiled, compiler, atRunTime } = await compileSessionWithCompiler(s, p, ids, relations, { out });
  if (atRunTime.size && rec) rec.unreplayable = 'a node was compiled against the database';
  const lineage = await sqlCheck(s, p, compiled.values(), out, compiler); // syntax errors (exit 2) and lineage.json, as run does
  writeManifest(join(s.project.root, s.project.targetPath), withColumnLineage(p.parsed.manifest, lineage), compiled, { background: true });
  // As dbt: print the SQL of each compiled node named in --select (graph operators stripped).
  const named = new Set((flags.select ?? []).map((t) => t.replace(/^(\d*\+|@)/, '').replace(/\+\d*$/, '')));
  const shown = [...compiled.values()].filter((c) => named.has(p.parsed.manifest.nodes[c.uniqueId]?.name));
  for (const c of shown) printCompiled(out, p.parsed.manifest.nodes[c.uniqueId].name, c.compiledCode, flags.output, shown.length > 1);
  if (!shown.length) out.info(`Compiled ${compiled.size} nodes to ${s.project.targetPath}/compiled/`);
  if (rec) {
    await flushBackgroundWrites(); // the outputs' stats are recorded: they must be on disk
    // What an identical invocation replays; manifest.json and lineage.json get a new invocation_id / generated_at then.
    const dir = join(s.project.root, s.project.targetPath);
    const writtenNow = (f: string) => (statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0) >= rec.startedAt;
    const why = rec.save({
      root: s.project.root,
      targetDir: dir,
      walk: inputDirs(s.project),
      profiles: profileCandidates(s.project.root, flags.profilesDir, process.env),
      outputs: ['partial_parse.json', 'manifest.json', 'lineage.json'].map((f) => join(dir, f)).filter((f) => statSync(f, { throwIfNoEntry: false })),
      listed: [...compiled.values()].map((c) => join(s.project.root, c.compiledPath)),
      patched: ['manifest.json', 'lineage.json'].map((f) => join(dir, f)).filter(writtenNow),
    });
    if (why) out.debug?.(`The next identical compile runs in full: ${why}`);
  }
  return 0;
}

async function lsCommand(flags: CommonFlags & Record<string, unknown>, out: Console): Promise<number> {
  const s = openSession(flags, out);
  const p = parseSession(s, out);
  const rt = (flags.resourceType as string[] | undefined) ?? [];
  const dropped = new Set((flags.excludeResourceType as string[] | undefined) ?? []);
  // As dbt's ListTask: analyses are listed only when asked for (`--resource-type analysis` or `all`).
  const types = (!rt.length || rt.includes('default') ? LS_DEFAULT_TYPES : rt.includes('all') ? [...LS_DEFAULT_TYPES, 'analysis'] : rt).filter((t) => !dropped.has(t));
  const ids = select({ ...s, flags: { ...s.flags, resourceType: undefined } }, p, types, out);
  const m = p.parsed.manifest;
  // Selection returns executable nodes; sources are listed when asked for and nothing narrows them.
  if (types.includes('source') && !flags.select?.length && !flags.models?.length && !flags.selector) ids.push(...Object.keys(m.sources).sort());
  for (const line of lsLines(m, ids, String(flags.output ?? 'selector'), (flags.outputKeys as string[] | undefined) ?? [])) out.out(line);
  return 0;
}

/** `dict` cut to dbt's default `ls` keys, or to `outputKeys` (a dotted key reads a nested value; a missing one is left out). */
function pickLsKeys(dict: Record<string, unknown>, outputKeys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (outputKeys.length) {
    for (const key of outputKeys) {
      const value = key.includes('.') ? key.split('.').reduce<unknown>((cur, k) => (cur && typeof cur === 'object' && k in cur ? (cur as Record<string, unknown>)[k] : undefined), dict) : dict[key];
      if (value !== undefined && (value !== null || !key.includes('.'))) out[key] = value;
    }
  } else for (const k of LS_JSON_KEYS) if (k in dict) out[k] = dict[k];
  return out;
}

/** The resource types `ls` lists by default (dbt's ListTask.DEFAULT_RESOURCE_VALUES that tsdbt has). */
const LS_DEFAULT_TYPES = ['model', 'seed', 'test', 'snapshot', 'source', 'unit_test', 'exposure', 'metric', 'saved_query', 'semantic_model'];

/** The keys of `ls --output json` without `--output-keys` (dbt's ListTask.ALLOWED_KEYS). */
export const LS_JSON_KEYS = ['alias', 'name', 'package_name', 'depends_on', 'direct_parents', 'tags', 'config', 'resource_type', 'source_name', 'original_file_path', 'unique_id'] as const;

/**
 * The lines `tsdbt ls` prints for the selected unique_ids, as dbt's ListTask:
 * `selector` → the fqn joined by dots (`source:pkg.source.table` for
 * sources); `name` → the name; `path` → original_file_path; `json` → one
 * JSON object per line, the node as manifest.json serializes it, cut to
 * {@link LS_JSON_KEYS} — or, with `outputKeys`, to exactly those keys, a
 * dotted key (`config.materialized`) reading a nested value and keeping
 * the dotted name, a key the node lacks left out (dbt ≥ 1.10).
 */
export function lsLines(m: Manifest, ids: readonly string[], output: string, outputKeys: readonly string[]): string[] {
  const lines: string[] = [];
  for (const id of ids) {
    const exposure = m.exposures?.[id] ?? m.semantic_models?.[id] ?? m.metrics?.[id] ?? m.saved_queries?.[id];
    if (exposure) {
      // dbt's ListTask: `exposure:<pkg>.<name>` (`metric:`, `semantic_model:`, `saved_query:`) as selector; the manifest entry for json.
      if (output === 'name') lines.push(exposure.name);
      else if (output === 'path') lines.push(exposure.original_file_path);
      else if (output === 'json') {
        const dict = exposure as unknown as Record<string, unknown>;
        const keys = outputKeys.length ? outputKeys : LS_JSON_KEYS;
        lines.push(JSON.stringify(Object.fromEntries(keys.filter((k) => dict[k] !== undefined).map((k) => [k, dict[k]]))));
      } else lines.push(`${exposure.resource_type}:${exposure.package_name}.${exposure.name}`);
      continue;
    }
    const node = m.nodes[id];
    const source = node ? undefined : m.sources[id];
    const unitTest = node || source ? undefined : m.unit_tests?.[id];
    if (unitTest) {
      // As dbt's ListTask: `unit_test:<package>.<name>` for the selector output.
      if (output === 'name') lines.push(unitTest.name);
      else if (output === 'path') lines.push(unitTest.original_file_path);
      else if (output === 'json') lines.push(JSON.stringify(pickLsKeys(unitTestForJson(unitTest), outputKeys)));
      else lines.push(`unit_test:${unitTest.package_name}.${unitTest.name}`);
      continue;
    }
    if (!node && !source) continue;
    const n = (node ?? source)!;
    if (output === 'name') lines.push(n.name);
    else if (output === 'path') lines.push(n.original_file_path);
    else if (output === 'json') {
      const dict = node ? nodeForJson(node) : sourceForJson(source!);
      if (node && node.resource_type === 'model') dict.direct_parents = [...((dict.depends_on as { nodes?: string[] })?.nodes ?? [])];
      lines.push(JSON.stringify(pickLsKeys(dict, outputKeys)));
    } else lines.push(source ? `source:${[source.package_name, source.source_name, source.name].join('.')}` : n.fqn.join('.'));
  }
  return lines;
}

/** `tsdbt debug --plan [command]`: the ExecutionPlan as JSON (pure: no database). */
async function planCommand(flags: CommonFlags & Record<string, unknown>, out: Console): Promise<number> {
  const command = (typeof flags.plan === 'string' ? flags.plan : 'build') as RunCommand;
  const s = openSession(flags, out);
  const p = parseSession(s, out);
  const chosen = select(s, p, COMMAND_RESOURCE_TYPES[command], out);
  out.out(JSON.stringify(planRun(withUnitTestNodes(p.parsed.manifest, chosen), { command, selected: chosen }, topologicalOrder(p.graph)), null, 2));
  return 0;
}

async function debugCommand(flags: CommonFlags, out: Console): Promise<number> {
  out.info(`tsdbt ${VERSION} on Node ${process.version}`);
  const s = openSession(flags, out);
  out.info(`project: ${s.project.name} (${join(s.project.root, 'dbt_project.yml')})`);
  const masked = maskTarget(s.target) as unknown as Record<string, unknown>;
  out.info(`target ${s.target.name} from ${s.target.source}:`);
  for (const [k, v] of Object.entries(masked)) {
    if (v === undefined || k === 'extra' || k === 'source') continue;
    out.info(`  ${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
  }
  const adapter = await createAdapter(s.target);
  try {
    const r = await adapter.query<{ version: string }>('select version() as version');
    out.info(`Connection test: OK (${String(r.rows[0].version).split(' on ')[0]})`);
    out.info('All checks passed!');
    return 0;
  } finally {
    await adapter.close();
  }
}
