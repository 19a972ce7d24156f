import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { INTERRUPTED_MESSAGE, NOT_STARTED_MESSAGE, ProgressiveRunResults } from './progressive-run-results.ts';
import type { NodeResult } from './run-results.ts';

const ok = (id: string): NodeResult => ({
  unique_id: id, status: 'success', timing: [], thread_id: 'Thread-1', execution_time: 0.1, adapter_response: {}, message: 'SELECT 1', failures: null, compiled_code: 'select 1', relation_name: null,
});

describe('ProgressiveRunResults (run_results.json while an invocation runs)', () => {
  it('records done, running and not-started nodes, and marks the invocation unfinished', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsdbt-progress-'));
    try {
      const rec = new ProgressiveRunResults({
        dir,
        nodes: ['model.p.a', 'model.p.b', 'model.p.c'].map((uniqueId) => ({ uniqueId, relationName: `"db"."s"."${uniqueId.slice(8)}"` })),
        options: () => ({ args: { which: 'run' }, elapsedTime: 1 }),
      });
      const read = () => JSON.parse(readFileSync(join(dir, 'run_results.json'), 'utf8'));
      rec.start();
      assert.equal(read().args.invocation_unfinished, true);
      assert.deepEqual(read().results.map((r: NodeResult) => r.status), ['skipped', 'skipped', 'skipped']);
      rec.started('model.p.a');
      rec.finished(ok('model.p.a'));
      rec.started('model.p.b');
      const snap = rec.snapshot();
      assert.deepEqual(snap.map((r) => [r.status, r.message]), [['success', 'SELECT 1'], ['error', INTERRUPTED_MESSAGE], ['skipped', NOT_STARTED_MESSAGE]]);
      assert.equal(snap[2].relation_name, '"db"."s"."c"');
      rec.close();
      // On disk: the last write (writes are spaced by their own cost; close() leaves the final write to the caller).
      assert.deepEqual(read().args, { which: 'run', invocation_unfinished: true });
      assert.equal(read().results.length, 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
