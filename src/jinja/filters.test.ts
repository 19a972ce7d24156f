// Filters and globals with the results Jinja2/dbt give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JinjaEnv } from './index.ts';

const logs: [string, boolean][] = [];
const env = new JinjaEnv({ onLog: (m, info) => logs.push([m, info]) });
const r = (src: string, ctx: Record<string, unknown> = {}) => env.render(src, ctx, { file: 'models/t.sql' });

const cols = [
  { name: 'id', type: 'int', tests: ['unique'] },
  { name: 'Name', type: 'text' },
  { name: 'amount', type: 'numeric', tests: [] },
];

test('tojson (sort_keys, Python separators, HTML-safe) and the tojson/fromjson globals', () => {
  assert.equal(r("{{ {'b': 1, 'a': [1, 'x']} | tojson }}"), '{"a": [1, "x"], "b": 1}');
  assert.equal(r("{{ {'b': 1, 'a': 2} | tojson(sort_keys=false) }}"), '{"b": 1, "a": 2}');
  assert.equal(r("{{ \"it's <b>\" | tojson }}"), '"it\\u0027s \\u003cb\\u003e"');
  assert.equal(r("{{ tojson({'b': none, 'a': 'é'}) }}|{{ tojson({'b': 1, 'a': 2}, sort_keys=True) }}"), '{"b": null, "a": "\\u00e9"}|{"a": 2, "b": 1}');
  assert.equal(r("{% set d = fromjson('{\"k\": [1, 2]}') %}{{ d.k[1] }} {{ fromjson('not json', 'dflt') }}"), '2 dflt');
});

test('map(attribute=…), map(filter), list, unique, join, length, first/last', () => {
  const ctx = { cols };
  assert.equal(r("{{ cols | map(attribute='name') | list }}", ctx), "['id', 'Name', 'amount']");
  assert.equal(r("{{ cols | map(attribute='name') | map('upper') | join(', ') }}", ctx), 'ID, NAME, AMOUNT');
  assert.equal(r("{{ cols | map(attribute='missing', default='-') | join }}", ctx), '---');
  assert.equal(r("{{ ['b', 'a', 'B', 'b'] | unique | list }} {{ ['b', 'B'] | unique(case_sensitive=true) | list }}"), "['b', 'a'] ['b', 'B']");
  assert.equal(r("{{ cols | join(',', attribute='type') }} {{ cols | length }} {{ 'abc' | length }} {{ {'a': 1} | length }} {{ cols | count }}", ctx), 'int,text,numeric 3 3 1 3');
  assert.equal(r("{{ (cols | first).name }} {{ (cols | last).name }} {{ 'abc' | list }} {{ {'k': 1} | list }}", ctx), "id amount ['a', 'b', 'c'] ['k']");
});

test('default, lower/upper/trim/replace, string, int, float, abs, round', () => {
  assert.equal(r("{{ missing | default('d') }}|{{ none | default('d') }}|{{ '' | default('d', true) }}|{{ 'v' | d('d') }}"), 'd|None|d|v');
  assert.equal(r("{{ 'AbC' | lower }} {{ 'abc' | upper }} [{{ '  x ' | trim }}] {{ 'a-b-c' | replace('-', '_') }} {{ 'a-b-c' | replace('-', '', 1) }}"), 'abc ABC [x] a_b_c ab-c');
  assert.equal(r("{{ 12 | string ~ '!' }} {{ none | string }} {{ '42' | int + 1 }} {{ '3.9' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ '2.5' | float * 2 }}"), '12! None 43 3 0 7 5');
  // round() is Python's: halves go to the even neighbour (2.5 → 2, 3.5 → 4).
  assert.equal(r('{{ -3 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.1 | round(0, "ceil") }}'), '3 2.57 2 4 3');
});

test('selectattr/rejectattr with tests, select/reject, sort, batch, sum, groupby, dictsort', () => {
  const ctx = { cols };
  assert.equal(r("{{ cols | selectattr('tests') | map(attribute='name') | list }}", ctx), "['id']");
  assert.equal(r("{{ cols | selectattr('type', 'equalto', 'text') | map(attribute='name') | join }}", ctx), 'Name');
  assert.equal(r("{{ cols | rejectattr('tests', 'defined') | map(attribute='name') | join }}", ctx), 'Name');
  assert.equal(r("{{ cols | selectattr('tests', 'defined') | map(attribute='name') | join(' ') }}", ctx), 'id amount');
  assert.equal(r("{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('odd') | list }} {{ [0, 1, none] | select | list }}"), '[1, 3] [2, 4] [1]');
  assert.equal(r("{{ ['b', 'C', 'a'] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ cols | sort(attribute='name') | map(attribute='name') | join(',') }}", ctx), "['a', 'b', 'C'] [3, 2, 1] amount,id,Name");
  assert.equal(r("{{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3] | batch(2, 0) | list }}"), '[[1, 2], [3, 4], [5]] [[1, 2], [3, 0]]');
  assert.equal(r("{{ [1, 2, 3] | sum }} {{ cols | map(attribute='name') | map('length') | sum }}", ctx), '6 12');
  assert.equal(r("{% for g in cols | groupby('type') %}{{ g.grouper }}:{{ g.list | length }};{% endfor %}", ctx), 'int:1;numeric:1;text:1;');
  assert.equal(r("{{ {'b': 1, 'a': 2} | dictsort }}"), "[('a', 2), ('b', 1)]"); // Jinja: dictsort gives tuples
  assert.equal(r("{{ [3, 1] | min }} {{ [3, 1] | max }} {{ [1, 2] | reverse | list }} {{ 'abc' | reverse }}"), '1 3 [2, 1] cba');
});

