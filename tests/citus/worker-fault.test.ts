/**
 * A worker of the Citus cluster stops in the middle of a build of the example project: the run fails clearly
 * (exit 1, the failing models name the lost worker), nothing is half-swapped on the coordinator (every table
 * still holds the previous build's rows, none is left under a helper name in its place), and a re-run after the
 * worker is back builds everything.
 * Runs on a cluster of its own (base port 5611, ../shared/citus/citus-cluster.sh), so stopping a worker never
 * disturbs the other Citus tests; stopped at the end. Skipped where the shared cluster is not available, unless
 * TSDBT_REQUIRE_CITUS=1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CitusProject, citusScript, citusSkipReason, sql, tablesOf, type Server } from './cluster.ts';

const skip = await citusSkipReason();
const BASE = 5611;
const DIR = `/tmp/citus-cluster-${BASE}`;
const CO: Server = { host: '127.0.0.1', port: BASE, user: 'postgres', dbname: 'postgres' };

/** Stops (immediately, as a crash) or starts one worker of the test's own cluster. */
function worker(action: 'stop' | 'start', port: number): void {
  const pgctl = '/usr/lib/postgresql/15/bin/pg_ctl';
  const cmd =
    action === 'stop'
      ? `${pgctl} -D ${DIR}/n${port} -m immediate -w stop`
      : `${pgctl} -D ${DIR}/n${port} -o '-p ${port} -k ${DIR} -c listen_addresses=127.0.0.1' -l ${DIR}/n${port}.log -w start`;
  const asPg = process.getuid?.() === 0 ? ['su', ['postgres', '-c', cmd]] : ['bash', ['-c', cmd]];
  const r = spawnSync(asPg[0] as string, asPg[1] as string[], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pg_ctl ${action} ${port} failed: ${r.stdout}${r.stderr}`);
}

/** Each table's rows as sorted text, for "unchanged" checks. */
async function snapshot(server: Server, schema: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of await tablesOf(server, schema)) {
    const r = await sql<{ h: string }>(server, `select md5(coalesce(string_agg(x, '|' order by x), '')) as h from (select t::text as x from ${t} t) s`);
    out[t] = r[0]!.h;
  }
  return out;
}

describe('a Citus worker stopped mid-build', { skip }, () => {
  let p: CitusProject;
  before(() => {
    citusScript('citus-cluster.sh', ['start', String(BASE)]);
    p = CitusProject.create({ fromRepo: true, profile: 'growth_analytics', coordinator: CO, threads: 1 });
  });
  after(async () => {
    try {
      worker('start', BASE + 2);
    } catch {
      /* already running */
    }
    await p?.cleanup([CO]);
    citusScript('citus-cluster.sh', ['stop', String(BASE)]);
  });

  it('fails clearly, leaves the previous tables intact, and a re-run after the worker is back succeeds', async () => {
    const first = await p.cli('build', ['--target', 'citus']);
    assert.equal(first.code, 0, first.output);
    const before = await snapshot(CO, p.schema);
    assert.ok(Object.keys(before).length >= 9);

    // New raw rows, so a complete second build would change the tables; the worker stops once staging is
    // built (seeds reloaded, dim_user / dim_date / the facts / the marts still to come, threads: 1).
    p.append('seeds/sessions.csv', '3000009001,2025-05-02 10:00:00,true,search\n');
    let stopped = false;
    const second = await p.cli('build', ['--target', 'citus'], {
      onStdout: (all) => {
        if (!stopped && /OK created (sql )?view model \S+\.stg_sessions/.test(all)) {
          stopped = true;
          worker('stop', BASE + 2);
        }
      },
    });
    assert.ok(stopped, `the worker was stopped during the build:\n${second.output}`);
    assert.equal(second.code, 1, second.output);
    assert.match(second.output, /A Citus worker node \(127\.0\.0\.1:5613\) could not be reached in (model|test) \w+/, 'the failure names the lost worker');
    assert.match(second.output, /hint: start the worker at 127\.0\.0\.1:5613 again/);

    // Nothing half-swapped: every table of the first build is still there with its rows, except the seed that
    // was reloaded before the stop; no helper relation stands in place of a table.
    const after = await snapshot(CO, p.schema).catch(() => undefined);
    // With a worker down, distributed tables cannot be read; check what the coordinator's catalog says instead.
    const names = await sql<{ t: string }>(
      CO,
      `select n.nspname || '.' || c.relname as t from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where (n.nspname = $1 or starts_with(n.nspname, $1 || '_')) and c.relkind = 'r' order by 1`,
      [p.schema],
    );
    assert.deepEqual(
      names.map((r) => r.t).filter((t) => !/__tsdbt_/.test(t)),
      Object.keys(before),
      'the same tables under their names',
    );
    if (after) for (const t of Object.keys(before).filter((t) => /_dwh\.|_mart\./.test(t))) assert.equal(after[t], before[t], `${t} unchanged`);

    worker('start', BASE + 2);
    const dwhAfterRestart = await snapshot(CO, p.schema);
    for (const t of Object.keys(before).filter((t) => /_dwh\.|_mart\./.test(t))) assert.equal(dwhAfterRestart[t], before[t], `${t} still the first build's`);

    const third = await p.cli('build', ['--target', 'citus']);
    assert.equal(third.code, 0, third.output);
    const rows = await sql<{ n: number }>(CO, `select count(*)::int as n from "${p.schema}_dwh".fact_sessions where userid = 3000009001`);
    assert.equal(rows[0]!.n, 1, 'the re-run built the new rows');
    const left = await sql<{ n: number }>(CO, `select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace where starts_with(n.nspname, $1) and c.relname like '%\\_\\_tsdbt\\_%'`, [p.schema]);
    assert.equal(left[0]!.n, 0, 'leftovers of the failed run were dropped');
  });
});
