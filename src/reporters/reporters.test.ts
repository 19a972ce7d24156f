import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { formatFailingRows } from './failing-rows.ts';
import { escapeData, escapeProperty, githubAnnotations } from './github-annotations.ts';
import { junitXml, writeJunit } from './junit.ts';
import type { ReportedResult } from './reported-result.ts';

const results: ReportedResult[] = [
  {
    unique_id: 'model.shop.orders',
    name: 'orders',
    resourceType: 'model',
    status: 'success',
    message: 'SELECT 12',
    failures: null,
    file: 'models/orders.sql',
    executionTime: 0.25,
  },
  {
    unique_id: 'test.shop.unique_orders_id.fed79b3a6e',
    name: 'unique_orders_id',
    resourceType: 'test',
    status: 'fail',
    message: 'Got 3 results, configured to fail if != 0',
    failures: 3,
    file: 'models/schema.yml',
    line: 12,
    executionTime: 0.0421,
  },
  {
    unique_id: 'test.shop.accepted_values_orders_status.1',
    name: 'accepted_values_orders_status',
    resourceType: 'test',
    status: 'warn',
    message: 'Got 1 result, configured to warn if != 0',
    failures: 1,
    file: 'models/schema.yml',
    line: 20,
    executionTime: 0.01,
  },
  {
    unique_id: 'model.shop.bad',
    name: 'bad',
    resourceType: 'model',
    status: 'error',
    // everything an escaper must get right, including characters XML forbids
    message: 'relation "x" <does not> exist & \'so\' 100%\nline 2, col: 3\u0001\ud800',
    failures: null,
    file: 'models/bad, odd:name.sql',
    line: 3,
    executionTime: 0.5,
  },
  {
    unique_id: 'model.shop.after_bad',
    name: 'after_bad',
    resourceType: 'model',
    status: 'skipped',
    message: 'Skipped because of an error upstream in model.shop.bad',
    failures: null,
    file: 'models/after_bad.sql',
    executionTime: 0,
  },
];

