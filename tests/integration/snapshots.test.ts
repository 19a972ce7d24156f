/**
 * Issue 11, snapshots end to end on PostgreSQL and PGlite: three batches of source
 * changes (insert; update + delete; re-insert) through every strategy and
 * hard_deletes mode, each snapshot table compared row by row — validity ranges
 * and meta columns included — with what dbt's documented algorithm gives
 * (https://docs.getdbt.com/docs/build/snapshots, dbt-adapters'
 * snapshot_staging_table / snapshot_merge_sql). Expected rows are written by hand:
 *
 * - timestamp strategy: dbt_valid_from = dbt_updated_at = the row's updated_at; a new
 *   version closes the old one at the new row's updated_at;
 * - check strategy: the snapshot time (now() of the snapshot's transaction, `@T1`,
 *   `@T2`, `@T3` below: one value per run and per snapshot) stamps new versions and
 *   closes old ones;
 * - hard_deletes: ignore leaves a deleted key's row current; invalidate closes it at
 *   the snapshot time; new_record closes it and inserts a deletion record
 *   (dbt_is_deleted 'True', valid from the snapshot time);
 * - dbt_scd_id = md5(<unique_key> || '|' || <updated_at as varchar>); a deletion
 *   record's = md5(<old dbt_scd_id> || '|' || <snapshot time>).
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describeEngines, Project, projectYml, type Files } from './harness.ts';

const D1 = '2024-01-01 10:00:00';
const D2 = '2024-01-02 10:00:00';
const D3 = '2024-01-03 10:00:00';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** An expected cell: a literal, null, a snapshot-time placeholder `@Tn`, or an md5 of parts joined by '|'. */
type Cell = string | null | { md5: Cell[] };
type Row = Record<string, Cell>;

/**
 * Compares `actual` (every column as text) with `expected`, row by row and in order.
 * `@Tn` placeholders bind to the value first seen (the snapshot time of run n) and must
 * then be equal wherever they appear; bound times must be later than the data and
 * increase with n.
 */
