import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TsdbtError } from '../errors.ts';
import type { Manifest } from '../parse/manifest.ts';
import { buildGraph } from './build-graph.ts';
import { ManifestBuilder } from './fixtures.ts';
import { selectNodes, selectNodesDetailed, type SelectOptions, type SelectionWarning } from './select.ts';

/**
 *   source raw.orders ──▶ stg_orders ──▶ orders ──▶ customers
 *   source raw.customers ▶ stg_customers ─┘  │  ▲        │
 *   seed country_codes ───────────────────────┘  └──(stg_customers)
 *   orders ──▶ revenue ──▶ legacy_report, revenue_analysis
 *   stg_orders ──▶ orders_snapshot
 *   tests: unique_stg_orders_id (stg_orders), not_null_orders_id (orders),
 *          relationships_orders_customer_id (orders, customers),
 *          assert_revenue_positive (singular, revenue)
 */
function project(): Manifest {
  return new ManifestBuilder('proj')
    .source('raw', 'orders', { dir: 'staging' })
    .source('raw', 'customers', { dir: 'staging' })
    .seed('country_codes')
    .model('stg_orders', { dir: 'staging', sources: [['raw', 'orders']], tags: ['staging'] })
    .model('stg_customers', { dir: 'staging', sources: [['raw', 'customers']], tags: ['staging', 'pii'] })
    .model('orders', {
      dir: 'marts/core',
      refs: ['stg_orders', 'stg_customers', 'country_codes'],
      tags: ['nightly'],
      config: { materialized: 'table' },
    })
    .model('customers', { dir: 'marts/core', refs: ['stg_customers', 'orders'], config: { materialized: 'table', meta: { owner: 'ana' } } })
    .model('revenue', {
      dir: 'marts/finance',
      refs: ['orders'],
      tags: ['nightly', 'finance'],
      config: { materialized: 'incremental', unique_key: 'id', group: 'finance' },
    })
    .model('legacy_report', { refs: ['revenue'], config: { enabled: true, full_refresh: false } })
    .snapshot('orders_snapshot', { refs: ['stg_orders'] })
    .analysis('revenue_analysis', { refs: ['revenue'] })
    .genericTest('unique', 'stg_orders', 'id')
    .genericTest('not_null', 'orders', 'id', { config: { severity: 'warn' } })
    .genericTest('relationships', ['orders', 'customers'], 'customer_id')
    .singularTest('assert_revenue_positive', { refs: ['revenue'] })
    .build();
}

const TESTS_OF_ORDERS = ['not_null_orders_id', 'relationships_orders_customer_id'];

function names(m: Manifest, ids: string[]): string[] {
  return ids.map((id) => m.nodes[id]!.name).sort();
}

function sel(options: SelectOptions, m: Manifest = project()): string[] {
  return names(m, selectNodes(m, buildGraph(m), options));
}

function s(select: string, extra: SelectOptions = {}): string[] {
  return sel({ select: [select], ...extra });
}

const sorted = (xs: string[]) => [...xs].sort();

