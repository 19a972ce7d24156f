/**
 * `tsdbt lineage`: column-level lineage from the compiled SQL (src/sql).
 *
 *   tsdbt lineage --column dim_user.channel_id            upstream and downstream columns as trees
 *   tsdbt lineage --column dim_user.channel_id --output json
 *   tsdbt lineage                                         every model's columns and their direct parents
 *
 * Compiles every model and snapshot without a database (a node whose
 * templates ask the database has no lineage: it is named in a note), parses
 * them (syntax errors: exit 2, as compile), writes target/lineage.json.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { TsdbtError, CompileErrors } from '../errors.ts';
import { common } from './flags.ts';
import type { Console } from './console.ts';
import { openSession, parseSession, sessionCompilerBase, sqlCheck, type CommonFlags, type Parsed, type Session } from './pipeline.ts';
import { Compiler, type UpFrontCompile } from '../compile/compile.ts';
import { columnTree, type ColumnTree, type ProjectLineage } from '../sql/index.ts';
import type { Manifest } from '../parse/manifest.ts';

type Act = (fn: (flags: CommonFlags & Record<string, unknown>) => Promise<number>) => (...args: unknown[]) => Promise<void>;

/** Adds `lineage` to `program`. */
export function registerLineageCommand(program: Command, act: Act, out: Console): void {
  common(program.command('lineage').description('column-level lineage from the compiled SQL: where each column comes from and where it goes (writes target/lineage.json)'))
    .option('--column <model.column>', 'one column: its upstream and downstream columns as trees (a source column: source_name.table.column)')
    .addOption(new Option('--direction <dir>', 'which trees to print').choices(['up', 'down', 'both']).default('both'))
    .addOption(new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text'))
    .action(act((flags) => lineageCommand(flags, out)));
}

/** Compiles (no database), validates and returns the project's column lineage. @throws TsdbtError / CompileErrors */
export async function sessionLineage(s: Session, p: Parsed, out: Console): Promise<ProjectLineage> {
  const m = p.parsed.manifest;
  const ids = Object.values(m.nodes)
    .filter((n) => n.resource_type === 'model' || n.resource_type === 'snapshot')
    .map((n) => n.unique_id)
    .sort();
  const sc = compileWithoutDatabase(s, p, ids, 'compile');
  if (sc.atRunTime.size) out.info(`No lineage for ${[...sc.atRunTime].map((id) => m.nodes[id]?.name ?? id).join(', ')}: their templates ask the database (tsdbt compile them with a connection)`);
  const lineage = await sqlCheck(s, p, sc.compiled.values(), out);
  if (!lineage) throw new TsdbtError('bad-flag', 'tsdbt lineage needs the SQL parser: drop --no-validate', { hint: 'run tsdbt lineage without --no-validate' });
  return lineage;
}

/**
 * `tsdbt parse`'s SQL check: compiles every model, test and snapshot without
 * a database and parses them (the same check as compile and run). Nodes that
 * do not compile without a database are left out; when compiling fails, the
 * check is skipped with a warning (tsdbt compile reports those errors).
 * @throws TsdbtError / CompileErrors for SQL syntax errors (exit 2).
 */
export async function validateAtParse(s: Session, p: Parsed, out: Console): Promise<void> {
  if (s.flags.validate === false) {
    out.info('SQL validation is off (--no-validate)');
    return;
  }
  const m = p.parsed.manifest;
  const ids = Object.values(m.nodes)
    .filter((n) => n.resource_type === 'model' || n.resource_type === 'snapshot' || n.resource_type === 'test')
    .map((n) => n.unique_id)
    .sort();
  const compiler = compilerWithoutDatabase(s, p, ids, 'parse');
  let compiled;
  try {
    compiled = compiler.compileUpFront().compiled;
  } catch (e) {
    if (!(e instanceof TsdbtError)) throw e;
    const n = e instanceof CompileErrors ? e.errors.length : 1;
    out.warn(`SQL not validated: ${n} node${n === 1 ? '' : 's'} failed to compile (tsdbt compile shows why)`);
    return;
  }
  await sqlCheck(s, p, compiled.values(), out, compiler);
}

/** The up-front compile of `ids` as if no relation existed, writing nothing (nodes that ask the database are set aside). */
function compileWithoutDatabase(s: Session, p: Parsed, ids: readonly string[], which: string): UpFrontCompile {
  return compilerWithoutDatabase(s, p, ids, which).compileUpFront();
}

/** The Compiler of {@link compileWithoutDatabase}: every relation taken as absent, `WHICH` set to `which`. */
function compilerWithoutDatabase(s: Session, p: Parsed, ids: readonly string[], which: string): Compiler {
  return new Compiler({ ...sessionCompilerBase(s, p), fullRefresh: false, relations: new Map(), selected: ids, flags: { WHICH: which, FULL_REFRESH: false } }, ids);
}

/** The name a node has in lineage output: a model's name, or `source_name.table` for a source. */
export function displayName(m: Manifest, id: string): string {
  const n = m.nodes[id];
  if (n) return n.name;
  const src = m.sources[id];
  return src ? `${src.source_name}.${src.name}` : id;
}

/** `dim_user.channel_id` (or `source_name.table.column`) → the node's unique_id and the column. */
function findColumn(m: Manifest, spec: string): { node: string; column: string } {
  const dot = spec.lastIndexOf('.');
  if (dot <= 0) throw new TsdbtError('bad-flag', `--column expects <model>.<column>, got '${spec}'`, { hint: 'e.g. tsdbt lineage --column dim_user.channel_id' });
  const name = spec.slice(0, dot);
  const column = spec.slice(dot + 1);
  const node =
    Object.values(m.nodes).find((n) => n.name === name && ['model', 'seed', 'snapshot'].includes(n.resource_type)) ??
    Object.values(m.sources).find((s) => `${s.source_name}.${s.name}` === name);
  if (!node) throw new TsdbtError('node-not-found', `--column ${spec}: there is no model, seed, snapshot or source named '${name}'`, { hint: 'name a model as in ref(), a source as source_name.table' });
  return { node: node.unique_id, column };
}

async function lineageCommand(flags: CommonFlags & Record<string, unknown>, out: Console): Promise<number> {
  const s = openSession(flags, out);
  const p = parseSession(s, out);
  const lineage = await sessionLineage(s, p, out);
  const m = p.parsed.manifest;
  const json = flags.output === 'json';
  if (typeof flags.column !== 'string') {
    if (json) {
      out.out(JSON.stringify(Object.fromEntries([...lineage].map(([id, l]) => [id, l])), null, 2));
      return 0;
    }
    for (const [id, l] of [...lineage].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out.out(`${displayName(m, id)}${l.complete ? '' : '  (incomplete: ' + l.notes.join('; ') + ')'}`);
      for (const [col, c] of Object.entries(l.columns)) {
        out.out(`  ${col} [${c.kind}] ← ${c.upstream.map((u) => `${displayName(m, u.node)}.${u.column}`).join(', ') || '(no column)'}`);
      }
    }
    return 0;
  }
  const start = findColumn(m, flags.column);
  const l = lineage.get(start.node);
  const known = l ? Object.hasOwn(l.columns, start.column) : m.nodes[start.node]?.resource_type === 'seed' || !!m.sources[start.node];
  if (!known) {
    const cols = l ? Object.keys(l.columns) : [];
    throw new TsdbtError('column-not-found', `${flags.column}: ${displayName(m, start.node)} has no column '${start.column}'${cols.length ? ` (it has ${cols.join(', ')})` : ''}`, {
      hint: 'name a column of the model’s output',
    });
  }
  const dir = String(flags.direction ?? 'both');
  const up = dir !== 'down' ? columnTree(lineage, start, 'up') : undefined;
  const down = dir !== 'up' ? columnTree(lineage, start, 'down') : undefined;
  if (json) {
    const named = (t: ColumnTree): { children: unknown[] } & Record<string, unknown> => ({ node: t.node, name: displayName(m, t.node), column: t.column, ...(t.kind ? { kind: t.kind } : {}), children: t.children.map(named) });
    out.out(JSON.stringify({ column: { node: start.node, name: displayName(m, start.node), column: start.column }, ...(up ? { upstream: named(up).children } : {}), ...(down ? { downstream: named(down).children } : {}) }, null, 2));
    return 0;
  }
  out.out(`${displayName(m, start.node)}.${start.column}${l ? `  [${l.columns[start.column].kind}]` : ''}`);
  const print = (label: string, t: ColumnTree | undefined) => {
    if (!t) return;
    out.out(`${label}:`);
    if (!t.children.length) out.out('  (none)');
    const walk = (nodes: readonly ColumnTree[], prefix: string) => {
      nodes.forEach((c, i) => {
        const last = i === nodes.length - 1;
        out.out(`${prefix}${last ? '└─ ' : '├─ '}${displayName(m, c.node)}.${c.column} (${c.kind})`);
        walk(c.children, prefix + (last ? '   ' : '│  '));
      });
    };
    walk(t.children, '  ');
  };
  print('upstream', up);
  print('downstream', down);
  return 0;
}
