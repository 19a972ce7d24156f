/**
 * Running one unit test on a connection, as dbt's `UnitTestRunner` with the
 * `unit` materialization: each given input becomes a CTE of typed literal
 * rows (the input relation's columns read from the database: a column a row
 * does not give is a typed null), the model is rendered over those CTEs, the
 * model's result columns are read from a temporary empty copy of its result,
 * the expected rows are cast to those types, and actual and expected rows of
 * the expected columns are compared without regard to order.
 */
import { randomBytes } from 'node:crypto';
import { TsdbtError } from '../errors.ts';
import { DatabaseError, type Connection } from '../adapters/adapter.ts';
import { getColumns } from '../adapters/introspection.ts';
import type { Manifest, ManifestNode, UnitTestDefinition } from '../parse/manifest.ts';
import type { NodeConfig } from '../config/types.ts';
import { quoteIdent } from '../parse/relation.ts';
import type { UnitTestInputSql } from '../compile/compile.ts';
import { parseInputText } from '../parse/unit-tests.ts';
import { compareRows, expectedColumns, expectedSql, fixtureSql, unitTestSql, type TypedColumn, type UnitTestComparison } from './unit-test-sql.ts';

/** The outcome of one unit test. */
export interface UnitTestOutcome {
  readonly status: 'pass' | 'fail';
  /** On failure: "actual differs from expected:" and the diff (dbt's message). */
  readonly message: string | null;
  /** The query that compared the rows (run_results' compiled_code). */
  readonly sql: string;
  readonly comparison: UnitTestComparison;
  /** Every statement run, for target/run/. */
  readonly statements: readonly string[];
}

/** Renders the tested model over the input CTEs (Compiler.compileUnitTest). */
export type CompileUnitTest = (def: UnitTestDefinition, inputs: readonly UnitTestInputSql[], conn: Connection, threadId: string) => Promise<string>;

/**
 * A unit test as a node for the runner, the console and run_results
 * (resource_type `unit_test`, no relation). The definition stays in
 * `manifest.unit_tests`.
 */
export function unitTestNodeView(def: UnitTestDefinition): ManifestNode & { line?: number } {
  return {
    unique_id: def.unique_id,
    resource_type: 'unit_test',
    package_name: def.package_name,
    name: def.name,
    // target/run/<package>/<properties file>/<model>/<name>.sql (compiledPathOf)
    path: `${def.model}/${def.name}.sql`,
    original_file_path: def.original_file_path,
    fqn: def.fqn,
    raw_code: '',
    language: 'sql',
    checksum: { name: 'sha256', checksum: def.checksum ?? '' },
    config: { ...def.config, materialized: 'unit' } as unknown as NodeConfig,
    tags: def.tags,
    description: def.description,
    columns: {},
    meta: def.config.meta,
    docs: { show: true },
    patch_path: null,
    database: '',
    schema: def.schema,
    alias: def.name,
    relation_name: null,
    depends_on: def.depends_on,
    refs: [],
    sources: [],
    created_at: def.created_at,
    line: def.line,
  };
}

/** The manifest with a node view of each unit test among `ids` in `nodes` (for planRun / executePlan). */
export function withUnitTestNodes(manifest: Manifest, ids: readonly string[]): Manifest {
  const extra: Record<string, ManifestNode> = {};
  for (const id of ids) {
    const def = manifest.unit_tests?.[id];
    if (def) extra[id] = unitTestNodeView(def);
  }
  if (!Object.keys(extra).length) return manifest;
  return { ...manifest, nodes: { ...manifest.nodes, ...extra } };
}

/**
 * Runs `def` on `conn`; every statement it runs is appended to `statements`
 * (also when it fails, for target/run/). @throws TsdbtError (a fixture or input problem; an SQL
 * error in the test's statements, named as dbt does: "An error occurred during
 * execution of unit test …: check the data types"), DatabaseError (a lost
 * connection, a cancel or a timeout, left as they are for the runner).
 */
export async function runUnitTest(def: UnitTestDefinition, manifest: Manifest, conn: Connection, compile: CompileUnitTest, threadId: string, statements: string[] = []): Promise<UnitTestOutcome> {
  try {
    return await runUnitTestOn(def, manifest, conn, compile, threadId, statements);
  } catch (e) {
    // Class 08 (connection) and 57 (cancel, shutdown, timeout) stay DatabaseErrors: the runner names and retries them.
    if (!(e instanceof DatabaseError) || /^(08|57)/.test(e.sqlState ?? '')) throw e;
    const detail = [e.message, e.detail && `DETAIL: ${e.detail}`, e.hint && `HINT: ${e.hint}`].filter(Boolean).join('\n  ');
    throw new TsdbtError('unit-test-sql', `An error occurred during execution of unit test '${def.name}'. There may be an error in the unit test definition: check the data types.\n  ${detail}`, {
      file: def.original_file_path,
      line: def.line,
      kind: 'runtime',
      hint: `each value is cast to its column's type in the input relation (given) or in the model's result (expect); the statements are in target/run/`,
      cause: e,
    });
  }
}