describe('bare names (fqn) and graph operators', () => {
  it('a model name selects the model and (eager) every test touching it', () => {
    assert.deepEqual(s('orders'), sorted(['orders', ...TESTS_OF_ORDERS]));
  });

  it('m+ selects all descendants', () => {
    assert.deepEqual(
      s('orders+'),
      sorted(['orders', 'customers', 'revenue', 'legacy_report', 'revenue_analysis', 'assert_revenue_positive', ...TESTS_OF_ORDERS]),
    );
  });

  it('+m selects all ancestors (sources are never returned)', () => {
    assert.deepEqual(
      s('+orders'),
      sorted(['orders', 'stg_orders', 'stg_customers', 'country_codes', 'unique_stg_orders_id', ...TESTS_OF_ORDERS]),
    );
  });

  it('m+1 and 1+m limit the depth', () => {
    assert.deepEqual(s('orders+1'), sorted(['orders', 'customers', 'revenue', 'assert_revenue_positive', ...TESTS_OF_ORDERS]));
    assert.deepEqual(s('1+customers'), sorted(['customers', 'stg_customers', 'orders', ...TESTS_OF_ORDERS]));
    assert.deepEqual(
      s('2+customers'),
      sorted(['customers', 'stg_customers', 'orders', 'stg_orders', 'country_codes', 'unique_stg_orders_id', ...TESTS_OF_ORDERS]),
    );
  });

  it('+m+ selects both directions', () => {
    assert.deepEqual(
      s('+revenue+'),
      sorted([
        'revenue',
        'legacy_report',
        'revenue_analysis',
        'assert_revenue_positive',
        'orders',
        'stg_orders',
        'stg_customers',
        'country_codes',
        'unique_stg_orders_id',
        ...TESTS_OF_ORDERS,
      ]),
    );
  });

  it('@m selects m, its descendants and all their ancestors', () => {
    // everything but the snapshot, which is neither downstream of stg_customers nor upstream of anything downstream
    const all = Object.values(project().nodes).map((n) => n.name);
    assert.deepEqual(s('@stg_customers'), sorted(all.filter((n) => n !== 'orders_snapshot')));
  });

  it('fqn paths, folders and wildcards', () => {
    assert.deepEqual(s('staging'), ['stg_customers', 'stg_orders', 'unique_stg_orders_id']);
    assert.deepEqual(s('staging.stg_orders'), ['stg_orders', 'unique_stg_orders_id']);
    assert.deepEqual(s('proj.staging.stg_orders'), ['stg_orders', 'unique_stg_orders_id']);
    assert.deepEqual(s('marts.core'), sorted(['orders', 'customers', ...TESTS_OF_ORDERS]));
    assert.deepEqual(s('marts.*', { resourceTypes: ['model'] }), ['customers', 'orders', 'revenue']);
    assert.deepEqual(s('marts.core.cust*', { resourceTypes: ['model'] }), ['customers']);
    assert.deepEqual(s('stg_*', { resourceTypes: ['model'] }), ['stg_customers', 'stg_orders']);
    assert.deepEqual(s('fqn:legacy_report'), ['legacy_report']);
    assert.equal(s('fqn:*').length, Object.keys(project().nodes).length);
    assert.equal(s('proj').length, Object.keys(project().nodes).length);
    // dbt matches folders as an fqn prefix only: 'core' alone is not a match
    assert.deepEqual(s('core'), []);
  });
});

