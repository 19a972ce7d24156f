/**
 * A generated dbt project shaped like a real one, for the docs site at scale:
 * sources (`sources:` in each staging folder), `models/staging/<source>/stg_*`,
 * `models/intermediate/<domain>/int_*`, `models/marts/<domain>/{core,reporting}/…`,
 * seeds, snapshots, exposures on marts, and an installed package
 * (`dbt_packages/shop_utils`) used by some marts. Every model has documented
 * columns (one `properties.yml` per folder) with not_null / unique tests;
 * a few models have the column `lifetime_value_usd` (search by column finds
 * exactly those). Deterministic for a given size.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** What was generated, for assertions. */
export interface GeneratedDocsProject {
  readonly dir: string;
  /** Root-project models (the package's are extra). */
  readonly models: number;
  readonly packageModels: number;
  readonly sources: number;
  readonly seeds: number;
  readonly snapshots: number;
  readonly exposures: number;
  /** Names of the models that have the column `lifetime_value_usd`. */
  readonly lifetimeValueModels: readonly string[];
  /** A core mart model with at least two parents. */
  readonly sampleMart: string;
}

const SOURCES = ['stripe', 'shopify', 'hubspot', 'zendesk', 'segment', 'netsuite', 'salesforce', 'intercom', 'braze', 'jira'];
const DOMAINS = ['finance', 'marketing', 'product', 'support', 'sales', 'growth', 'ops', 'risk'];

/**
 * Writes the project to `dir` (emptied first) with about `models` root-project
 * models: 10 % staging, 45 % intermediate, the rest marts.
 */
