/**
 * depends_on.macros resolution (dbt-core parser/manifest.py resolve_macro_depends_on,
 * clients/jinja_static.py statically_extract_macro_calls): bare names from the
 * caller's package first, `pkg.name`, adapter.dispatch with positional or
 * keyword arguments, context functions ignored.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JinjaEnv } from '../jinja/index.ts';

function env(): JinjaEnv {
  const j = new JinjaEnv({ rootPackage: 'proj' });
  j.addMacroFile("{% macro default__now() %}now(){% endmacro %}\n{% macro now() %}{{ adapter.dispatch('now', 'dbt')() }}{% endmacro %}\n", 'builtins.sql', 'dbt');
  j.addMacroFile(
    "{% macro star(x) %}{{ return(adapter.dispatch(macro_name='star', macro_namespace='utils')(x)) }}{% endmacro %}\n" +
      '{% macro default__star(x) %}{{ helper() }}{% endmacro %}\n{% macro helper() %}*{% endmacro %}\n',
    'utils/macros.sql',
    'utils',
  );
  j.addMacroFile("{% macro helper() %}root{% endmacro %}\n{% macro money(x) %}{{ log('x') }}{{ var('v', 1) }}{{ utils.star(x) }}{{ now() }}{% endmacro %}\n", 'macros/m.sql', 'proj');
  return j;
}

describe('macro dependencies', () => {
  it('a macro depends on what it calls, resolved from its own package first', () => {
    const j = env();
    assert.deepEqual(j.macroDependencies('macro.proj.money'), ['macro.utils.star', 'macro.dbt.now']);
    // utils' default__star calls helper(): utils' own helper, not the root project's.
    assert.deepEqual(j.macroDependencies('macro.utils.default__star'), ['macro.utils.helper']);
  });

  it('adapter.dispatch with keyword arguments reaches the implementation dispatch picks', () => {
    assert.deepEqual(env().macroDependencies('macro.utils.star'), ['macro.utils.default__star']);
    assert.deepEqual(env().macroDependencies('macro.dbt.now'), ['macro.dbt.default__now']);
  });

  it('a node text: bare names from the node package, ref/source/config and context functions give nothing', () => {
    const j = env();
    const calls = j.templateCalls("{{ config(materialized='table') }} select {{ money(ref('a')) }}, {{ helper() }} from {{ source('s', 't') }}", 'models/a.sql');
    const ids = calls.flatMap((c) => j.resolveMacroCall(c, 'proj'));
    assert.deepEqual(ids, ['macro.proj.money', 'macro.proj.helper']);
  });
});