describe('methods', () => {
  it('path: folder, file, glob; bare paths use the path method', () => {
    assert.deepEqual(s('path:models/marts/core', { resourceTypes: ['model'] }), ['customers', 'orders']);
    assert.deepEqual(s('path:models/marts/finance/revenue.sql'), ['assert_revenue_positive', 'revenue']);
    assert.deepEqual(s('path:./models/marts/finance/'), ['assert_revenue_positive', 'revenue']);
    assert.deepEqual(s('models/staging', { indirectSelection: 'empty' }), ['stg_customers', 'stg_orders']);
    assert.deepEqual(s('path:models/*/core', { resourceTypes: ['model'] }), ['customers', 'orders']);
    assert.deepEqual(s('path:models/**/rev*.sql', { indirectSelection: 'empty' }), ['revenue']);
    assert.deepEqual(s('path:snapshots'), ['orders_snapshot']);
    // the sources' yml lives in models/staging: path: selects sources, so + reaches their children
    assert.deepEqual(s('path:models/staging/sources.yml+1', { resourceTypes: ['model'] }), ['stg_customers', 'stg_orders']);
  });

  it('file: by file name or stem; bare *.sql uses file', () => {
    assert.deepEqual(s('file:revenue.sql', { indirectSelection: 'empty' }), ['revenue']);
    assert.deepEqual(s('file:revenue', { indirectSelection: 'empty' }), ['revenue']);
    assert.deepEqual(s('revenue.sql', { indirectSelection: 'empty' }), ['revenue']);
    assert.deepEqual(s('country_codes.csv'), ['country_codes']);
  });

  it('tag:, with wildcards', () => {
    assert.deepEqual(s('tag:nightly'), sorted(['orders', 'revenue', 'assert_revenue_positive', ...TESTS_OF_ORDERS]));
    assert.deepEqual(s('tag:pii'), ['stg_customers']);
    assert.deepEqual(s('tag:fin*', { indirectSelection: 'empty' }), ['revenue']);
  });

  it('config.<key>: strings, booleans, lists, nested keys, case-insensitive severity', () => {
    assert.deepEqual(s('config.materialized:table', { resourceTypes: ['model'] }), ['customers', 'orders']);
    assert.deepEqual(s('config.materialized:incremental', { indirectSelection: 'empty' }), ['revenue']);
    assert.deepEqual(s('config.full_refresh:false'), ['legacy_report']);
    assert.deepEqual(s('config.unique_key:id', { indirectSelection: 'empty' }), ['revenue']);
    assert.deepEqual(s('config.tags:pii'), ['stg_customers']);
    assert.deepEqual(s('config.meta.owner:ana', { indirectSelection: 'empty' }), ['customers']);
    assert.deepEqual(s('config.severity:WARN'), ['not_null_orders_id']);
    assert.deepEqual(s('config.materialized:snapshot'), ['orders_snapshot']);
  });

  it('resource_type:', () => {
    assert.deepEqual(s('resource_type:seed'), ['country_codes']);
    assert.deepEqual(s('resource_type:snapshot'), ['orders_snapshot']);
    assert.deepEqual(s('resource_type:analysis'), ['revenue_analysis']);
    assert.deepEqual(s('resource_type:test'), sorted(['unique_stg_orders_id', 'assert_revenue_positive', ...TESTS_OF_ORDERS]));
    assert.deepEqual(s('resource_type:source+1', { resourceTypes: ['model'] }), ['stg_customers', 'stg_orders']);
  });

  it('source:name, source:name.table, source:pkg.name.table with + to select children', () => {
    assert.deepEqual(s('source:raw'), []);
    assert.deepEqual(s('source:raw+1'), sorted(['stg_orders', 'stg_customers', 'unique_stg_orders_id']));
    assert.deepEqual(s('source:raw.orders+', { resourceTypes: ['model', 'snapshot'] }), [
      'customers',
      'legacy_report',
      'orders',
      'orders_snapshot',
      'revenue',
      'stg_orders',
    ]);
    assert.deepEqual(s('source:proj.raw.customers+1'), ['stg_customers']);
    assert.deepEqual(s('source:*.cust*+1'), ['stg_customers']);
  });

  it('package: including package:this', () => {
    const all = Object.keys(project().nodes).length;
    assert.equal(s('package:proj').length, all);
    assert.equal(s('package:this').length, all);
    assert.deepEqual(s('package:dbt_utils'), []);
  });

  it('test_type: and test_name:', () => {
    assert.deepEqual(s('test_type:generic'), sorted(['unique_stg_orders_id', ...TESTS_OF_ORDERS]));
    assert.deepEqual(s('test_type:singular'), ['assert_revenue_positive']);
    assert.deepEqual(s('test_type:data').length, 4);
    assert.deepEqual(s('test_name:unique'), ['unique_stg_orders_id']);
    assert.deepEqual(s('test_name:not_*'), ['not_null_orders_id']);
    // "run the generic tests of orders" (dbt test selection example)
    assert.deepEqual(s('orders,test_type:generic'), TESTS_OF_ORDERS);
  });

  it('group:', () => {
    assert.deepEqual(s('group:finance', { indirectSelection: 'empty' }), ['revenue']);
  });
});

