/**
 * dbt seeds: CSV files loaded into tables.
 *
 *   const columns = await inferSeedColumns(file, { displayPath, delimiter, columnTypes, quoteColumns });
 *   const { rows } = await loadSeedTable(conn, adapter, { relation: tmp, file, displayPath, columns, delimiter });
 *
 * See infer-seed-columns.ts (types and names, as dbt-postgres) and load-seed-table.ts
 * (one COPY, checked while it streams).
 */
export { inferSeedColumns, type SeedColumn, type InferSeedColumnsOptions } from './infer-seed-columns.ts';
export { loadSeedTable, type LoadSeedTableOptions, type LoadSeedTableResult } from './load-seed-table.ts';
export { classifyValue, joinKinds, type SeedKind } from './seed-kind.ts';
