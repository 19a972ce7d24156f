import assert from 'node:assert/strict';
import { TsdbtError } from '../errors.ts';
/**
 * Test helper: writes a small project to a fresh temp directory, dbt
 * functional-test style. Keys are project-relative paths, values file text.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Writes `files` under a new temp directory and returns its absolute path. */
export function writeProject(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'tsdbt-config-'));
  for (const [rel, text] of Object.entries(files)) {
    const abs = join(root, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, text);
  }
  return root;
}

/** Runs `fn` and returns the TsdbtError it throws; fails the test when it throws nothing or something else. */
export function thrown(fn: () => unknown): TsdbtError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TsdbtError, `expected TsdbtError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}