describe('set operators and exclude', () => {
  it('space = union, comma = intersection', () => {
    assert.deepEqual(s('stg_orders country_codes'), ['country_codes', 'stg_orders', 'unique_stg_orders_id']);
    assert.deepEqual(sel({ select: ['stg_orders', 'country_codes'] }), ['country_codes', 'stg_orders', 'unique_stg_orders_id']);
    assert.deepEqual(s('tag:nightly,config.materialized:incremental'), ['assert_revenue_positive', 'revenue']);
    assert.deepEqual(s('+legacy_report,staging', { resourceTypes: ['model'] }), ['stg_customers', 'stg_orders']);
    assert.deepEqual(s('tag:nightly,tag:pii'), []);
  });

  it('--exclude subtracts, and removes the tests of excluded nodes', () => {
    assert.deepEqual(
      sel({ select: ['orders+'], exclude: ['revenue'] }),
      sorted(['orders', 'customers', 'legacy_report', 'revenue_analysis', ...TESTS_OF_ORDERS]),
    );
    // the relationships test touches customers, so excluding customers excludes it
    assert.deepEqual(sel({ select: ['orders'], exclude: ['customers'] }), ['not_null_orders_id', 'orders']);
    assert.deepEqual(sel({ select: ['marts'], exclude: ['tag:finance revenue_analysis'], resourceTypes: ['model'] }), [
      'customers',
      'orders',
    ]);
  });

  it('no --select means everything; exclude still applies', () => {
    const m = project();
    assert.equal(sel({}).length, Object.keys(m.nodes).length);
    assert.equal(sel({ select: [] , defaultSelect: 'all' }).length, Object.keys(m.nodes).length);
    assert.deepEqual(sel({ exclude: ['+customers', 'orders+'], resourceTypes: ['model', 'seed', 'snapshot', 'test'] }), ['orders_snapshot']);
  });

  it('resourceTypes filters last (dbt run / dbt test)', () => {
    assert.deepEqual(s('+orders', { resourceTypes: ['model'] }), ['orders', 'stg_customers', 'stg_orders']);
    assert.deepEqual(s('+orders', { resourceTypes: ['test'] }), sorted(['unique_stg_orders_id', ...TESTS_OF_ORDERS]));
    assert.deepEqual(s('+orders', { excludeResourceTypes: ['test', 'model'] }), ['country_codes']);
  });
});

describe('indirect selection', () => {
  it('eager: any parent selected', () => {
    assert.deepEqual(s('customers', { indirectSelection: 'eager' }), ['customers', 'relationships_orders_customer_id']);
  });
  it('cautious: all parents selected', () => {
    assert.deepEqual(s('customers', { indirectSelection: 'cautious' }), ['customers']);
    assert.deepEqual(s('orders', { indirectSelection: 'cautious' }), ['not_null_orders_id', 'orders']);
    assert.deepEqual(s('orders customers', { indirectSelection: 'cautious' }), sorted(['orders', 'customers', ...TESTS_OF_ORDERS]));
  });
  it('buildable: parents selected or upstream of the selection', () => {
    assert.deepEqual(s('customers', { indirectSelection: 'buildable' }), ['customers', 'relationships_orders_customer_id']);
    assert.deepEqual(s('orders', { indirectSelection: 'buildable' }), ['not_null_orders_id', 'orders']);
  });
  it('empty: no tests unless selected directly', () => {
    assert.deepEqual(s('orders', { indirectSelection: 'empty' }), ['orders']);
    assert.deepEqual(s('test_name:unique', { indirectSelection: 'empty' }), ['unique_stg_orders_id']);
  });
});

