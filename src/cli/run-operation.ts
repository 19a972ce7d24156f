/**
 * `tsdbt run-operation MACRO --args '{...}'`: calls one macro of the project
 * or an installed package (`package.macro`) against the target, as dbt's
 * RunOperationTask:
 *  - `--args` is YAML (or JSON) mapping of keyword arguments;
 *  - the macro runs with dbt's run-time context (`execute` true, run_query,
 *    statement, adapter …), each statement committed as it runs;
 *  - `log(msg, info=True)` / `print()` output is shown; the return value is not;
 *  - an error in the macro prints "Encountered an error while running
 *    operation: …" and exits 1; a macro that does not exist is a usage error (exit 2);
 *  - target/run_results.json gets one result, unique_id the macro's
 *    (`macro.<package>.<name>`), status success / error.
 * Registered by src/cli/main.ts with one call to {@link registerRunOperationCommand}.
 */
import type { Command } from 'commander';
import type { Console } from './console.ts';
import type { ActionWrapper } from './docs-commands.ts';
import { common } from './flags.ts';
import { openSession, parseSession, sessionCompilerBase, writeResults, type CommonFlags, type Parsed, type Session } from './pipeline.ts';
import { TsdbtError } from '../errors.ts';
import { DatabaseError } from '../adapters/adapter.ts';
import { createAdapter } from '../adapters/index.ts';
import { Compiler } from '../compile/compile.ts';
import { operationNode } from '../parse/run-hooks.ts';
import { parseYaml, isPlainObject } from '../config/yaml-file.ts';
import { closestNames } from '../closest-names.ts';
import type { NodeResult } from '../artifacts/index.ts';

/** Adds `run-operation` to `program`. */
export function registerRunOperationCommand(program: Command, act: ActionWrapper, out: Console): Command {
  return common(program.command('run-operation').argument('<macro>', 'the macro to call: name, or package.name').description('call a macro against the target (e.g. grants, maintenance), as dbt run-operation'))
    .option('--args <yaml>', "keyword arguments for the macro, as a YAML or JSON mapping, e.g. '{table: orders, days: 7}'")
    .action(act((flags, cmd) => runOperation(String(cmd.args[0]), flags, out)));
}

/**
 * `--args` as dbt reads it (a YAML mapping; empty → no arguments).
 * @throws TsdbtError `bad-args` for YAML that does not parse or is not a mapping.
 */
export function parseOperationArgs(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.trim() === '') return {};
  let data: unknown;
  try {
    data = parseYaml(text, '--args').data;
  } catch (e) {
    throw new TsdbtError('bad-args', `--args is not valid YAML or JSON: ${e instanceof Error ? e.message : String(e)}`, {
      hint: `quote the whole argument and write a mapping, e.g. --args '{table: orders, days: 7}'`,
    });
  }
  if (data === null || data === undefined) return {};
  if (!isPlainObject(data)) {
    throw new TsdbtError('bad-args', `--args must be a mapping of argument names to values, but was ${Array.isArray(data) ? 'a list' : `a ${typeof data}`}`, {
      hint: `write --args '{name: value}' (a colon and a space between each name and its value)`,
    });
  }
  return data;
}

/**
 * The macro `spec` (`name` or `package.name`) names, as dbt's
 * find_macro_by_name: the root project's first, then the installed
 * packages', then dbt's own.
 * @throws TsdbtError `macro-not-found` (with the closest names).
 */
export function findOperationMacro(p: Parsed, rootProject: string, spec: string): { uniqueId: string; packageName: string; name: string; call: string } {
  const macros = p.parsed.manifest.macros;
  const dot = spec.indexOf('.');
  const pkg = dot >= 0 ? spec.slice(0, dot) : null;
  const name = dot >= 0 ? spec.slice(dot + 1) : spec;
  let found: { unique_id: string; package_name: string; name: string } | undefined;
  if (pkg) found = macros[`macro.${pkg}.${name}`];
  else {
    const all = Object.values(macros).filter((m) => m.name === name);
    found = all.find((m) => m.package_name === rootProject) ?? all.find((m) => m.package_name !== 'dbt') ?? all[0];
  }
  if (!found) {
    const near = closestNames(name, new Set(Object.values(macros).filter((m) => !pkg || m.package_name === pkg).map((m) => m.name)));
    throw new TsdbtError('macro-not-found', `could not find a macro named '${spec}'${pkg ? ` in package '${pkg}'` : ' in any package'}`, {
      hint: near.length ? `did you mean ${near.map((n) => `'${pkg ? `${pkg}.` : ''}${n}'`).join(', ')}?` : 'check the name; macros are read from macro-paths and installed packages (tsdbt deps)',
    });
  }
  return { uniqueId: found.unique_id, packageName: found.package_name, name: found.name, call: pkg || found.package_name !== rootProject ? `${found.package_name}.${found.name}` : found.name };
}

/** Runs the operation; resolves to the exit code (0 success, 1 the macro failed). */
export async function runOperation(spec: string, flags: CommonFlags & { args?: string }, out: Console): Promise<number> {
  const s: Session = openSession(flags, out);
  const kwargs = parseOperationArgs(flags.args);
  const p = parseSession(s, out);
  const macro = findOperationMacro(p, s.project.name, spec);
  let logs: { msg: string; info: boolean }[] = [];
  const compiler = new Compiler(
    {
      ...sessionCompilerBase(s, p),
      fullRefresh: false,
      relations: new Map(),
      selected: [],
      onLog: (msg, info) => logs.push({ msg, info }),
      flags: { WHICH: 'run-operation', FULL_REFRESH: false, DEBUG: !!flags.debug },
    },
    [],
  );
  const node = operationNode(macro.packageName, macro.name, '', { uniqueId: macro.uniqueId, schema: s.target.schema, database: p.parsed.database });
  const compileStart = new Date().toISOString();
  const t0 = performance.now();
  let error: string | null = null;
  const adapter = await createAdapter(s.target);
  const executeStart = new Date().toISOString();
  try {
    await adapter.withConnection((conn) => compiler.callMacroAtRunTime(node, macro.call, kwargs, conn, () => (logs = [])));
  } catch (e) {
    if (e instanceof TsdbtError) error = e.format();
    else if (e instanceof DatabaseError) error = `Database Error\n  ${e.message}${e.detail ? `\n  DETAIL: ${e.detail}` : ''}${e.hint ? `\n  HINT: ${e.hint}` : ''}`;
    else throw e;
  } finally {
    await adapter.close();
  }
  for (const l of logs) if (l.info || flags.debug) out.info(l.msg);
  if (error) out.error(`Encountered an error while running operation: ${error}`);
  const result: NodeResult = {
    unique_id: macro.uniqueId,
    status: error ? 'error' : 'success',
    timing: [
      { name: 'compile', started_at: compileStart, completed_at: executeStart },
      { name: 'execute', started_at: executeStart, completed_at: new Date().toISOString() },
    ],
    thread_id: 'main',
    execution_time: (performance.now() - t0) / 1000,
    adapter_response: {},
    message: error ? error : null,
    failures: error ? 1 : 0,
    compiled_code: null,
    relation_name: null,
    batch_results: null,
  };
  writeResults(s, [result], 'run-operation');
  return error ? 1 : 0;
}
