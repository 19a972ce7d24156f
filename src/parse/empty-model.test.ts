/**
 * An empty (or whitespace-only) .sql file under models/ is skipped as dbt
 * skips it: no node in the manifest, no error, the other models parse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadProjectConfig } from '../config/index.ts';
import type { TargetConfig } from '../config/types.ts';
import { parseProject } from './parse-project.ts';

const target: TargetConfig = { name: 'dev', profileName: 'shop', type: 'postgres', schema: 'analytics', threads: 1, dbname: 'test', extra: {}, source: 'test' };

test('empty and whitespace-only model files are skipped, as dbt skips them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdbt-empty-'));
  try {
    const files: Record<string, string> = {
      'dbt_project.yml': 'name: shop\nprofile: shop\nconfig-version: 2\n',
      'models/empty.sql': '',
      'models/blank.sql': '  \n\n\t\n',
      'models/orders.sql': 'select 1 as id\n',
    };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
    const r = parseProject({ project: loadProjectConfig(dir, { vars: {} }), target, cliVars: {}, invocationId: 'i', env: {}, partialParse: false });
    assert.deepEqual(Object.keys(r.manifest.nodes).filter((id) => id.startsWith('model.')).sort(), ['model.shop.orders']);
    assert.deepEqual(r.warnings.map((w) => w.message), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