describe('state:', () => {
  function changed(): { now: Manifest; before: Manifest } {
    const before = project();
    const b = new ManifestBuilder('proj');
    const now = project();
    now.nodes['model.proj.stg_orders']!.checksum = { name: 'sha256', checksum: 'new-sql' };
    now.nodes['model.proj.stg_orders']!.raw_code = 'select 2 as changed';
    now.nodes['model.proj.revenue']!.config = { ...now.nodes['model.proj.revenue']!.config, materialized: 'table' };
    // dbt's same_persisted_description: a description counts only when persist_docs writes it to the database.
    for (const m of [before, now]) m.nodes['model.proj.customers']!.config = { ...m.nodes['model.proj.customers']!.config, persist_docs: { relation: true } };
    now.nodes['model.proj.customers']!.description = 'One row per customer';
    const extra = b.model('brand_new', { refs: [] }).build().nodes['model.proj.brand_new']!;
    now.nodes[extra.unique_id] = extra;
    return { now, before };
  }

  it('state:new and state:modified (SQL, config, properties, new)', () => {
    const { now, before } = changed();
    assert.deepEqual(sel({ select: ['state:new'], state: before }, now), ['brand_new']);
    assert.deepEqual(sel({ select: ['state:modified'], state: before, resourceTypes: ['model'] }, now), [
      'brand_new',
      'customers',
      'revenue',
      'stg_orders',
    ]);
    assert.deepEqual(sel({ select: ['state:modified.body'], state: before, indirectSelection: 'empty' }, now), ['brand_new', 'stg_orders']);
    assert.deepEqual(sel({ select: ['state:modified.configs'], state: before, indirectSelection: 'empty' }, now), ['brand_new', 'revenue']);
    assert.deepEqual(sel({ select: ['state:modified.persisted_descriptions'], state: before, indirectSelection: 'empty' }, now), [
      'brand_new',
      'customers',
    ]);
    assert.equal(sel({ select: ['state:unmodified'], state: before, resourceTypes: ['model'] }, now).length, 3);
    assert.deepEqual(sel({ select: ['state:old'], state: before, resourceTypes: ['seed'] }, now), ['country_codes']);
  });

  it('state:modified+ works with graph operators', () => {
    const { now, before } = changed();
    assert.deepEqual(sel({ select: ['state:modified.body+'], state: before, resourceTypes: ['model', 'snapshot'] }, now), [
      'brand_new',
      'customers',
      'legacy_report',
      'orders',
      'orders_snapshot',
      'revenue',
      'stg_orders',
    ]);
  });

  it('a changed relation (schema config) or a changed macro counts as modified', () => {
    const mk = (macroSql: string, schema?: string) =>
      new ManifestBuilder('p')
        .macro('cents', macroSql)
        .macro('money', '{{ cents(x) }}', ['cents'])
        .model('a', { macros: ['money'] })
        .model('b', { config: schema ? { schema } : {} })
        .model('c')
        .build();
    const before = mk('x * 100');
    assert.deepEqual(sel({ select: ['state:modified'], state: before }, mk('x * 100')), []);
    assert.deepEqual(sel({ select: ['state:modified'], state: before }, mk('x * 1000')), ['a']);
    assert.deepEqual(sel({ select: ['state:modified.macros'], state: before }, mk('x * 1000', 'finance')), ['a']);
    assert.deepEqual(sel({ select: ['state:modified.relation'], state: before }, mk('x * 100', 'finance')), ['b']);
  });

  it('state: without a state manifest is an error', () => {
    assert.throws(() => s('state:modified'), (e: unknown) => e instanceof TsdbtError && e.code === 'state-required' && /--state/.test(e.hint!));
  });

  it('result: selects by a previous run status', () => {
    const results = [
      { unique_id: 'model.proj.orders', status: 'error' },
      { unique_id: 'model.proj.customers', status: 'skipped' },
      { unique_id: 'model.proj.revenue', status: 'success' },
    ];
    assert.deepEqual(s('result:error+', { stateResults: results, resourceTypes: ['model'] }), [
      'customers',
      'legacy_report',
      'orders',
      'revenue',
    ]);
    assert.deepEqual(s('result:skipped', { stateResults: results, indirectSelection: 'empty' }), ['customers']);
  });
});

