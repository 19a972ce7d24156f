// Jinja language features as dbt projects use them: literals, tests, Python
// semantics of operators and methods, statements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JinjaEnv } from './index.ts';

const env = new JinjaEnv();
const r = (src: string, ctx: Record<string, unknown> = {}) => env.render(src, ctx, { file: 'models/t.sql' });

test('None/True/False literals and how values print (as Python str())', () => {
  assert.equal(r('{{ None }}|{{ none }}|{{ True }}|{{ False }}|{{ true }}'), 'None|None|True|False|True');
  assert.equal(r('{{ [1, "a", none] }}|{{ {"k": true} }}|{{ undefined_thing }}'), "[1, 'a', None]|{'k': True}|");
  assert.equal(r("{{ \"it's\" }} {{ [\"it's\"] }}"), `it's ["it's"]`);
});

test('is none / is not none / is defined / is string / is number / is mapping / is iterable', () => {
  const ctx = { n: null, s: 'x', i: 3, d: { a: 1 }, l: [1] };
  assert.equal(r('{{ n is none }} {{ s is none }} {{ n is not none }} {{ s is not none }}', ctx), 'True False False True');
  assert.equal(r('{{ missing is none }} {{ missing is defined }} {{ s is defined }} {{ missing is not defined }}', ctx), 'True False True True');
  assert.equal(r('{{ s is string }} {{ i is string }} {{ i is number }} {{ s is number }}', ctx), 'True False True False');
  assert.equal(r('{{ d is mapping }} {{ l is mapping }} {{ l is iterable }} {{ s is iterable }} {{ i is iterable }}', ctx), 'True False True True False');
  assert.equal(r("{% set m %}x{% endset %}{{ m is string }} {{ 'a' is string }}"), 'True True');
  assert.equal(r('{{ 4 is divisibleby(2) }} {{ 3 is odd }} {{ none is none }} {{ true is true }}'), 'True True True True');
});

test('Python truthiness: empty list and dict are false; and/or return operands', () => {
  assert.equal(r('{% if [] %}a{% else %}b{% endif %}{% if {} %}a{% else %}b{% endif %}{% if [0] %}c{% endif %}'), 'bbc');
  assert.equal(r("{{ [] or 'fallback' }} {{ 'x' and 'y' }} {{ none or 0 }} {{ not [] }}"), 'fallback y 0 True');
  assert.equal(r("{{ 'yes' if [] else 'no' }}|{{ 'yes' if [1] }}|{{ 'a' if none }}"), 'no|yes|');
});

test('== compares by value (lists, dicts, macro output); in works on lists, dicts and strings', () => {
  env.addMacroFile('{% macro word() %}abc{% endmacro %}', 'macros/word.sql', 'syntax_pkg');
  assert.equal(r("{{ [1, 2] == [1, 2] }} {{ {'a': 1} == {'a': 1} }} {{ word() == 'abc' }} {{ 1 != 2 }} {{ none == none }}"), 'True True True True True');
  assert.equal(r("{{ 'b' in ['a', 'b'] }} {{ 'z' not in ['a'] }} {{ 'k' in {'k': 1} }} {{ 'ell' in 'hello' }} {{ word() in ['abc'] }}"), 'True True True True True');
  assert.equal(r("{% if x in list %}yes{% endif %}", { x: 2, list: [1, 2] }), 'yes');
});

test('list + concatenation, string * n, % formatting, ~ concatenation', () => {
  assert.equal(r('{{ [1, 2] + [3] }} {{ "a" + "b" }} {{ 1 + 2 }}'), '[1, 2, 3] ab 3');
  assert.equal(r("{{ '-' * 3 }} {{ 7 % 3 }} {{ -7 % 3 }}"), '--- 1 2');
  assert.equal(r("{{ '%s is %d years' % ('Bo', 42) }}|{{ 'v=%s' % x }}|{{ '%05.1f%%' % 3.14159 }}|{{ '%(a)s' % {'a': 1} }}", { x: 'q' }), 'Bo is 42 years|v=q|003.1%|1');
  assert.equal(r("{{ 'n_' ~ 3 ~ none }}"), 'n_3None');
});

test('Python string methods', () => {
  const s = '  Hello World  ';
  assert.equal(r('{{ s.upper() }}|{{ s.lower() }}|{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}', { s }), '  HELLO WORLD  |  hello world  |Hello World|Hello World  |  Hello World');
  assert.equal(r("{{ 'a,b,,c'.split(',') }} {{ 'a b  c'.split() }} {{ 'a.b.c'.split('.', 1) }} {{ 'a.b.c'.rsplit('.', 1) }}"), "['a', 'b', '', 'c'] ['a', 'b', 'c'] ['a', 'b.c'] ['a.b', 'c']");
  assert.equal(r("{{ 'stg_x'.startswith('stg_') }} {{ 'x.sql'.endswith(('.sql', '.py')) }} {{ 'aXbX'.replace('X', '-') }} {{ 'xxx'.strip('x') }}"), 'True True a-b- ');
  assert.equal(r("{{ '{} and {}'.format('a', 'b') }}|{{ '{0}{0}'.format('z') }}|{{ '{name}!'.format(name='hi') }}|{{ '{:>5}'.format('ab') }}|{{ '{:.2f}'.format(3.14159) }}"), 'a and b|zz|hi!|   ab|3.14');
  assert.equal(r("{{ ', '.join(['a', 'b']) }}|{{ ''.join(l) }}", { l: ['x', 'y'] }), 'a, b|xy');
  // str.join takes strings only, as in Python (Jinja's join filter converts).
  assert.throws(() => r("{{ ''.join(l) }}", { l: ['x', 1] }), /sequence item 1: expected str instance, int found/);
  assert.equal(r("{{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ 'hello'.find('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }} {{ '123'.isdigit() }} {{ '12a'.isdigit() }}"), 'Hello World Hello 2 -1 2 True False');
  assert.equal(r("{{ ''.upper() }}|{{ 'abc'[0] }}|{{ 'abc'[-1] }}|{{ 'abcdef'[1:3] }}|{{ 'abc'[::-1] }}"), '|a|c|bc|cba');
  // Macro output (a SafeString) has the same methods.
  env.addMacroFile('{% macro padded() %}  pad  {% endmacro %}', 'macros/padded.sql', 'syntax_pkg');
  assert.equal(r('[{{ padded().strip() }}]'), '[pad]');
});

