import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { INTERRUPTED_MESSAGE, NOT_STARTED_MESSAGE, ProgressiveRunResults, RUN_JOURNAL_FILE } from './progressive-run-results.ts';
import { readRunResults, writeRunResults, type NodeResult } from './run-results.ts';

const ok = (id: string): NodeResult => ({
  unique_id: id, status: 'success', timing: [], thread_id: 'Thread-1', execution_time: 0.1, adapter_response: {}, message: 'SELECT 1', failures: null, compiled_code: 'select 1', relation_name: null,
});
const IDS = ['model.p.a', 'model.p.b', 'model.p.c'];

function recorder(dir: string, invocationId = 'inv-1') {
  return new ProgressiveRunResults({
    dir,
    nodes: IDS.map((uniqueId) => ({ uniqueId, relationName: `"db"."s"."${uniqueId.slice(8)}"` })),
    options: () => ({ args: { which: 'run' }, elapsedTime: 1, invocationId }),
  });
}

describe('ProgressiveRunResults (run_results.json while an invocation runs)', () => {
  it('records done, running and not-started nodes, and marks the invocation unfinished', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsdbt-progress-'));
    try {
      const rec = recorder(join(dir, 'target'));
      const raw = () => JSON.parse(readFileSync(join(dir, 'target', 'run_results.json'), 'utf8'));
      rec.start();
      assert.equal(raw().args.invocation_unfinished, true);
      assert.deepEqual(raw().results.map((r: NodeResult) => r.status), ['skipped', 'skipped', 'skipped']);
      rec.started('model.p.a');
      rec.finished(ok('model.p.a'));
      rec.started('model.p.b');
      const snap = rec.snapshot();
      assert.deepEqual(snap.map((r) => [r.status, r.message]), [['success', 'SELECT 1'], ['error', INTERRUPTED_MESSAGE], ['skipped', NOT_STARTED_MESSAGE]]);
      assert.equal(snap[2].relation_name, '"db"."s"."c"');
      // What a reader (retry, result: selection) sees, as if the process were killed now: the journal applied.
      const seen = readRunResults(join(dir, 'target'));
      assert.deepEqual(seen.args, { which: 'run', invocation_unfinished: true });
      assert.deepEqual(seen.results.map((r) => [r.unique_id, r.status, r.message]), [
        ['model.p.a', 'success', 'SELECT 1'],
        ['model.p.b', 'error', INTERRUPTED_MESSAGE],
        ['model.p.c', 'skipped', NOT_STARTED_MESSAGE],
      ]);
      assert.equal(seen.results[1].relation_name, '"db"."s"."b"');
      rec.close();
      // The final, ordinary write: the journal no longer applies.
      writeRunResults(join(dir, 'target'), [ok('model.p.a')], { args: { which: 'run' }, elapsedTime: 2, invocationId: 'inv-1' });
      assert.deepEqual(readRunResults(join(dir, 'target')).results.map((r) => r.unique_id), ['model.p.a']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ignores another invocation's journal and a line cut short by a kill", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsdbt-progress-'));
    try {
      const rec = recorder(dir, 'inv-2');
      rec.start();
      rec.started('model.p.a');
      rec.finished(ok('model.p.a'));
      rec.started('model.p.b');
      appendFileSync(join(dir, RUN_JOURNAL_FILE), '{"finished":{"unique_id":"model.p.b","sta');
      assert.deepEqual(readRunResults(dir).results.map((r) => r.status), ['success', 'error', 'skipped']);
      // A journal of an earlier invocation (the header names it) says nothing about this record.
      const lines = readFileSync(join(dir, RUN_JOURNAL_FILE), 'utf8').split('\n');
      writeFileSync(join(dir, RUN_JOURNAL_FILE), [JSON.stringify({ journal: 1, invocation_id: 'inv-1' }), ...lines.slice(1)].join('\n'));
      assert.deepEqual(readRunResults(dir).results.map((r) => r.status), ['skipped', 'skipped', 'skipped']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