describe('warnings and bad selectors', () => {
  it('a name matching nothing is a warning with a suggestion, not an error', () => {
    const m = project();
    const warnings: SelectionWarning[] = [];
    const r = selectNodes(m, buildGraph(m), { select: ['ordrs', 'revenue'] }, warnings);
    assert.deepEqual(names(m, r), ['assert_revenue_positive', 'revenue']);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.message, "The selection criterion 'ordrs' does not match any enabled nodes");
    assert.match(warnings[0]!.hint!, /did you mean "orders"/);
    const d = selectNodesDetailed(m, buildGraph(m), { select: ['revenue'], exclude: ['tag:nope'] });
    assert.deepEqual(d.warnings.map((w) => w.selector), ['tag:nope']);
  });

  const badCases: [string, RegExp, RegExp?][] = [
    ['foo:bar', /"foo" is not a valid selector method/, /valid methods: fqn, tag, path/],
    ['tags:nightly', /"tags" is not a valid selector method/, /did you mean "tag:"/],
    ['or+ders', /"\+" can only appear at the start/],
    ['orders++', /"\+" can only appear at the start/],
    ['@orders+', /"@" prefix and a "\+" suffix cannot be used together/],
    ['ord@ers', /"@" can only appear at the very start/],
    ['+', /nothing to select/],
    ['tag:', /"tag" has no value/],
    ['config:table', /config method needs a key/, /config\.materialized:incremental/],
    ['resource_type:modle', /"modle" is not a resource type/, /did you mean "resource_type:model"/],
    ['state:changed', /"changed" is not a state selector/],
    ['state:modified.foo', /"modified.foo" is not a state selector/],
    ['test_type:weird', /"weird" is not a test type/],
    ['source:a.b.c.d', /at most three parts/],
    ['tag.x:y', /takes no "\.x" argument/],
    ['a,,b', /empty part around ","/],
  ];
  for (const [text, message, hint] of badCases) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => s(text),
        (e: unknown) => {
          assert.ok(e instanceof TsdbtError, String(e));
          assert.equal(e.code, 'bad-selector');
          assert.ok(e.message.startsWith(`Invalid selector "${text}"`), e.message);
          assert.match(e.message, message);
          if (hint) assert.match(e.hint!, hint);
          else assert.ok(e.hint && e.hint.length > 10);
          return true;
        },
      );
    });
  }

  it('bad exclude selectors are rejected too', () => {
    assert.throws(() => sel({ select: ['orders'], exclude: ['foo:bar'] }), /"foo" is not a valid selector method/);
  });
});

describe('source_status:fresher (dbt\'s SourceStatusSelectorMethod)', () => {
  const O = 'source.proj.raw.orders';
  const C = 'source.proj.raw.customers';
  it('selects sources whose max_loaded_at grew since the state run (or are new there), with + their children', () => {
    const sourceFreshness = {
      previous: [{ unique_id: O, max_loaded_at: '2026-12-01T10:00:00+00:00' }, { unique_id: C, max_loaded_at: '2026-12-01T10:00:00+00:00' }],
      current: [{ unique_id: O, max_loaded_at: '2026-12-02T10:00:00+00:00' }, { unique_id: C, max_loaded_at: '2026-12-01T10:00:00+00:00' }],
    };
    assert.deepEqual(s('source_status:fresher+', { sourceFreshness, resourceTypes: ['model'] }), sorted(['stg_orders', 'orders', 'customers', 'revenue', 'legacy_report']));
    const onlyNew = { previous: [{ unique_id: O, max_loaded_at: '2026-12-01T10:00:00+00:00' }], current: [{ unique_id: C, max_loaded_at: '2026-12-01T09:00:00+00:00' }] };
    assert.deepEqual(s('source_status:fresher+', { sourceFreshness: onlyNew, resourceTypes: ['model'] }), sorted(['stg_customers', 'orders', 'customers', 'revenue', 'legacy_report']));
  });
  it('leaves out a source whose current check failed (runtime error: no max_loaded_at)', () => {
    const sourceFreshness = { previous: [], current: [{ unique_id: O }] };
    assert.deepEqual(s('source_status:fresher+', { sourceFreshness }), []);
  });
  it('without freshness results to compare it is a state-required error', () => {
    assert.throws(() => s('source_status:fresher+'), (e: unknown) => e instanceof TsdbtError && e.code === 'state-required' && /source freshness/.test(e.hint ?? ''));
  });
});