test('dict and list methods (installJinjaCompat-style) and slices', () => {
  const ctx = { d: { a: 1, b: 2 } };
  assert.equal(r("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %} {{ d.keys() }} {{ d.values() }} {{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 9) }}", ctx), "a=1;b=2; ['a', 'b'] [1, 2] 1 None 9");
  assert.equal(r('{% set l = [] %}{% do l.append(1) %}{% do l.extend([2, 3]) %}{{ l }} {{ l[-1] }} {{ l[:2] }} {{ l[1:] }} {{ l[::2] }}'), '[1, 2, 3] 3 [1, 2] [2, 3] [1, 3]');
  assert.equal(r("{% set d = {} %}{% do d.update({'x': 1}) %}{% do d.update(y=2) %}{{ d }} {{ d.pop('x') }} {{ d }}"), "{'x': 1, 'y': 2} 1 {'y': 2}");
  assert.equal(r('{% for k in d %}{{ k }}{% endfor %}', ctx), 'ab');
});

test('nested dict literal closes correctly inside {{ }}', () => {
  assert.equal(r("{{ {'a': {'b': 1}} }}|{% set x = {'a': {'b': [1, {'c': 2}]}} %}{{ x.a.b[1].c }}|{{ {'a':{'b':1}}['a']['b'] }}"), "{'a': {'b': 1}}|2|1");
});

test('{% do %}, namespace(), {% set %} at any depth, {% set ns.x %} blocks', () => {
  assert.equal(r('{% set l = [] %}{% for i in range(3) %}{% if i > 0 %}{% do l.append(i * 10) %}{% endif %}{% endfor %}{{ l }}'), '[10, 20]');
  assert.equal(r('{% set ns = namespace(total=0, found=false) %}{% for i in [1, 2, 3] %}{% set ns.total = ns.total + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.total }} {{ ns.found }}'), '6 True');
  assert.equal(r('{% set ns = namespace() %}{% set ns.body %}x{{ 1 }}{% endset %}{{ ns.body }}'), 'x1');
  assert.equal(r('{% if true %}{% for i in [1] %}{% set inner = i + 1 %}{{ inner }}{% endfor %}{% endif %}'), '2');
  assert.equal(r('{%- set x = 1 -%}\n  {{- x -}}  \n'), '1');
});

test('whitespace control, raw, comments, filter blocks, loop variables', () => {
  assert.equal(r('a  {%- if true -%}  b  {%- endif -%}  c'), 'abc');
  assert.equal(r('{% raw %}{{ not rendered }}{% endraw %}'), '{{ not rendered }}');
  assert.equal(r('a{# comment {{ x }} #}b'), 'ab');
  assert.equal(r('{% filter upper %}sql{% endfilter %}'), 'SQL');
  assert.equal(r("{% for c in ['a', 'b', 'c'] %}{{ loop.index }}{{ c }}{% if not loop.last %},{% endif %}{% if loop.first %}^{% endif %}{% endfor %}"), '1a,^2b,3c');
  assert.equal(r('{% for x in [] %}x{% else %}empty{% endfor %}'), 'empty');
});

test('{% macro %} with defaults, keyword args, kwargs and {% call %} / caller()', () => {
  const src = `{% macro m(a, b='B', c=none) %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(1) }}|{{ m(1, 2) }}|{{ m(1, c=3) }}|{{ m(a=5, b=6) }}
{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inside{% endcall %}
{% macro extra(a) %}{{ kwargs }}{% endmacro %}{{ extra(1, z=2) }}`;
  assert.equal(r(src), '1BNone|12None|1B3|56None\n<b>inside</b>\n{\'z\': 2}');
});

test('{% for … if cond %} filters items (loop.last counts only kept ones); {% set a, b = … %} unpacks', () => {
  const cols = [{ n: 'a', keep: true }, { n: 'b', keep: false }, { n: 'c', keep: true }, { n: 'd', keep: false }];
  assert.equal(r('{% for c in cols if c.keep %}{{ loop.index }}{{ c.n }}{% if not loop.last %}, {% endif %}{% endfor %}', { cols }), '1a, 2c');
  assert.equal(r("{% for k, v in {'a': 1, 'b': 0}.items() if v %}{{ k }}{% endfor %}"), 'a');
  assert.equal(r("{% set a, b = 1, 2 %}{% set db, tbl = 'x.y'.split('.') %}{{ a }}{{ b }} {{ db }}/{{ tbl }}"), '12 x/y');
  assert.throws(() => r("{% set a, b = [1] %}"), /not enough values to unpack/);
});