test("dbt's as_bool / as_number / as_native / as_text filters", () => {
  assert.equal(r("{{ 'True' | as_bool }} {{ ('3' | as_number) + 1 }} {{ ('[1, 2]' | as_native)[1] }} {{ none | as_text }}|"), 'True 4 2 |');
});

test('range, dict, zip, namespace, set, local_md5, fromyaml/toyaml', () => {
  assert.equal(r('{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(3, 0, -1) | list }}'), '[0, 1, 2] [1, 3, 5] [3, 2, 1]');
  assert.equal(r("{{ dict(a=1, b='x') }} {{ dict([['k', 2]]) }} {{ zip([1, 2], ['a', 'b']) | list }}"), "{'a': 1, 'b': 'x'} {'k': 2} [(1, 'a'), (2, 'b')]");
  // dbt's set() is a Python set: it prints as {1, 2} (Jinja2 with dbt's context, see tests/jinja-conformance)
  assert.equal(r('{{ set([1, 2, 1]) }} {{ local_md5("abc") }}'), '{1, 2} 900150983cd24fb0d6963f7d28e17f72');
  assert.equal(r("{% set y = fromyaml('a: 1\\nb: [x, y]') %}{{ y.b[1] }}|{{ toyaml({'a': [1, 2]}) }}"), 'y|a:\n  - 1\n  - 2\n');
});

test('log(msg, info) and print go to onLog; exceptions.warn too', () => {
  logs.length = 0;
  assert.equal(r("a{{ log('debug msg') }}{{ log('shown', info=True) }}{% do print('p', 1) %}{{ exceptions.warn('careful') }}b"), 'ab');
  assert.deepEqual(logs, [
    ['debug msg', false],
    ['shown', true],
    ['p 1', true],
    ['careful', true],
  ]);
});

test('modules.datetime: now/utcnow, timedelta arithmetic, strftime, strptime, isoformat', () => {
  const out = r("{{ modules.datetime.datetime.now().year }}|{{ modules.datetime.datetime.utcnow().strftime('%Y') }}");
  const y = String(new Date().getUTCFullYear());
  assert.match(out, new RegExp(`^(${y}|${Number(y) - 1}|${Number(y) + 1})\\|`));
  const dt = "{% set d = modules.datetime.datetime(2024, 1, 31, 13, 5, 9) %}";
  assert.equal(r(dt + '{{ d }}|{{ d.strftime("%Y-%m-%d %H:%M:%S %a %b %j") }}|{{ d.isoformat() }}'), '2024-01-31 13:05:09|2024-01-31 13:05:09 Wed Jan 031|2024-01-31T13:05:09');
  assert.equal(r(dt + '{{ d + modules.datetime.timedelta(days=1) }}|{{ (d - modules.datetime.timedelta(hours=14)).strftime("%Y%m%d%H") }}|{{ d.date() }}'), '2024-02-01 13:05:09|2024013023|2024-01-31');
  assert.equal(r(dt + "{% set e = modules.datetime.datetime.strptime('2024-02-02', '%Y-%m-%d') %}{{ (e - d).days }} {{ e > d }} {{ e.weekday() }}"), '1 True 4');
  assert.equal(r("{{ modules.datetime.date(2024, 3, 1) - modules.datetime.timedelta(days=1) }} {{ modules.datetime.timedelta(days=1, hours=2) }}"), '2024-02-29 1 day, 2:00:00');
  assert.equal(r("{{ modules.datetime.datetime.fromisoformat('2024-05-06T07:08:09+00:00') }}"), '2024-05-06 07:08:09+00:00');
});

test('modules.re: match, search, sub, findall, split, compile', () => {
  const re = 'modules.re';
  assert.equal(r(`{{ ${re}.match('^stg_(\\\\w+)', 'stg_orders').group(1) }} {{ ${re}.match('orders', 'stg_orders') is none }} {{ ${re}.search('o(r)d', 'stg_orders').group(0) }}`), 'orders True ord');
  assert.equal(r(`{{ ${re}.sub('[^a-z]+', '_', 'Hello World!') }} {{ ${re}.sub('(\\\\w+)@(\\\\w+)', '\\\\2 at \\\\1', 'me@host') }}`), '_ello_orld_ host at me');
  assert.equal(r(`{{ ${re}.findall('\\\\d+', 'a1b22c333') }} {{ ${re}.split(',\\\\s*', 'a, b,c') }} {{ ${re}.compile('X', ${re}.IGNORECASE).search('axb') is not none }}`), "['1', '22', '333'] ['a', 'b', 'c'] True");
  assert.equal(r(`{{ ${re}.match('(?P<year>\\\\d{4})-', '2024-01').group('year') }}`), '2024');
});
