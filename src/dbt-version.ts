/**
 * The one dbt version tsdbt claims, everywhere: `dbt_version` in templates,
 * the `require-dbt-version` check, the hub's `require_dbt_version`, and
 * `metadata.dbt_version` of manifest.json, run_results.json and
 * catalog.json. 1.11 because the artifacts tsdbt writes follow manifest v12,
 * run-results v6 and catalog v1 as dbt-core 1.11 publishes them (the v12
 * schema of dbt 1.8–1.10 rejects fields 1.11 added, e.g. `functions` in
 * `depends_on`, `doc_blocks`); tests/integration/artifacts-schema.test.ts
 * validates them against those schemas.
 */
export const DBT_VERSION = '1.11.0';
