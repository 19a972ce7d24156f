/**
 * The example growth-analytics project (the repository root) on a Citus cluster, with its `dist` configs:
 * built twice in a row with new raw rows in between, every table equal (`except all` both ways) to the same
 * build on plain PostgreSQL, and `citus_tables` showing the facts distributed by user_key in one colocation
 * group and the dimensions as reference tables after both builds.
 * Needs the local cluster (../shared/citus/citus-cluster.sh start); skipped without it unless TSDBT_REQUIRE_CITUS=1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CitusProject, COORDINATOR, PLAIN_PG, citusSkipReason, citusTables, compareTable, tablesOf } from './cluster.ts';

const skip = await citusSkipReason();

/** New raw rows: three new users with sessions after the seeds' last day, two of whom register. */
const NEW_SESSIONS = [
  '3000009001,2025-05-02 10:00:00,true,search',
  '3000009001,2025-05-02 10:30:00,false,',
  '3000009002,2025-05-02 11:00:00,true,display',
  '3000009003,2025-05-03 09:15:00,false,email',
  '3000009003,2025-05-03 09:15:00,false,email',
].join('\n');
const NEW_CONVERSIONS = ['3000009001,2025-05-02 11:45:00', '3000009003,2025-05-03 09:40:00'].join('\n');

describe('the example project on a Citus cluster equals the PostgreSQL build', { skip }, () => {
  let p: CitusProject;
  before(() => {
    p = CitusProject.create({ fromRepo: true, profile: 'growth_analytics' });
  });
  after(async () => {
    await p?.cleanup([COORDINATOR, PLAIN_PG]);
  });

  async function buildBoth(round: string): Promise<void> {
    const onCitus = await p.cli('build', ['--target', 'citus']);
    assert.equal(onCitus.code, 0, `${round}, citus:\n${onCitus.output}`);
    assert.match(onCitus.stdout, /postgres with Citus \d+\.\d+/, 'the run header names Citus');
    assert.doesNotMatch(onCitus.output, /has no Citus extension/);
    assert.doesNotMatch(onCitus.output, /unknown config key/);
    const onPg = await p.cli('build', ['--target', 'pg']);
    assert.equal(onPg.code, 0, `${round}, pg:\n${onPg.output}`);
    // The same project on a server without Citus: one warning for the invocation, local tables.
    assert.equal(onPg.output.match(/has no Citus extension/g)?.length, 1, onPg.output);
  }

  async function assertSameRows(round: string): Promise<void> {
    const tables = await tablesOf(PLAIN_PG, p.schema);
    assert.deepEqual(await tablesOf(COORDINATOR, p.schema), tables, `${round}: the same tables on both servers`);
    assert.ok(tables.length >= 9, `seeds, dwh and mart tables: ${tables.join(', ')}`);
    for (const t of tables) {
      const d = await compareTable(COORDINATOR, PLAIN_PG, t);
      assert.deepEqual({ table: t, missing: d.missing, extra: d.extra }, { table: t, missing: 0, extra: 0 }, `${round}: ${t} (${d.rows} rows on PostgreSQL)`);
      assert.ok(d.rows > 0, `${round}: ${t} has rows`);
    }
  }

  async function assertDistribution(round: string): Promise<void> {
    const ct = await citusTables(COORDINATOR, p.schema);
    const dwh = `${p.schema}_dwh`;
    const raw = `${p.schema}_raw`;
    for (const f of ['fact_sessions', 'fact_registrations']) {
      assert.equal(ct[`${dwh}.${f}`]?.type, 'distributed', `${round}: ${f} is distributed (${JSON.stringify(ct)})`);
      assert.equal(ct[`${dwh}.${f}`]?.column, 'user_key', `${round}: ${f} by user_key`);
    }
    assert.equal(ct[`${dwh}.fact_sessions`]!.colocation, ct[`${dwh}.fact_registrations`]!.colocation, `${round}: the facts are colocated`);
    for (const d of ['dim_user', 'dim_channel', 'dim_date']) assert.equal(ct[`${dwh}.${d}`]?.type, 'reference', `${round}: ${d} is a reference table`);
    for (const s of ['sessions', 'conversions']) assert.equal(ct[`${raw}.${s}`]?.column, 'userid', `${round}: seed ${s} is distributed by userid`);
    // The marts have no dist: local tables on the coordinator.
    assert.equal(ct[`${p.schema}_mart.mart_channel_attribution`], undefined);
    // No helper relation is left behind.
    assert.deepEqual(Object.keys(ct).filter((t) => /__tsdbt_/.test(t)), []);
  }

  it('builds on both, equal rows, facts distributed and colocated, dimensions reference tables', async () => {
    await buildBoth('first build');
    await assertSameRows('first build');
    await assertDistribution('first build');
  });

  it('builds again after new raw rows (the incremental fact keeps its distribution), still equal', async () => {
    const before = await citusTables(COORDINATOR, p.schema);
    p.append('seeds/sessions.csv', `${NEW_SESSIONS}\n`);
    p.append('seeds/conversions.csv', `${NEW_CONVERSIONS}\n`);
    await buildBoth('second build');
    await assertSameRows('second build');
    await assertDistribution('second build');
    const fact = `${p.schema}_dwh.fact_registrations`;
    // fact_registrations is incremental: the second run inserted into the same distributed table (same colocation group).
    assert.equal((await citusTables(COORDINATOR, p.schema))[fact]!.colocation, before[fact]!.colocation);
    const d = await compareTable(COORDINATOR, PLAIN_PG, fact);
    assert.ok(d.rows >= 2, 'the new registrations are in');
  });
});