export function generateDocsProject(dir: string, models = 2000, profile = 'big'): GeneratedDocsProject {
  rmSync(dir, { recursive: true, force: true });
  const files = new Map<string, string>();
  const put = (p: string, text: string) => files.set(p, text);
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

  put('dbt_project.yml', `name: shop_big\nprofile: ${profile}\nconfig-version: 2\nmodels:\n  shop_big:\n    +materialized: view\n`);
  const props = new Map<string, string[]>(); // folder → properties.yml lines (models:)
  const addModelProps = (folder: string, name: string, description: string, columns: readonly [string, string][]) => {
    if (!props.has(folder)) props.set(folder, ['version: 2', 'models:']);
    const lines = props.get(folder)!;
    lines.push(`  - name: ${name}`, `    description: "${description}"`, '    columns:');
    columns.forEach(([c, d], k) => {
      lines.push(`      - name: ${c}`, `        description: "${d}"`);
      if (k === 0) lines.push('        data_tests: [not_null, unique]');
    });
  };

  // Sources and staging: ~10 % of the models.
  const stagingCount = Math.max(SOURCES.length, Math.round(models * 0.1));
  const tablesPerSource = Math.ceil(stagingCount / SOURCES.length);
  const staging: string[] = [];
  let sources = 0;
  for (const src of SOURCES) {
    const folder = `models/staging/${src}`;
    const yml = ['version: 2', 'sources:', `  - name: ${src}`, `    description: "Raw ${src} data, loaded by the ingestion tool."`, '    schema: raw', '    tables:'];
    for (let t = 0; t < tablesPerSource && staging.length < stagingCount; t++) {
      const table = `${src}_table_${t}`;
      yml.push(`      - name: ${table}`, `        description: "Raw ${table} rows."`, '        columns:', '          - name: id', '            description: "Primary key in the source system."');
      sources++;
      const name = `stg_${src}__t${t}`;
      staging.push(name);
      put(`${folder}/${name}.sql`, `select id, updated_at, amount, '${src}' as origin from {{ source('${src}', '${table}') }}\n`);
      addModelProps(folder, name, `Cleaned ${table} from ${src}.`, [
        ['id', `Primary key of ${table}.`],
        ['updated_at', 'When the row last changed upstream.'],
        ['amount', 'Amount in cents.'],
        [`${src}_account_id`, `The ${src} account the row belongs to.`],
      ]);
    }
    put(`${folder}/_${src}__sources.yml`, yml.join('\n') + '\n');
  }

  // Intermediate: ~45 %, each refs 1–3 staging or earlier intermediate models of its domain.
  const intermediateCount = Math.round(models * 0.45);
  const lifetime: string[] = [];
  const intermediate: Record<string, string[]> = Object.fromEntries(DOMAINS.map((d) => [d, []]));
  for (let k = 0; k < intermediateCount; k++) {
    const domain = DOMAINS[k % DOMAINS.length]!;
    const name = `int_${domain}_${k}`;
    const pool = intermediate[domain]!.length > 3 && rand() < 0.6 ? intermediate[domain]! : staging;
    const parents = new Set<string>();
    const want = 1 + Math.floor(rand() * 3);
    while (parents.size < want) parents.add(pick(pool));
    const ps = [...parents];
    put(`models/intermediate/${domain}/${name}.sql`, sql(ps));
    const cols: [string, string][] = [
      ['id', `Primary key of ${name}.`],
      [`${domain}_key`, `Business key of the ${domain} entity.`],
      ['amount', 'Amount in cents.'],
    ];
    if (k % 97 === 5) {
      cols.push(['lifetime_value_usd', 'Predicted customer lifetime value in US dollars.']);
      lifetime.push(name);
    }
    addModelProps(`models/intermediate/${domain}`, name, `Joins ${ps.join(', ')} for ${domain}.`, cols);
    intermediate[domain]!.push(name);
  }

  // Package models (dbt_packages/shop_utils).
  const packageModels = 12;
  put('dbt_packages/shop_utils/dbt_project.yml', 'name: shop_utils\nconfig-version: 2\n');
  const pkg: string[] = [];
  for (let k = 0; k < packageModels; k++) {
    const name = `utils_calendar_${k}`;
    pkg.push(name);
    put(`dbt_packages/shop_utils/models/${k < 6 ? 'calendar' : 'currency'}/${name}.sql`, k === 0 || k === 6 ? `select 1 as id, current_date as day\n` : `select * from {{ ref('${pkg[k < 6 ? 0 : 6]}') }}\n`);
  }

  // Marts: the rest, refs intermediate models of the domain, sometimes a package model or a seed.
  const martCount = models - staging.length - intermediateCount;
  const marts: string[] = [];
  let sampleMart = '';
  for (let k = 0; k < martCount; k++) {
    const domain = DOMAINS[k % DOMAINS.length]!;
    const sub = k % 3 === 0 ? 'reporting' : 'core';
    const name = `${sub === 'core' ? (k % 2 ? 'fct' : 'dim') : 'rpt'}_${domain}_${k}`;
    const parents = new Set<string>();
    const want = 1 + Math.floor(rand() * 3);
    while (parents.size < want) parents.add(pick(intermediate[domain]!));
    // A reporting mart often reads a core mart of its domain (8 marts back is the same domain).
    if (sub === 'reporting' && marts.length > 16 && rand() < 0.5) parents.add(marts[marts.length - 8 * (1 + Math.floor(rand() * 2))]!);
    if (k % 50 === 0) parents.add(pick(pkg));
    const refs = [...parents].map((p) => (pkg.includes(p) ? `ref('shop_utils', '${p}')` : `ref('${p}')`));
    if (k % 40 === 1) refs.push("ref('country_codes')");
    put(`models/marts/${domain}/${sub}/${name}.sql`, sqlRefs(refs));
    const cols: [string, string][] = [
      ['id', `Primary key of ${name}.`],
      [`${domain}_key`, `Business key of the ${domain} entity.`],
      ['amount_usd', 'Amount converted to US dollars at the daily rate.'],
      ['reported_at', 'When the figure was reported.'],
    ];
    if (k % 131 === 7) {
      cols.push(['lifetime_value_usd', 'Predicted customer lifetime value in US dollars.']);
      lifetime.push(name);
    }
    addModelProps(`models/marts/${domain}/${sub}`, name, `${domain} ${sub} mart number ${k}.`, cols);
    marts.push(name);
    if (!sampleMart && sub === 'core' && parents.size >= 2) sampleMart = name;
  }
  for (const [folder, lines] of props) put(`${folder}/properties.yml`, lines.join('\n') + '\n');

  // Seeds, snapshots, exposures.
  const seeds = ['country_codes', 'currency_rates', 'holidays', 'plan_tiers', 'sales_regions'];
  for (const s of seeds) put(`seeds/${s}.csv`, 'id,label\n1,a\n2,b\n');
  const snapshots = 3;
  for (let k = 0; k < snapshots; k++) {
    const src = SOURCES[k]!;
    put(
      `snapshots/snap_${src}.sql`,
      `{% snapshot snap_${src} %}\n{{ config(target_schema='snapshots', unique_key='id', strategy='timestamp', updated_at='updated_at') }}\nselect * from {{ source('${src}', '${src}_table_0') }}\n{% endsnapshot %}\n`,
    );
  }
  const exposures = 4;
  const ex = ['version: 2', 'exposures:'];
  for (let k = 0; k < exposures; k++) {
    const d = DOMAINS[k]!;
    const deps = marts.filter((m) => m.includes(`_${d}_`)).slice(0, 3);
    ex.push(`  - name: ${d}_dashboard`, '    type: dashboard', `    description: "The ${d} team's weekly dashboard."`, '    owner:', `      name: ${d} team`, `      email: ${d}@example.com`, '    depends_on:', ...deps.map((m) => `      - ref('${m}')`));
  }
  put('models/exposures.yml', ex.join('\n') + '\n');

  for (const [p, text] of files) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return { dir, models, packageModels, sources, seeds: seeds.length, snapshots, exposures, lifetimeValueModels: lifetime, sampleMart };
}

function sql(parents: readonly string[]): string {
  return sqlRefs(parents.map((p) => `ref('${p}')`));
}

function sqlRefs(refs: readonly string[]): string {
  const lines = [`with p0 as (select * from {{ ${refs[0]} }})`];
  for (let j = 1; j < refs.length; j++) lines.push(`, p${j} as (select * from {{ ${refs[j]} }})`);
  lines.push('select p0.id from p0');
  return lines.join('\n') + '\n';
}
