/**
 * Issue 13, "The console": golden output of the run log in dbt's shape (dbt-core 1.11
 * events/types.py LogStartLine / LogModelResult / LogTestResult / SkippingDetails /
 * FinishedRunningStats / EndOfRunSummary / RunResultFailure / SQLCompiledPath / StatsLine,
 * dbt-common's format_fancy_output_line), printed by the Console for one fixed run (a table,
 * a seed, a passing and a failing test, an errored model, a skipped child, a snapshot) on a
 * pipe (no TTY) and on terminals 60 and 200 columns wide. The clock is fixed, so the files
 * under tests/fixtures/console/ are compared byte for byte (colour codes stripped for the
 * TTY cases, which must have them). No database: the Console is fed what the runner reports.
 * Set TSDBT_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change.
 */
import { it, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConsole, fancyLine, foundStats } from '../../src/cli/console.ts';
import type { ManifestNode, Manifest } from '../../src/parse/manifest.ts';
import type { NodeResult } from '../../src/artifacts/index.ts';
import { FIXTURES } from './harness.ts';

const GOLDEN = join(FIXTURES, 'console');
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

function node(resource_type: string, name: string, extra: Partial<ManifestNode> & Record<string, unknown> = {}): ManifestNode {
  const schema = 'analytics';
  return {
    unique_id: `${resource_type}.shop.${name}`,
    resource_type,
    name,
    alias: name,
    schema,
    database: 'warehouse',
    package_name: 'shop',
    path: `${name}.sql`,
    original_file_path: resource_type === 'seed' ? `seeds/${name}.csv` : resource_type === 'test' ? 'models/schema.yml' : `models/${name}.sql`,
    relation_name: resource_type === 'test' ? null : `"warehouse"."${schema}"."${name}"`,
    config: { materialized: resource_type === 'model' ? 'table' : resource_type, enabled: true },
    meta: {},
    language: 'sql',
    ...extra,
  } as unknown as ManifestNode;
}

function result(n: ManifestNode, status: string, secs: number, extra: Partial<NodeResult> = {}): NodeResult {
  return {
    unique_id: n.unique_id,
    status,
    timing: [],
    thread_id: 'Thread-1',
    execution_time: secs,
    adapter_response: {},
    message: null,
    failures: null,
    compiled_code: 'select 1',
    relation_name: n.relation_name,
    ...extra,
  } as NodeResult;
}

const dimUser = node('model', 'dim_user');
const countries = node('seed', 'countries');
const uniqueId = node('test', 'unique_dim_user_user_id', { test_metadata: { name: 'unique', kwargs: {}, namespace: null }, path: 'unique_dim_user_user_id.sql' });
const notNull = node('test', 'not_null_orders_customer_with_a_rather_long_column_name', { test_metadata: { name: 'not_null', kwargs: {}, namespace: null }, path: 'not_null_orders_customer.sql' });
const broken = node('model', 'fct_orders_with_a_very_long_model_name_indeed', { config: { materialized: 'incremental', enabled: true } });
const child = node('model', 'mart_revenue', { config: { materialized: 'view', enabled: true } });
const snap = node('snapshot', 'orders_snapshot');

const manifest = {
  nodes: Object.fromEntries([dimUser, countries, uniqueId, notNull, broken, child, snap].map((n) => [n.unique_id, n])),
  sources: { 'source.shop.raw.orders': {} },
  macros: Object.fromEntries(Array.from({ length: 146 }, (_, i) => [`macro.dbt.m${i}`, {}])),
  exposures: {},
  unit_tests: {},
} as unknown as Manifest;

