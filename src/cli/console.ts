/**
 * All terminal output goes through a {@link Console} (SQLMesh's habit): the
 * runner and commands never call `console.log`. Lines are coloured with chalk
 * when stdout is a terminal. Text is printed as given: no secret reaches it (see src/secrets.ts), so nothing is rewritten.
 */
import { Chalk } from 'chalk';
import type { ManifestNode } from '../parse/manifest.ts';
import type { NodeResult } from '../artifacts/index.ts';
import type { NodeDetail, RunReporter } from '../runner/run.ts';
import { formatFailingRows } from '../reporters/index.ts';
import { CANCELLED_MESSAGE } from '../runner/faults.ts';

export interface Console extends RunReporter {
  info(text: string): void;
  /** Side remarks (e.g. which database is used) on stderr, so stdout stays clean for `ls`/`compile` output. */
  notice(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  /** Raw output (e.g. `ls`, `compile` SQL) — no decoration. */
  out(text: string): void;
  summary(results: readonly NodeResult[], elapsedSeconds: number): void;
}

const WIDTH = 80;

function dots(left: string, right: string): string {
  const n = Math.max(3, WIDTH - left.length - right.length - 2);
  return `${left} ${'.'.repeat(n)} ${right}`;
}

function describe(node: ManifestNode): string {
  const rel = node.relation_name ? `${node.schema}.${node.alias}` : node.name;
  switch (node.resource_type) {
    case 'model':
      return `${node.config.materialized} model ${rel}`;
    case 'seed':
      return `seed file ${rel}`;
    case 'test':
      return `test ${node.name}`;
    default:
      return `${node.resource_type} ${rel}`;
  }
}

/** Terminal console. `color` defaults to whether stdout is a TTY. */
export function createConsole(opts: { color?: boolean; quiet?: boolean; stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream } = {}): Console {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const c = new Chalk({ level: (opts.color ?? stdout.isTTY) ? 1 : 0 });
  const write = (s: string) => stdout.write(s + '\n');
  const progress = stdout.isTTY && !opts.quiet;
  let progressShown = false;
  const clearProgress = () => {
    if (progressShown) {
      stdout.write('\r\x1b[2K');
      progressShown = false;
    }
  };
  return {
    info: (t) => {
      clearProgress();
      if (!opts.quiet) write(t);
    },
    notice: (t) => {
      clearProgress();
      if (!opts.quiet) stderr.write(c.dim(t) + '\n');
    },
    warn: (t) => {
      clearProgress();
      stderr.write(c.yellow(t) + '\n');
    },
    error: (t) => {
      clearProgress();
      stderr.write(c.red(t) + '\n');
    },
    out: (t) => {
      clearProgress();
      write(t);
    },
    nodeWarning: (node, message) => {
      clearProgress();
      stderr.write(c.yellow(`Warning in ${node.resource_type} ${node.name} (${node.original_file_path}): ${message}`) + '\n');
    },
    nodeStarted: (node, index, total) => {
      if (!progress) return;
      clearProgress();
      stdout.write(c.dim(`  running ${index}/${total}: ${node.name} …`));
      progressShown = true;
    },
    nodeFinished: (node: ManifestNode, r: NodeResult, index: number, total: number, detail?: NodeDetail) => {
      clearProgress();
      const pos = `${index} of ${total}`;
      const secs = `${(r.execution_time ?? 0).toFixed(2)}s`;
      let line: string;
      switch (r.status) {
        case 'success':
          line = dots(`${pos} ${c.green('OK')} ${node.resource_type === 'seed' ? 'loaded' : node.resource_type === 'snapshot' ? 'snapshotted' : 'created'} ${describe(node)}`, `[${c.green(r.adapter_response?._message ?? 'OK')} in ${secs}]`);
          break;
        case 'pass':
          line = dots(`${pos} ${c.green('PASS')} ${node.name}`, `[${c.green('PASS')} in ${secs}]`);
          break;
        case 'warn':
          line = dots(`${pos} ${c.yellow('WARN')} ${r.failures} ${node.name}`, `[${c.yellow('WARN ' + r.failures)} in ${secs}]`);
          break;
        case 'fail':
          line = dots(`${pos} ${c.red('FAIL')} ${r.failures} ${node.name}`, `[${c.red('FAIL ' + r.failures)} in ${secs}]`);
          break;
        case 'skipped':
          line = dots(`${pos} ${c.yellow('SKIP')} ${describe(node)}`, `[${c.yellow('SKIP')}]`);
          break;
        default:
          line =
            r.message === CANCELLED_MESSAGE
              ? dots(`${pos} ${c.yellow('CANCEL')} ${describe(node)}`, `[${c.yellow('CANCELLED')} after ${secs}]`)
              : dots(`${pos} ${c.red('ERROR')} ${describe(node)}`, `[${c.red('ERROR')} in ${secs}]`);
      }
      write(line);
      if (r.status === 'error' && detail?.error && r.message !== CANCELLED_MESSAGE) {
        stderr.write(c.red(detail.error.replace(/^/gm, '    ')) + '\n');
      }
      if (r.status === 'fail' && node.resource_type === 'unit_test') {
        // As dbt: the rows that differ, `+++` returned but not expected, `---` expected but not returned.
        const line = (node as ManifestNode & { line?: number }).line;
        const where = line ? `${node.original_file_path}:${line}` : node.original_file_path;
        write(c.red([`    Failure in unit_test ${node.name} (${where})`, '', ...(r.message ?? '').split('\n').map((l) => (l ? `    ${l}` : ''))].join('\n')));
      }
      if ((r.status === 'fail' || r.status === 'warn') && node.resource_type === 'test') {
        const where = (node as ManifestNode & { line?: number }).line ? `${node.original_file_path}:${(node as ManifestNode & { line?: number }).line}` : node.original_file_path;
        const lines = [`    ${r.message}`, `    defined in ${where}`, `    compiled SQL: ${compiledPathHint(node)}`];
        if (detail?.failingRows?.length) lines.push(formatFailingRows(detail.failingRows, 5).replace(/^/gm, '    '));
        write((r.status === 'fail' ? c.red : c.yellow)(lines.join('\n')));
      }
    },
    summary: (results, elapsed) => {
      clearProgress();
      const count = (s: string[]) => results.filter((r) => s.includes(r.status)).length;
      const ok = count(['success', 'pass']);
      const warn = count(['warn']);
      const err = count(['error', 'fail', 'runtime error']);
      const skip = count(['skipped']);
      write('');
      write(`Finished running ${results.length} node${results.length === 1 ? '' : 's'} in ${elapsed.toFixed(2)}s.`);
      const summary = `Done. PASS=${ok} WARN=${warn} ERROR=${err} SKIP=${skip} TOTAL=${results.length}`;
      write(err ? c.red(summary) : warn ? c.yellow(summary) : c.green(summary));
      if (skip && err) write(c.yellow(`${skip} node${skip === 1 ? ' was' : 's were'} skipped because an upstream node failed.`));
    },
  };
}

function compiledPathHint(node: ManifestNode): string {
  const file = node.test_metadata ? `${node.original_file_path}/${node.path}` : node.original_file_path;
  return `target/compiled/${node.package_name}/${file}`;
}