function assertRows(label: string, actual: Record<string, string | null>[], expected: Row[]): void {
  const bound = new Map<string, string>();
  const plain = (c: Cell, a: string | null, where: string) => {
    if (typeof c === 'string' && /^@T\d$/.test(c)) {
      assert.ok(a !== null, `${where}: expected ${c}, got null`);
      const b = bound.get(c);
      if (b === undefined) bound.set(c, a);
      else assert.equal(a, b, `${where}: ${c} is ${b} elsewhere in ${label}`);
    }
  };
  assert.equal(actual.length, expected.length, `${label}: ${actual.length} rows, expected ${expected.length}\n${JSON.stringify(actual, null, 1)}`);
  expected.forEach((row, i) => Object.entries(row).forEach(([k, c]) => plain(c, actual[i][k] ?? null, `${label} row ${i + 1} ${k}`)));
  const resolve = (c: Cell): string | null => {
    if (c === null) return null;
    if (typeof c === 'object') return md5(c.md5.map((p) => resolve(p) ?? '').join('|'));
    return /^@T\d$/.test(c) ? bound.get(c)! : c;
  };
  expected.forEach((row, i) => {
    const want = Object.fromEntries(Object.entries(row).map(([k, c]) => [k, resolve(c)]));
    const got = Object.fromEntries(Object.keys(row).map((k) => [k, actual[i][k] ?? null]));
    assert.deepEqual(got, want, `${label} row ${i + 1}`);
  });
  const times = [...bound.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
  for (const t of times) assert.ok(t > '2025', `${label}: snapshot time ${t} is not the time of the run`);
  for (let i = 1; i < times.length; i++) assert.ok(times[i - 1] < times[i], `${label}: snapshot times out of order: ${times.join(', ')}`);
}

const scd = (...parts: Cell[]): Cell => ({ md5: parts });

// Rows (id, name, updated_at) of the source in each batch.
const BATCH1 = `insert into people values (1, 'a', '${D1}'), (2, 'b', '${D1}'), (3, 'c', '${D1}')`;
const BATCH2 = [`update people set name = 'a2', updated_at = '${D2}' where id = 1`, `delete from people where id = 2`, `insert into people values (4, 'd', '${D2}')`];
const BATCH3 = `insert into people values (2, 'b2', '${D3}')`;

function snapshotBlock(name: string, config: string): string {
  return `{% snapshot ${name} %}\n{{ config(${config}) }}\nselect * from {{ source('raw', 'people') }}\n{% endsnapshot %}\n`;
}

const FILES: Files = {
  'dbt_project.yml': projectYml('snap', `snapshots:\n  snap:\n    +unique_key: id\n`),
  // Several snapshots in one file, as dbt allows.
  'snapshots/timestamp.sql': [
    snapshotBlock('ts_ignore', "strategy='timestamp', updated_at='updated_at'"),
    snapshotBlock('ts_invalidate', "strategy='timestamp', updated_at='updated_at', hard_deletes='invalidate'"),
    snapshotBlock('ts_new_record', "strategy='timestamp', updated_at='updated_at', hard_deletes='new_record'"),
    // unique_key as a list (staged as dbt_unique_key_1, _2) and as an expression.
    snapshotBlock('ts_list_key', "strategy='timestamp', updated_at='updated_at', unique_key=['id', 'id * 10'], hard_deletes='invalidate'"),
    snapshotBlock('ts_expr_key', `strategy='timestamp', updated_at='updated_at', unique_key="'p' || id::text", hard_deletes='new_record'`),
  ].join('\n'),
  'snapshots/check.sql': [
    snapshotBlock('ck_ignore', "strategy='check', check_cols=['name'], hard_deletes='ignore'"),
    // The older spelling of hard_deletes='invalidate'.
    snapshotBlock('ck_invalidate', "strategy='check', check_cols=['name'], invalidate_hard_deletes=True"),
    snapshotBlock('ck_new_record', "strategy='check', check_cols=['name'], hard_deletes='new_record'"),
    snapshotBlock('ck_all', "strategy='check', check_cols='all'"),
    // check with an updated_at column (it stamps versions instead of the snapshot time), new_record and dbt_valid_to_current.
    snapshotBlock('ck_upd_cur', `strategy='check', check_cols=['name'], updated_at='updated_at', hard_deletes='new_record', dbt_valid_to_current="'9999-12-31'::timestamp"`),
  ].join('\n'),
  // dbt ≥ 1.9: a snapshot defined in YAML, with dbt_valid_to_current and renamed meta columns.
  'snapshots/snapshots.yml': `version: 2
snapshots:
  - name: people_yaml
    relation: source('raw', 'people')
    config:
      strategy: timestamp
      updated_at: updated_at
      hard_deletes: invalidate
      dbt_valid_to_current: "'9999-12-31'::timestamp"
      snapshot_meta_column_names:
        dbt_valid_from: valid_from
        dbt_valid_to: valid_to
  - name: ts_ignore
    columns:
      - name: dbt_scd_id
        data_tests: [unique, not_null]
`,
  // A model built on a snapshot: the current version of each person.
  'models/current_people.sql': `select id, name from {{ ref('ts_ignore') }} where dbt_valid_to is null`,
};

const COLS = 'id::text as id, name, updated_at::text as updated_at, dbt_updated_at::text as dbt_updated_at, dbt_valid_from::text as dbt_valid_from, dbt_valid_to::text as dbt_valid_to, dbt_scd_id';

function r(id: number, name: string, updated: string, upd: Cell, from: Cell, to: Cell, scdId: Cell, deleted?: string): Row {
  const row: Row = { id: String(id), name, updated_at: updated, dbt_updated_at: upd, dbt_valid_from: from, dbt_valid_to: to, dbt_scd_id: scdId };
  if (deleted !== undefined) row.dbt_is_deleted = deleted;
  return row;
}

// ---- expected final tables (rows ordered by id, dbt_valid_from) ----
const TS_IGNORE: Row[] = [
  r(1, 'a', D1, D1, D1, D2, scd('1', D1)),
  r(1, 'a2', D2, D2, D2, null, scd('1', D2)),
  r(2, 'b', D1, D1, D1, D3, scd('2', D1)), // the delete was ignored: closed only when b2 arrived
  r(2, 'b2', D3, D3, D3, null, scd('2', D3)),
  r(3, 'c', D1, D1, D1, null, scd('3', D1)),
  r(4, 'd', D2, D2, D2, null, scd('4', D2)),
];
const TS_INVALIDATE: Row[] = [
  r(1, 'a', D1, D1, D1, D2, scd('1', D1)),
  r(1, 'a2', D2, D2, D2, null, scd('1', D2)),
  r(2, 'b', D1, D1, D1, '@T2', scd('2', D1)), // closed at the second run's snapshot time
  r(2, 'b2', D3, D3, D3, null, scd('2', D3)), // re-inserted: a new current row
  r(3, 'c', D1, D1, D1, null, scd('3', D1)),
  r(4, 'd', D2, D2, D2, null, scd('4', D2)),
];
const TS_NEW_RECORD: Row[] = [
  r(1, 'a', D1, D1, D1, D2, scd('1', D1), 'False'),
  r(1, 'a2', D2, D2, D2, null, scd('1', D2), 'False'),
  r(2, 'b', D1, D1, D1, '@T2', scd('2', D1), 'False'),
  r(2, 'b2', D3, D3, D3, null, scd('2', D3), 'False'),
  // The deletion record: the deleted row's values, valid from the second run until b2's updated_at
  // (dbt closes it at the new row's updated_at, even though that is earlier than the run).
  r(2, 'b', D1, '@T2', '@T2', D3, scd(scd('2', D1), '@T2'), 'True'),
  r(3, 'c', D1, D1, D1, null, scd('3', D1), 'False'),
  r(4, 'd', D2, D2, D2, null, scd('4', D2), 'False'),
];
const CK_IGNORE: Row[] = [
  r(1, 'a', D1, '@T1', '@T1', '@T2', scd('1', '@T1')),
  r(1, 'a2', D2, '@T2', '@T2', null, scd('1', '@T2')),
  r(2, 'b', D1, '@T1', '@T1', '@T3', scd('2', '@T1')),
  r(2, 'b2', D3, '@T3', '@T3', null, scd('2', '@T3')),
  r(3, 'c', D1, '@T1', '@T1', null, scd('3', '@T1')),
  r(4, 'd', D2, '@T2', '@T2', null, scd('4', '@T2')),
];
const CK_INVALIDATE: Row[] = [
  r(1, 'a', D1, '@T1', '@T1', '@T2', scd('1', '@T1')),
  r(1, 'a2', D2, '@T2', '@T2', null, scd('1', '@T2')),
  r(2, 'b', D1, '@T1', '@T1', '@T2', scd('2', '@T1')),
  r(2, 'b2', D3, '@T3', '@T3', null, scd('2', '@T3')),
  r(3, 'c', D1, '@T1', '@T1', null, scd('3', '@T1')),
  r(4, 'd', D2, '@T2', '@T2', null, scd('4', '@T2')),
];
const CK_NEW_RECORD: Row[] = [
  r(1, 'a', D1, '@T1', '@T1', '@T2', scd('1', '@T1'), 'False'),
  r(1, 'a2', D2, '@T2', '@T2', null, scd('1', '@T2'), 'False'),
  r(2, 'b', D1, '@T1', '@T1', '@T2', scd('2', '@T1'), 'False'),
  r(2, 'b', D1, '@T2', '@T2', '@T3', scd(scd('2', '@T1'), '@T2'), 'True'),
  r(2, 'b2', D3, '@T3', '@T3', null, scd('2', '@T3'), 'False'),
  r(3, 'c', D1, '@T1', '@T1', null, scd('3', '@T1'), 'False'),
  r(4, 'd', D2, '@T2', '@T2', null, scd('4', '@T2'), 'False'),
];
/** The same rows with dbt_scd_id hashed over another unique_key (`key(id)` → its parts). */
function rekey(rows: Row[], key: (id: string) => string[]): Row[] {
  const re = (c: Cell): Cell => {
    if (c === null || typeof c !== 'object') return c;
    const [first, ...rest] = c.md5;
    return typeof first === 'object' && first !== null ? { md5: [re(first), ...rest] } : { md5: [...key(first as string), ...rest] };
  };
  return rows.map((x) => ({ ...x, dbt_scd_id: re(x.dbt_scd_id) }));
}
const TS_LIST_KEY = rekey(TS_INVALIDATE, (id) => [id, String(Number(id) * 10)]);
const TS_EXPR_KEY = rekey(TS_NEW_RECORD, (id) => [`p${id}`]);
const FOREVER = '9999-12-31 00:00:00';
const forever = (rows: Row[]) => rows.map((x) => ({ ...x, dbt_valid_to: x.dbt_valid_to ?? FOREVER }));
const YAML_ROWS: Row[] = forever(TS_INVALIDATE);
// The check strategy with updated_at set versions rows exactly as the timestamp strategy does here (only name changes).
const CK_UPD_CUR: Row[] = forever(TS_NEW_RECORD);

await describeEngines('snapshots', (engine) => {
  let p: Project;
  const table = async (name: string, extra = '') => {
    const cols = name === 'people_yaml' ? COLS.replace('dbt_valid_from::text as dbt_valid_from', 'valid_from::text as dbt_valid_from').replace('dbt_valid_to::text as dbt_valid_to', 'valid_to::text as dbt_valid_to') : COLS;
    const order = name === 'people_yaml' ? 'valid_from' : 'dbt_valid_from';
    return p.rows<Record<string, string | null>>(`select ${cols}${extra} from ${name} order by id, ${order}`);
  };
  const expectAll = async (expected: Record<string, Row[]>) => {
    for (const [name, rows] of Object.entries(expected)) {
      const del = rows[0] && 'dbt_is_deleted' in rows[0] ? ', dbt_is_deleted' : '';
      assertRows(`${name} on ${engine.name}`, await table(name, del), rows);
    }
  };
  const upTo = (rows: Row[], keep: (row: Row) => boolean) => rows.filter(keep);

  before(async () => {
    p = await Project.create(engine, FILES);
    p.write({ 'models/sources.yml': `version: 2\nsources:\n  - name: raw\n    schema: ${p.schema}\n    tables:\n      - name: people\n` });
    await p.query(`create schema if not exists "${p.schema}"`, `create table "${p.schema}".people (id int, name text, updated_at timestamp)`, BATCH1);
  });
  after(async () => {
    await p?.cleanup();
  });

  it('ls --resource-type snapshot lists every snapshot (SQL blocks and YAML), fqn with the file name', async () => {
    const res = await p.cli('ls', ['--resource-type', 'snapshot']);
    assert.equal(res.code, 0, res.output);
    assert.deepEqual(res.stdout.trim().split('\n').sort(), [
      'snap.check.ck_all',
      'snap.check.ck_ignore',
      'snap.check.ck_invalidate',
      'snap.check.ck_new_record',
      'snap.check.ck_upd_cur',
      'snap.people_yaml',
      'snap.timestamp.ts_expr_key',
      'snap.timestamp.ts_ignore',
      'snap.timestamp.ts_invalidate',
      'snap.timestamp.ts_list_key',
      'snap.timestamp.ts_new_record',
    ]);
  });

  it('batch 1 (insert): build runs the snapshots before the model that refs one, and their tests', async () => {
    const res = await p.cli('build');
    assert.equal(res.code, 0, res.output);
    const rr = p.json('target/run_results.json');
    const byId = new Map<string, { status: string }>(rr.results.map((x: { unique_id: string; status: string }) => [x.unique_id, x]));
    assert.equal(byId.get('snapshot.snap.ts_ignore')?.status, 'success');
    assert.equal(byId.get('snapshot.snap.people_yaml')?.status, 'success');
    assert.equal(byId.get('model.snap.current_people')?.status, 'success');
    assert.equal([...byId.keys()].filter((k) => k.startsWith('test.snap.')).length, 2);
    const manifest = p.json('target/manifest.json');
    const node = manifest.nodes['snapshot.snap.ts_ignore'];
    assert.equal(node.resource_type, 'snapshot');
    assert.deepEqual(node.fqn, ['snap', 'timestamp', 'ts_ignore']);
    assert.equal(node.config.strategy, 'timestamp');
    assert.equal(node.config.unique_key, 'id'); // from dbt_project.yml's snapshots: tree
    assert.deepEqual(manifest.nodes['model.snap.current_people'].depends_on.nodes, ['snapshot.snap.ts_ignore']);
    assert.deepEqual(manifest.nodes['snapshot.snap.people_yaml'].sources, [['raw', 'people']]);
    assert.deepEqual(await p.rows('select id, name from current_people order by id'), [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
      { id: 3, name: 'c' },
    ]);
    const first = (rows: Row[]) => upTo(rows, (x) => ['1', '2', '3'].includes(x.id as string) && [D1, '@T1'].includes(x.dbt_valid_from as string) && x.dbt_is_deleted !== 'True');
    const open = (rows: Row[], key: 'dbt_valid_to' = 'dbt_valid_to') => first(rows).map((x) => ({ ...x, [key]: null }));
    await expectAll({
      ts_ignore: open(TS_IGNORE),
      ts_invalidate: open(TS_INVALIDATE),
      ts_new_record: open(TS_NEW_RECORD),
      ts_list_key: open(TS_LIST_KEY),
      ts_expr_key: open(TS_EXPR_KEY),
      ck_ignore: open(CK_IGNORE),
      ck_invalidate: open(CK_INVALIDATE),
      ck_new_record: open(CK_NEW_RECORD),
      ck_all: open(CK_IGNORE),
      people_yaml: forever(open(TS_INVALIDATE)),
      ck_upd_cur: forever(open(CK_UPD_CUR)),
    });
  });

  it('batch 2 (update + delete + insert): tsdbt snapshot closes old versions and handles the delete per hard_deletes', async () => {
    await p.query(...BATCH2);
    const res = await p.cli('snapshot');
    assert.equal(res.code, 0, res.output);
    assert.equal(p.json('target/run_results.json').results.length, 11);
    // After batch 2 = the final tables without what batch 3 adds, and the closings it makes still open.
    const batch3Closes = (x: Row) => (x.id === '2' && (x.dbt_valid_to === D3 || x.dbt_valid_to === '@T3') ? { ...x, dbt_valid_to: null } : x);
    const noBatch3 = (rows: Row[]) => rows.filter((x) => x.dbt_valid_from !== D3 && x.dbt_valid_from !== '@T3').map(batch3Closes);
    await expectAll({
      ts_ignore: noBatch3(TS_IGNORE),
      ts_invalidate: noBatch3(TS_INVALIDATE),
      ts_new_record: noBatch3(TS_NEW_RECORD),
      ts_list_key: noBatch3(TS_LIST_KEY),
      ts_expr_key: noBatch3(TS_EXPR_KEY),
      ck_ignore: noBatch3(CK_IGNORE),
      ck_invalidate: noBatch3(CK_INVALIDATE),
      ck_new_record: noBatch3(CK_NEW_RECORD),
      ck_all: noBatch3(CK_IGNORE),
      people_yaml: forever(noBatch3(TS_INVALIDATE)),
      ck_upd_cur: forever(noBatch3(TS_NEW_RECORD)),
    });
  });

  it('an unchanged source changes nothing', async () => {
    const before = await table('ck_new_record', ', dbt_is_deleted');
    const res = await p.cli('snapshot', ['--select', 'ck_new_record']);
    assert.equal(res.code, 0, res.output);
    assert.deepEqual(await table('ck_new_record', ', dbt_is_deleted'), before);
  });

  it('batch 3 (re-insert): every table holds exactly the rows dbt gives', async () => {
    await p.query(BATCH3);
    const res = await p.cli('snapshot');
    assert.equal(res.code, 0, res.output);
    await expectAll({
      ts_ignore: TS_IGNORE,
      ts_invalidate: TS_INVALIDATE,
      ts_new_record: TS_NEW_RECORD,
      ts_list_key: TS_LIST_KEY,
      ts_expr_key: TS_EXPR_KEY,
      ck_ignore: CK_IGNORE,
      ck_invalidate: CK_INVALIDATE,
      ck_new_record: CK_NEW_RECORD,
      ck_all: CK_IGNORE,
      people_yaml: YAML_ROWS,
      ck_upd_cur: CK_UPD_CUR,
    });
    const run = await p.cli('run', ['--select', 'current_people']);
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(await p.rows('select id, name from current_people order by id'), [
      { id: 1, name: 'a2' },
      { id: 2, name: 'b2' },
      { id: 3, name: 'c' },
      { id: 4, name: 'd' },
    ]);
  });

  it('a failing snapshot leaves its table exactly as it was; the next run applies the change once', async () => {
    // The post-hook runs inside the snapshot's transaction, after the update and insert.
    p.write({
      'snapshots/fragile.sql': `{% snapshot fragile %}\n{{ config(strategy='timestamp', updated_at='updated_at', hard_deletes='invalidate', post_hook="select 1 / {{ 0 if var('boom', false) else 1 }}") }}\nselect id, name, updated_at from {{ source('raw', 'people') }}\n{% endsnapshot %}\n`,
    });
    let res = await p.cli('snapshot', ['--select', 'fragile']);
    assert.equal(res.code, 0, res.output);
    const built = await table('fragile');
    assert.equal(built.length, 4);
    await p.query(`update people set name = 'c2', updated_at = '2024-01-04 10:00:00' where id = 3`, `delete from people where id = 4`);
    res = await p.cli('snapshot', ['--select', 'fragile', '--vars', '{boom: true}']);
    assert.equal(res.code, 1, res.output);
    assert.match(res.output, /division by zero/);
    assert.deepEqual(await table('fragile'), built);
    res = await p.cli('snapshot', ['--select', 'fragile']);
    assert.equal(res.code, 0, res.output);
    const after = await table('fragile');
    assert.equal(after.length, 5);
    assert.deepEqual(
      after.filter((x) => x.id === '3').map((x) => [x.name, x.dbt_valid_from, x.dbt_valid_to]),
      [
        ['c', D1, '2024-01-04 10:00:00'],
        ['c2', '2024-01-04 10:00:00', null],
      ],
    );
    assert.ok(after.find((x) => x.id === '4')!.dbt_valid_to! > '2025');
  });

  it('a new source column is added to the snapshot tables; check_cols all makes a new version of every current row', async () => {
    await p.query(`alter table people add column email text`, `update people set email = name || '@x.org'`);
    const res = await p.cli('snapshot', ['--select', 'ck_all', 'ts_ignore']);
    assert.equal(res.code, 0, res.output);
    const ck = await p.rows<{ id: number; name: string; email: string | null; current: boolean }>('select id, name, email, dbt_valid_to is null as current from ck_all order by id, dbt_valid_from');
    // Before: 6 rows, 4 current (id 4 was deleted since, which hard_deletes: ignore ignores). The email column is new to
    // the table, so dbt's check strategy counts every current row still in the source as changed.
    assert.equal(ck.length, 9);
    assert.deepEqual(
      ck.filter((x) => x.current).map((x) => [x.id, x.email]),
      [
        [1, 'a2@x.org'],
        [2, 'b2@x.org'],
        [3, 'c2@x.org'],
        [4, null],
      ],
    );
    assert.ok(ck.filter((x) => !x.current).every((x) => x.email === null));
    // The timestamp strategy gets the column but no new versions (updated_at did not move) — except id 3 which did.
    const ts = await p.rows<{ id: number; email: string | null }>('select id, email from ts_ignore where dbt_valid_to is null order by id');
    assert.deepEqual(ts, [
      { id: 1, email: null },
      { id: 2, email: null },
      { id: 3, email: 'c2@x.org' },
      { id: 4, email: null },
    ]);
  });
});

await describeEngines('snapshot errors', (engine) => {
  let p: Project;
  after(async () => {
    await p?.cleanup();
  });
  it('a snapshot without a strategy is a project error naming the file and line', async () => {
    p = await Project.create(engine, {
      'dbt_project.yml': projectYml('snaperr'),
      'snapshots/bad.sql': `-- header\n{% snapshot bad %}\n{{ config(unique_key='id') }}\nselect 1 as id\n{% endsnapshot %}\n`,
    });
    const res = await p.cli('snapshot');
    assert.equal(res.code, 2, res.output);
    assert.match(res.output, /snapshots\/bad\.sql:3/);
    assert.match(res.output, /must be configured with a 'strategy' and 'unique_key'/);
  });

  it("a table that is not a snapshot table, or a view, under the snapshot's name is an error; a timestamptz updated_at is dbt's warning", async () => {
    p.write({
      'snapshots/bad.sql': null,
      'snapshots/more.sql': [
        "{% snapshot plain %}\n{{ config(strategy='check', unique_key='id', check_cols='all') }}\nselect 1 as id\n{% endsnapshot %}",
        "{% snapshot seen %}\n{{ config(strategy='check', unique_key='id', check_cols='all') }}\nselect 1 as id\n{% endsnapshot %}",
        "{% snapshot tz %}\n{{ config(strategy='timestamp', unique_key='id', updated_at='updated_at') }}\nselect 1 as id, '2024-01-01 10:00:00+00'::timestamptz as updated_at\n{% endsnapshot %}",
      ].join('\n'),
    });
    await p.query(`create schema if not exists "${p.schema}"`, 'create table plain (id int)', 'insert into plain values (7)', 'create view seen as select 1 as id');
    const res = await p.cli('snapshot');
    assert.equal(res.code, 1, res.output);
    assert.match(res.output, /\[snapshot-target-not-snapshot-table\] Snapshot target "[^"]+"\."plain" is not a snapshot table \(missing "dbt_scd_id", "dbt_valid_from", "dbt_valid_to"\)/);
    assert.match(res.output, /\[snapshot-target-not-table\] "[^"]+"\."seen" is a view, but a snapshot must be a table/);
    assert.match(res.output, /doesn't match derived column 'updated_at' \(timestamp with time zone\)/);
    assert.deepEqual(await p.rows('select id from plain'), [{ id: 7 }]);
    assert.equal(await p.count('tz'), 1);
  });
});