/** The run as the runner reports it, through a console writing to fake streams. */
function render(stream: { isTTY: boolean; columns?: number }): { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const out = { ...stream, write: (s: string) => ((stdout += s), true) } as unknown as NodeJS.WriteStream;
  const err = { isTTY: stream.isTTY, write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WriteStream;
  const c = createConsole({ stdout: out, stderr: err, now: () => new Date('2026-01-01T12:00:01Z'), heartbeatSeconds: 0 });
  c.runHeader!({
    tsdbtVersion: '0.1.0',
    dbtVersion: '1.11.0',
    adapter: { type: 'postgres', driver: 'pg 8.0.0' },
    manifest,
    targetName: 'dev',
    location: '127.0.0.1:5432/warehouse',
    schema: 'analytics',
    threads: 1,
    nodeCount: 7,
    targetPath: 'target',
  });
  const total = 7;
  const results: NodeResult[] = [];
  const runOne = (n: ManifestNode, r: NodeResult, detail?: Parameters<NonNullable<typeof c.nodeFinished>>[4]) => {
    if (r.status !== 'skipped') c.nodeStarted!(n, 0, total);
    c.nodeFinished(n, r, 0, total, detail);
    results.push(r);
  };
  runOne(countries, result(countries, 'success', 0.31, { adapter_response: { _message: 'INSERT 250' } }));
  runOne(dimUser, result(dimUser, 'success', 0.12, { adapter_response: { _message: 'SELECT 42' } }));
  runOne(uniqueId, result(uniqueId, 'pass', 0.04, { failures: 0 }));
  runOne(notNull, result(notNull, 'fail', 0.05, { failures: 3, message: 'Got 3 results, configured to fail if != 0' }), {
    failingRows: [{ customer_id: null, n: 3 }],
  });
  const error = 'Database Error in model fct_orders_with_a_very_long_model_name_indeed (models/fct_orders_with_a_very_long_model_name_indeed.sql)\n  relation "raw.nope" does not exist';
  runOne(broken, result(broken, 'error', 0.02, { message: error }), { error });
  runOne(child, result(child, 'skipped', 0, { message: 'SKIP because fct_orders_with_a_very_long_model_name_indeed failed' }), {
    skippedBecause: broken.unique_id,
  });
  runOne(snap, result(snap, 'success', 1.5, { adapter_response: { _message: 'INSERT 0 7' } }));
  c.summary(results, 3.25);
  return { stdout, stderr };
}

function golden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.TSDBT_UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs from the golden file (TSDBT_UPDATE_GOLDEN=1 rewrites it)`);
}

/** The visible width of each line after its `HH:MM:SS  ` stamp, and the column where its `[status]` starts. */
function bracketColumns(text: string): number[] {
  return text
    .split('\n')
    .filter((l) => /\.{3,} \[/.test(l))
    .map((l) => l.replace(ANSI, '').indexOf(' ['));
}

describe('the console in dbt run log shape', () => {
  it('no TTY (a pipe, CI): dbt\'s lines at 80 columns, no control codes', () => {
    const { stdout, stderr } = render({ isTTY: false });
    assert.ok(!/\x1b/.test(stdout + stderr), 'no escape codes without a terminal');
    golden('pipe.stdout.txt', stdout);
    golden('pipe.stderr.txt', stderr);
    // dbt's exact lines (format_fancy_output_line pads "{i} of {n} {msg} " with dots to 80).
    assert.match(stdout, /^12:00:01  1 of 7 START seed file analytics\.countries \.+ \[RUN\]$/m);
    assert.match(stdout, /^12:00:01  2 of 7 OK created sql table model analytics\.dim_user \.+ \[SELECT 42 in 0\.12s\]$/m);
    assert.match(stdout, /^12:00:01  Concurrency: 1 threads \(target='dev'\)$/m);
    assert.match(stdout, /^12:00:01  Found 3 models, 1 seed, 2 data tests, 1 snapshot, 1 source, 146 macros$/m);
    assert.match(stdout, /^12:00:01  Done\. PASS=4 WARN=0 ERROR=2 SKIP=1 NO-OP=0 TOTAL=7$/m);
    assert.match(stdout, /^12:00:01  Failure in test not_null_orders_customer_with_a_rather_long_column_name \(models\/schema\.yml\)$/m);
    assert.match(stdout, /^12:00:01    compiled code at target\/compiled\/shop\/models\/schema\.yml\/not_null_orders_customer\.sql$/m);
    // Every bracket of a line that fits starts at column 10 + 80.
    for (const col of bracketColumns(stdout).filter((c) => c <= 90)) assert.equal(col, 90);
  });

  for (const columns of [60, 200]) {
    it(`a ${columns}-column terminal: colours, brackets aligned, ${columns === 60 ? 'long names cut with … so no line wraps' : 'dbt\'s 80-column leaders'}`, () => {
      const { stdout, stderr } = render({ isTTY: true, columns });
      assert.ok(/\x1b\[3\dm/.test(stdout), 'coloured on a terminal');
      golden(`tty${columns}.stdout.txt`, stdout.replace(ANSI, ''));
      golden(`tty${columns}.stderr.txt`, stderr.replace(ANSI, ''));
      const cols = columns === 60 ? bracketColumns(stdout) : bracketColumns(stdout.replace(/^.*_indeed  \[.*$/gm, ''));
      assert.equal(cols.length, columns === 60 ? 13 : 11, 'the START and result lines');
      assert.equal(new Set(cols).size, 1, `every [status] starts in the same column: ${[...new Set(cols)].join(', ')}`);
      if (columns === 60) {
        for (const l of stdout.replace(ANSI, '').split('\n').filter((x) => x.includes(' ['))) assert.ok(l.length <= 60, `fits 60 columns: ${l}`);
        assert.match(stdout.replace(ANSI, ''), /^12:00:01  5 of 7 ERROR …\S*indeed \.{3,} \[ERROR in 0\.02s\]$/m);
      } else {
        // As dbt: the leaders fill 80 columns; a longer name runs past them (nothing cut on a wide terminal).
        assert.equal(cols[0], 90);
        assert.match(stdout.replace(ANSI, ''), /5 of 7 ERROR creating sql incremental model analytics\.fct_orders_with_a_very_long_model_name_indeed  \[ERROR/);
      }
    });
  }

  it('fancyLine is dbt-common\'s format_fancy_output_line at the default width', () => {
    // format_fancy_output_line(msg="START sql view model a.b", status="RUN", index=1, total=5)
    assert.equal(fancyLine('START sql view model a.b', 'RUN', { index: 1, total: 5 }).plain, `1 of 5 START sql view model a.b ${'.'.repeat(80 - 32)} [RUN]`);
    assert.equal(fancyLine('OK created sql view model a.b', 'CREATE VIEW', { index: 1, total: 5, executionTime: 0.123 }).plain.slice(80), ' [CREATE VIEW in 0.12s]');
  });

  it('foundStats follows print_compile_stats: manifest order, zero counts left out, "data tests"', () => {
    assert.equal(foundStats(manifest), '3 models, 1 seed, 2 data tests, 1 snapshot, 1 source, 146 macros');
  });
});