async function runUnitTestOn(def: UnitTestDefinition, manifest: Manifest, conn: Connection, compile: CompileUnitTest, threadId: string, statements: string[]): Promise<UnitTestOutcome> {
  const model = manifest.nodes[def.depends_on.nodes[0]];
  const inputs: UnitTestInputSql[] = [];
  for (const [i, g] of def.given.entries()) {
    const where = { file: def.original_file_path, line: def.line };
    const p = parseInputText(g.input ?? '')!;
    let target: string;
    let cteName: string;
    let relation: { schema: string; identifier: string } | null;
    let label: string;
    if (p.kind === 'this') {
      target = 'this';
      cteName = `__dbt__cte__${model.name}__this`;
      relation = model.config.materialized === 'ephemeral' ? null : { schema: model.schema, identifier: model.alias };
      label = `'${model.name}'`;
    } else if (p.kind === 'ref') {
      const n = Object.values(manifest.nodes).find((x) => x.name === p.name && (x.resource_type === 'model' || x.resource_type === 'seed' || x.resource_type === 'snapshot'))!;
      target = n.unique_id;
      cteName = `__dbt__cte__${n.name}`;
      relation = n.config.materialized === 'ephemeral' ? null : { schema: n.schema, identifier: n.alias };
      label = `'${n.name}'`;
    } else {
      const s = manifest.sources[`source.${def.package_name}.${p.source}.${p.table}`]!;
      target = s.unique_id;
      cteName = `__dbt__cte__${s.source_name}__${s.name}`;
      relation = { schema: s.schema, identifier: s.identifier };
      label = `'${s.source_name}.${s.name}'`;
    }
    if (g.format === 'sql') {
      inputs.push({ target, cteName, sql: String(g.rows), template: true });
      continue;
    }
    if (!relation) {
      throw new TsdbtError('unit-test-ephemeral-input', `unit test ${def.name}: input ${g.input} is an ephemeral model, whose columns cannot be read from the database`, {
        ...where,
        hint: 'give this input with format: sql (rows: | select 1 as id …), as dbt requires for ephemeral inputs',
      });
    }
    const columns: TypedColumn[] = await getColumns(conn, relation);
    if (!columns.length) {
      throw new TsdbtError('unit-test-input-missing-relation', `Not able to get columns for unit test '${def.name}' from relation ${quoteIdent(relation.schema)}.${quoteIdent(relation.identifier)} because the relation doesn't exist (given item ${i + 1}: ${g.input})`, {
        ...where,
        kind: 'runtime',
        hint: `the fixture rows are typed by the input's columns, as in dbt: build the inputs first (tsdbt build builds them before the unit test; or tsdbt run --select +${model.name} --exclude ${model.name}), or give the input with format: sql`,
      });
    }
    inputs.push({ target, cteName, sql: fixtureSql(g.rows as Record<string, unknown>[], columns, label, where) });
  }

  const actual = await compile(def, inputs, conn, threadId);

  // The model's result columns and their types: an empty temporary copy of its result (the unit materialization).
  const tmp = `tsdbt_unit_${randomBytes(4).toString('hex')}`;
  const create = `create temporary table ${quoteIdent(tmp)} as\nselect * from (\n${actual.trim().replace(/;\s*$/, '')}\n) as dbt_internal_unit_test_empty\nlimit 0`;
  statements.push(create);
  await conn.query(create);
  let actualColumns: TypedColumn[];
  try {
    const r = await conn.query<{ name: string; data_type: string }>(
      `select a.attname as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as data_type
       from pg_catalog.pg_attribute a where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum`,
      [`pg_temp.${quoteIdent(tmp)}`],
    );
    actualColumns = r.rows.map((row) => ({ name: row.name, dataType: row.data_type }));
  } finally {
    await conn.query(`drop table if exists pg_temp.${quoteIdent(tmp)}`);
  }

  const where = { file: def.original_file_path, line: def.line };
  let compared: TypedColumn[];
  let expected: string;
  if (def.expect.format === 'sql') {
    compared = actualColumns;
    expected = String(def.expect.rows);
  } else {
    const rows = def.expect.rows as Record<string, unknown>[];
    compared = rows.length ? expectedColumns(rows, actualColumns, where) : actualColumns;
    expected = expectedSql(rows, compared, where);
  }
  const names = compared.map((c) => c.name);
  const sql = unitTestSql(actual, expected, names);
  statements.push(sql);
  const result = await conn.query(sql);
  const NUMERIC = 1700; // pg_type oid of numeric
  const comparison = compareRows(names, result.rows, new Set(result.fields.filter((f) => f.dataTypeID === NUMERIC).map((f) => f.name)));
  return {
    status: comparison.equal ? 'pass' : 'fail',
    message: comparison.equal ? null : `actual differs from expected:\n\n${comparison.rendered}`,
    sql,
    comparison,
    statements,
  };
}