describe('junitXml', () => {
  const xml = junitXml(results, { timestamp: new Date('2024-05-01T10:00:00.123Z') });
  const parser = new XMLParser({ ignoreAttributes: false, htmlEntities: true, attributeNamePrefix: '', isArray: (n) => n === 'testcase' || n === 'property' });

  it('is well-formed XML', () => {
    assert.equal(XMLValidator.validate(xml), true);
    assert.doesNotMatch(xml, /[\u0001\ud800]/);
  });

  it('has one suite with the right counts and one testcase per node', () => {
    const doc = parser.parse(xml);
    const suite = doc.testsuites.testsuite;
    assert.equal(suite.name, 'tsdbt');
    assert.deepEqual(
      [suite.tests, suite.failures, suite.errors, suite.skipped, suite.time, suite.timestamp],
      ['5', '1', '1', '1', '0.802', '2024-05-01T10:00:00Z'],
    );
    const cases = suite.testcase;
    assert.equal(cases.length, 5);
    assert.deepEqual(
      cases.map((c: Record<string, string>) => [c.classname, c.name, c.time]),
      [
        ['model.models/orders.sql', 'orders', '0.250'],
        ['test.models/schema.yml', 'unique_orders_id', '0.042'],
        ['test.models/schema.yml', 'accepted_values_orders_status', '0.010'],
        ['model.models/bad, odd:name.sql', 'bad', '0.500'],
        ['model.models/after_bad.sql', 'after_bad', '0.000'],
      ],
    );
  });

  it('reports failures with message and row count, errors, skips and warnings', () => {
    const [ok, fail, warn, err, skip] = parser.parse(xml).testsuites.testsuite.testcase;
    assert.equal(ok.failure, undefined);
    assert.equal(fail.failure.message, 'Got 3 results, configured to fail if != 0');
    assert.match(fail.failure['#text'], /failing rows: 3/);
    assert.match(fail.failure['#text'], /models\/schema.yml:12/);
    assert.equal(fail.line, '12');
    assert.equal(err.error.message, 'relation "x" <does not> exist & \'so\' 100%\nline 2, col: 3');
    assert.equal(err.error.type, 'error');
    assert.equal(skip.skipped.message, 'Skipped because of an error upstream in model.shop.bad');
    assert.match(warn['system-out'], /^WARN Got 1 result, configured to warn if != 0/);
    assert.equal(warn.failure, undefined);
    const props = Object.fromEntries(fail.properties.property.map((p: Record<string, string>) => [p.name, p.value]));
    assert.deepEqual(props, { unique_id: 'test.shop.unique_orders_id.fed79b3a6e', status: 'fail', failures: '3' });
  });

  it('writeJunit writes the same document, creating folders', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsdbt-junit-'));
    try {
      const path = join(dir, 'target', 'reports', 'junit.xml');
      await writeJunit(path, results, { timestamp: new Date('2024-05-01T10:00:00Z') });
      const text = await readFile(path, 'utf8');
      assert.equal(XMLValidator.validate(text), true);
      assert.equal(text, junitXml(results, { timestamp: new Date('2024-05-01T10:00:00Z') }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an empty run is still a valid suite', () => {
    const empty = junitXml([]);
    assert.equal(XMLValidator.validate(empty), true);
    assert.equal(parser.parse(empty).testsuites.testsuite.tests, '0');
  });
});

describe('githubAnnotations', () => {
  it('annotates failures, errors and warnings with escaped properties and message', () => {
    assert.deepEqual(githubAnnotations(results), [
      '::error file=models/schema.yml,line=12,title=test unique_orders_id failed::Got 3 results, configured to fail if != 0',
      '::warning file=models/schema.yml,line=20,title=test accepted_values_orders_status warned::Got 1 result, configured to warn if != 0',
      "::error file=models/bad%2C odd%3Aname.sql,line=3,title=model bad errored::relation \"x\" <does not> exist & 'so' 100%25%0Aline 2, col: 3\u0001\ud800",
    ]);
  });

  it('escapes as the GitHub toolkit does', () => {
    assert.equal(escapeData('a%b\r\nc:d,e'), 'a%25b%0D%0Ac:d,e');
    assert.equal(escapeProperty('a%b\r\nc:d,e'), 'a%25b%0D%0Ac%3Ad%2Ce');
  });

  it('omits line without a file, and says nothing for passes', () => {
    const r: ReportedResult = { ...results[1], file: '', line: 4 };
    assert.deepEqual(githubAnnotations([r, results[0], results[4]]), [
      '::error title=test unique_orders_id failed::Got 3 results, configured to fail if != 0',
    ]);
  });
});

describe('formatFailingRows', () => {
  it('aligns columns, right-aligns numbers and shows nulls', () => {
    const text = formatFailingRows([
      { unique_field: 2, n_records: 12, note: null },
      { unique_field: 1234, n_records: 2, note: 'two\nlines' },
    ]);
    assert.equal(
      text,
      [
        'unique_field | n_records | note',
        '------------ | --------- | ----------',
        '           2 |        12 | null',
        '        1234 |         2 | two\\nlines',
      ].join('\n'),
    );
  });

  it('limits rows, says how many were left out, cuts long cells', () => {
    const rows = Array.from({ length: 8 }, (_, i) => ({ id: i, s: 'x'.repeat(50) }));
    const lines = formatFailingRows(rows, 3).split('\n');
    assert.equal(lines.length, 2 + 3 + 1);
    assert.equal(lines.at(-1), '… 5 more rows');
    assert.equal(lines[2], ' 0 | ' + 'x'.repeat(39) + '…');
    assert.equal(formatFailingRows([]), '(no rows)');
    assert.equal(formatFailingRows(rows.slice(0, 2), 1).split('\n').at(-1), '… 1 more row');
  });

  it('right-aligns numeric strings (pg bigint/numeric) column by column', () => {
    assert.equal(formatFailingRows([{ n: '3', s: '12' }, { n: '10', s: 'x' }]), ['n  | s', '-- | --', ' 3 | 12', '10 | x'].join('\n'));
  });

  it('prints dates as the database does (wall clock, no UTC shift), objects and bigints', () => {
    // pg builds date/timestamp values from their local fields; so does this test.
    const text = formatFailingRows([{ d: new Date(2024, 0, 2, 3, 4, 5), j: { a: [1] }, b: 10n, day: new Date(2018, 0, 1) }]);
    assert.equal(text.split('\n')[2], '2024-01-02 03:04:05 | {"a":[1]} | 10 | 2018-01-01');
  });
});
