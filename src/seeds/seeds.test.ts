import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsdbtError } from '../errors.ts';
import { DatabaseError, type Connection } from '../adapters/adapter.ts';
import { testTargets, type TestDb } from '../adapters/testing.ts';
import { classifyValue, inferSeedColumns, loadSeedTable, type SeedColumn } from './index.ts';
import { SeedScanner } from './seed-scanner.ts';

// Created at load and removed at exit: root-level hooks may run before suites registered after a
// top-level await (the skip reasons below), which would delete the files under them.
const dir = mkdtempSync(join(tmpdir(), 'tsdbt-seeds-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const targets = await Promise.all(testTargets().map(async (tt) => ({ tt, skip: await tt.skipReason() })));

let fileNo = 0;
function csv(content: string | Buffer): string {
  const p = join(dir, `s${++fileNo}.csv`);
  writeFileSync(p, content);
  return p;
}

const types = (cols: SeedColumn[]): Record<string, string> => Object.fromEntries(cols.map((c) => [c.name, c.type]));

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp, line?: number): Promise<TsdbtError> {
  let caught: unknown;
  await p.catch((e) => (caught = e));
  assert.ok(caught instanceof TsdbtError, `expected TsdbtError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  if (line !== undefined) assert.equal(caught.line, line);
  return caught;
}

describe('loadSeedTable and errors that are not the file\'s', () => {
  it('a COPY cut by the server (57P01, with COPY\'s line context) is rethrown as is, not diagnosed as a bad value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsdbt-seed-cut-'));
    try {
      const file = join(dir, 'people.csv');
      writeFileSync(file, 'id,name\n1,a\n2,b\n');
      const cut = new DatabaseError('terminating connection due to administrator command', { sqlState: '57P01', where: 'COPY people__tsdbt_tmp, line 2' });
      const conn: Connection = {
        query: async () => ({ rows: [], rowCount: 0, command: 'CREATE' }) as never,
        copyFromFile: async () => {
          throw cut;
        },
        transaction: (fn) => fn(conn),
      };
      const columns: SeedColumn[] = [
        { name: 'id', type: 'integer', inferred: true },
        { name: 'name', type: 'text', inferred: true },
      ] as SeedColumn[];
      const quote = { quoteIdentifier: (s: string) => `"${s}"`, quoteRelation: (r: { schema: string; identifier: string }) => `"${r.schema}"."${r.identifier}"` };
      await assert.rejects(loadSeedTable(conn, quote as never, { relation: { schema: 's', identifier: 'people__tsdbt_tmp' }, file, displayPath: 'seeds/people.csv', columns }), (e: unknown) => e === cut);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('classifyValue', () => {
  it('classifies like dbt/agate, within Postgres types', () => {
    const cases: [string, string][] = [
      ['', 'null'],
      ['42', 'integer'],
      ['-2147483648', 'integer'],
      ['2147483648', 'bigint'],
      ['9223372036854775807', 'bigint'],
      ['9223372036854775808', 'numeric'],
      ['3.14', 'numeric'],
      ['1e5', 'numeric'],
      ['TRUE', 'boolean'],
      ['false', 'boolean'],
      ['yes', 'text'],
      ['2024-02-29', 'date'],
      ['2023-02-29', 'text'],
      ['2024-01-02T03:04:05', 'timestamp'],
      ['2024-01-02 03:04:05.123456', 'timestamp'],
      ['2024-01-02 03:04', 'timestamp'],
      ['2024-01-02T03:04:05Z', 'timestamptz'],
      ['2024-01-02 03:04:05+02:00', 'timestamptz'],
      ['2024-01-02 25:00:00', 'text'],
      ['  7 ', 'integer'],
      ['   ', 'text'],
      ['null', 'text'],
      ['1,000', 'text'],
    ];
    for (const [v, k] of cases) assert.equal(classifyValue(v), k, JSON.stringify(v));
  });
});

describe('SeedScanner over pieces of any size', () => {
  // The scanner reads in windows of ~64 KB cut at line breaks: records, quoted line breaks and a
  // record longer than a window must come out the same whatever the size of the pieces it is fed.
  function scanBytes(file: string, bytes: Buffer, pieceSize: number): SeedScanner {
    const s = new SeedScanner({ file, displayPath: 'seeds/w.csv', delimiter: ',', kinds: ['integer', 'date', 'text'] });
    for (let off = 0; off < bytes.length; off += pieceSize) s.chunk(bytes.subarray(off, off + pieceSize));
    s.end();
    return s;
  }
  const rows = ['n,d,note'];
  for (let i = 1; i <= 30_000; i++) rows.push(`${i},2024-02-${String((i % 29) + 1).padStart(2, '0')},${i % 50 === 0 ? `"two\nlines ${i}"` : `ünï ${i}`}`);
  const long = `"${'x,'.repeat(50_000)}\n${'y'.repeat(100_000)}"`; // one field of ~200 KB with a line break
  const lines = (xs: string[]): number => xs.join('\n').split('\n').length;

  it('counts every record, keeps the kinds (29 February 2024 is a date) and widens on a late value', () => {
    const body = [...rows, `30001,2024-03-01,${long}`, ...rows.slice(1, 200)];
    const bytes = Buffer.from(body.join('\n') + '\n');
    const file = csv(bytes);
    for (const size of [997, 65_536, 65_537, 256 * 1024, bytes.length]) {
      const s = scanBytes(file, bytes, size);
      assert.equal(s.records, 30_000 + 1 + 199, `piece ${size}`);
      assert.deepEqual(s.kinds, ['integer', 'date', 'text'], `piece ${size}`);
    }
    const wider = Buffer.from([...body, '7,2023-02-29,x'].join('\n'));
    const s = scanBytes(csv(wider), wider, 65_536);
    assert.deepEqual(s.kinds, ['integer', 'text', 'text']);
  });

  it('names the right line for a ragged row and a bad byte far past the first window', () => {
    const body = [...rows, `1,2024-01-01,${long}`, '5,2024-01-01'];
    const bytes = Buffer.from(body.join('\n') + '\n');
    const file = csv(bytes);
    const line = lines(body);
    for (const size of [4093, 300_000]) {
      assert.throws(() => scanBytes(file, bytes, size), (e: unknown) => e instanceof TsdbtError && e.code === 'seed-ragged-row' && e.line === line);
    }
    const bad = Buffer.concat([Buffer.from(rows.join('\n') + '\n'), Buffer.from([0x31, 0x2c, 0xe9, 0x0a])]);
    const badFile = csv(bad);
    assert.throws(() => scanBytes(badFile, bad, 65_536), (e: unknown) => e instanceof TsdbtError && e.code === 'seed-not-utf8' && e.line === lines(rows) + 1);
  });
});

describe('inferSeedColumns (file checks)', () => {
  it('infers each kind; empty fields do not decide; all-empty is text', async () => {
    const f = csv(
      'i,big,num,flag,d,ts,tstz,txt,nothing\n' +
        '1,3000000000,1.5,true,2024-01-01,2024-01-01 10:00:00,2024-01-01T10:00:00Z,a,\n' +
        ',1,2,FALSE,,2024-01-02T11:00:00.5,,b,\n' +
        '-3,,,,2024-01-03,2024-01-03,2024-01-03 10:00:00+01,,\n',
    );
    assert.deepEqual(types(await inferSeedColumns(f, { displayPath: 'seeds/k.csv' })), {
      i: 'integer',
      big: 'bigint',
      num: 'numeric',
      flag: 'boolean',
      d: 'date',
      ts: 'timestamp without time zone',
      tstz: 'timestamp with time zone',
      txt: 'text',
      nothing: 'text',
    });
  });

  it('keeps header case (quote_columns default) or folds it (quote_columns: false); column_types by exact name', async () => {
    const f = csv('UserID,Amount\n1,2\n');
    const quoted = await inferSeedColumns(f, { displayPath: 'x.csv', columnTypes: { Amount: 'varchar(10)' } });
    assert.deepEqual(quoted.map((c) => [c.name, c.type, c.inferred]), [['UserID', 'integer', true], ['Amount', 'varchar(10)', false]]);
    const folded = await inferSeedColumns(f, { displayPath: 'x.csv', quoteColumns: false, columnTypes: { amount: 'text' } });
    assert.deepEqual(folded.map((c) => [c.name, c.type]), [['userid', 'integer'], ['amount', 'integer']]);
  });

  it('reports a ragged row with its line', async () => {
    const f = csv('a,b,c,d\n1,2,3,4\n1,2,3,4\n"x\ny",2,3,4\n5,6,7,8\n1,2,3,4\n1,2,3\n');
    await rejectsWith(inferSeedColumns(f, { displayPath: 'seeds/r.csv' }), 'seed-ragged-row', /^seeds\/r\.csv: line 8 has 3 fields, the header has 4$/, 8);
    await rejectsWith(inferSeedColumns(csv('a,b\n1,2\n\n'), { displayPath: 'seeds/e.csv' }), 'seed-ragged-row', /line 3 is empty, the header has 2/, 3);
  });

  it('reports a file that is not UTF-8 with the line of the first bad byte', async () => {
    const f = csv(Buffer.concat([Buffer.from('name,city\nok,Paris\n'), Buffer.from([0x4d, 0xfc, 0x6e, 0x63, 0x68, 0x65, 0x6e]), Buffer.from(',x\n')]));
    const e = await rejectsWith(inferSeedColumns(f, { displayPath: 'seeds/latin1.csv' }), 'seed-not-utf8', /seeds\/latin1\.csv is not valid UTF-8: line 3/, 3);
    assert.match(e.hint ?? '', /UTF-8/);
  });

  it('rejects empty files, blank headers and duplicate columns', async () => {
    await rejectsWith(inferSeedColumns(csv(''), { displayPath: 's.csv' }), 'seed-empty', /no header line \(the file is empty\)/);
    await rejectsWith(inferSeedColumns(csv('\n1\n'), { displayPath: 's.csv' }), 'seed-empty', /first line is empty/);
    await rejectsWith(inferSeedColumns(csv('id,name,id\n1,a,2\n'), { displayPath: 's.csv' }), 'seed-duplicate-column', /two columns named "id" \(header fields 1 and 3\)/);
    await rejectsWith(inferSeedColumns(csv('Id,id\n1,2\n'), { displayPath: 's.csv', quoteColumns: false }), 'seed-duplicate-column', /"id"/);
    await rejectsWith(inferSeedColumns(csv('a\n'), { displayPath: 's.csv', delimiter: ';;' }), 'seed-bad-delimiter', /one ASCII character/);
  });

  it('reports malformed CSV with a line', async () => {
    await rejectsWith(inferSeedColumns(csv('a,b\n1,2\n3,"open\n'), { displayPath: 's.csv' }), 'seed-invalid-csv', /s\.csv is not valid CSV at line 3/);
  });
});

/** A connection that drops the copy observer (as a wrapper that does not know about it would). */
function ignoringObserver(c: Connection): Connection {
  return { query: (sql, params) => c.query(sql, params), copyFromFile: (sql, file) => c.copyFromFile(sql, file), transaction: (fn) => c.transaction(fn) };
}

for (const { tt, skip } of targets) {
  describe(`seeds on ${tt.name}`, { skip }, () => {
    let db: TestDb;
    let n = 0;
    before(async () => {
      db = await tt.make();
    });
    after(async () => {
      await db?.cleanup();
    });

    async function load(file: string, opts: { columnTypes?: Record<string, string>; delimiter?: string; sampleRows?: number; wrap?: boolean; quoteColumns?: boolean } = {}) {
      const displayPath = `seeds/${file.split('/').pop()}`;
      const columns = await inferSeedColumns(file, { displayPath, ...opts });
      const relation = { schema: db.schema, identifier: `seed_${++n}` };
      const result = await db.adapter.withConnection((c) =>
        loadSeedTable(opts.wrap ? ignoringObserver(c) : c, db.adapter, { relation, file, displayPath, columns, delimiter: opts.delimiter }),
      );
      const cols = await db.adapter.getColumns(relation);
      const rows = (await db.adapter.query(`select * from ${db.adapter.quoteRelation(relation)} order by 1`)).rows;
      return { result, cols: Object.fromEntries(cols.map((c) => [c.name, c.dataType])), rows, relation };
    }

    it('creates typed columns and loads every row, NULL for empty fields', async () => {
      const f = csv(
        'id,big,amount,active,day,at,at_tz,name,Note\n' +
          '1,3000000000,1.50,true,2024-01-01,2024-01-01 10:00:00,2024-01-01T10:00:00Z,"Smith, J",\n' +
          '2,,2,False,2024-02-29,2024-01-02T11:30:00.25,2024-01-02 10:00:00+02:00,"say ""hi""",""\n' +
          '3,-5,,,,,,,x\n',
      );
      const { result, cols, rows } = await load(f);
      assert.equal(result.rows, 3);
      assert.deepEqual(cols, {
        id: 'integer',
        big: 'bigint',
        amount: 'numeric',
        active: 'boolean',
        day: 'date',
        at: 'timestamp without time zone',
        at_tz: 'timestamp with time zone',
        name: 'text',
        Note: 'text',
      });
      assert.equal(rows.length, 3);
      assert.deepEqual(rows.map((r) => [r.id, r.big, r.amount, r.active, r.name, r.Note]), [
        [1, '3000000000', '1.50', true, 'Smith, J', null],
        [2, null, '2', false, 'say "hi"', null],
        [3, '-5', null, null, null, 'x'],
      ]);
      const at = rows[1].at as Date;
      assert.equal(at.getMinutes(), 30);
      assert.equal((rows[0].at_tz as Date).toISOString(), '2024-01-01T10:00:00.000Z');
    });

    it('applies column_types', async () => {
      const f = csv('zip,amount\n01234,10\n99999,11\n');
      const { cols, rows } = await load(f, { columnTypes: { zip: 'varchar(5)', amount: 'numeric(10,2)' } });
      assert.deepEqual(cols, { zip: 'character varying(5)', amount: 'numeric(10,2)' });
      assert.deepEqual(rows.map((r) => [r.zip, r.amount]), [['01234', '10.00'], ['99999', '11.00']]);
    });

    it('reads CRLF line ends and a UTF-8 BOM', async () => {
      const f = csv(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,city\r\n1,Zürich\r\n2,"multi\r\nline"\r\n3,Köln\r\n')]));
      const { cols, rows, result } = await load(f);
      assert.deepEqual(cols, { id: 'integer', city: 'text' });
      assert.equal(result.rows, 3);
      assert.deepEqual(rows.map((r) => r.city), ['Zürich', 'multi\r\nline', 'Köln']);
    });

    it('reads other delimiters', async () => {
      const { rows, cols } = await load(csv('a;b\n1;x,y\n'), { delimiter: ';' });
      assert.deepEqual(cols, { a: 'integer', b: 'text' });
      assert.deepEqual(rows, [{ a: 1, b: 'x,y' }]);
      const tab = await load(csv('a\tb\n1\t2\n'), { delimiter: '\t' });
      assert.deepEqual(tab.rows, [{ a: 1, b: 2 }]);
    });

    it('widens a type when rows after the sample need it', async () => {
      const body = ['n,flag,day,label'];
      for (let i = 1; i <= 200; i++) body.push(`${i},true,2024-01-${String((i % 28) + 1).padStart(2, '0')},`);
      body.push('3.5,yes,2024-01-01 10:00:00,late value');
      const f = csv(body.join('\n') + '\n');
      for (const wrap of [false, true]) {
        const { cols, rows, result } = await load(f, { sampleRows: 10, wrap });
        assert.deepEqual(cols, { n: 'numeric', flag: 'text', day: 'timestamp without time zone', label: 'text' }, `wrap=${wrap}`);
        assert.equal(result.rows, 201);
        assert.equal(rows.length, 201);
        assert.deepEqual(result.columns.map((c) => c.type), ['numeric', 'text', 'timestamp without time zone', 'text']);
      }
    });

    it('recovers when Postgres rejects a value the scan did not see (observer ignored)', async () => {
      const body = ['d'];
      for (let i = 1; i <= 50; i++) body.push('2023-01-15');
      body.push('2023-02-29');
      const { cols, rows } = await load(csv(body.join('\n') + '\n'), { sampleRows: 5, wrap: true });
      assert.deepEqual(cols, { d: 'text' });
      assert.equal(rows.length, 51);
    });

    it('reports a value Postgres rejects for a declared type: seed-bad-value with line and column', async () => {
      const f = csv('id,qty\n1,5\n2,"six\nand more"\n3,7\n4,eight\n');
      const e = await rejectsWith(load(f, { columnTypes: { qty: 'integer' } }), 'seed-bad-value', /line 3, column "qty": invalid input syntax for type integer/, 3);
      assert.match(e.hint ?? '', /column_types for "qty"/);
      const big = csv('id,small\n1,1\n2,70000\n');
      await rejectsWith(load(big, { columnTypes: { small: 'smallint' } }), 'seed-bad-value', /line 3, column "small": value "70000" is out of range for type smallint/, 3);
    });

    it('reports ragged rows and bad bytes found after the sample', async () => {
      const body = ['a,b'];
      for (let i = 1; i <= 100; i++) body.push(`${i},x`);
      body.push('101');
      await rejectsWith(load(csv(body.join('\n') + '\n'), { sampleRows: 10 }), 'seed-ragged-row', /line 102 has 1 field, the header has 2/, 102);
      await rejectsWith(load(csv(body.join('\n') + '\n'), { sampleRows: 10, wrap: true }), 'seed-ragged-row', /line 102 has 1 field, the header has 2/, 102);
      const bytes = Buffer.concat([Buffer.from(body.slice(0, 60).join('\n') + '\n'), Buffer.from([0x61, 0xe9, 0x2c, 0x62, 0x0a])]);
      await rejectsWith(load(csv(bytes), { sampleRows: 10 }), 'seed-not-utf8', /line 61/, 61);
      await rejectsWith(load(csv(bytes), { sampleRows: 10, wrap: true }), 'seed-not-utf8', /line 61/, 61);
    });

    it('non-ASCII text after the sample: widens a typed column, keeps the characters, names the right line', async () => {
      // The scanner reads ASCII-delimited files byte for byte (latin1) and decodes only records it must parse.
      const body = ['n,city'];
      for (let i = 1; i <= 100; i++) body.push(`${i},Zürich ${i}`);
      body.push('１２,Köln');
      const { cols, rows } = await load(csv(body.join('\n') + '\n'), { sampleRows: 10 });
      assert.deepEqual(cols, { n: 'text', city: 'text' });
      assert.equal(rows.length, 101);
      assert.deepEqual(rows.find((r) => r.city === 'Köln'), { n: '１２', city: 'Köln' });
      assert.equal(rows.find((r) => r.n === '100')?.city, 'Zürich 100');
      const ragged = [...body.slice(0, 101), 'ünïcode'];
      await rejectsWith(load(csv(ragged.join('\n') + '\n'), { sampleRows: 10 }), 'seed-ragged-row', /line 102 has 1 field, the header has 2/, 102);
    });

    it('keeps header case when quoting (the default) and folds it with quote_columns: false', async () => {
      const f = csv('UserID,Name\n1,a\n');
      assert.deepEqual((await load(f)).cols, { UserID: 'integer', Name: 'text' });
      assert.deepEqual((await load(f, { quoteColumns: false })).cols, { userid: 'integer', name: 'text' });
    });

    it('loads a header-only file as an empty table', async () => {
      const { cols, result } = await load(csv('a,b'));
      assert.deepEqual(cols, { a: 'text', b: 'text' });
      assert.equal(result.rows, 0);
    });
  });
}
