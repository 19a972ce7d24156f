/**
 * The bench's PASS/MISS judging and scaling slopes (bench/rows.ts): pure
 * functions, checked on made-up figures (no timing here: speed is measured by
 * `npm run bench`, never asserted in tests).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TARGETS, judge, slopes } from '../../bench/rows.ts';

const fig = (wall: number, rss = 100) => ({ wall, cpu: wall, rss, load: '1.00 1.00 1.00' });

test('compile cold: PASS needs the wall, the RSS and the 20× over Dataform', () => {
  assert.equal(judge(TARGETS.compileCold, { n: 10000, ours: fig(0.9, 300), peer: fig(23) }).pass, true);
  const slow = judge(TARGETS.compileCold, { n: 10000, ours: fig(2.3, 300), peer: fig(23) });
  assert.equal(slow.pass, false);
  assert.match(slow.why ?? '', /wall > 1 s; only 10\.0× faster/);
  assert.match(judge(TARGETS.compileCold, { n: 10000, ours: fig(0.9, 450), peer: fig(23) }).why ?? '', /RSS > 400 MB/);
  assert.match(judge(TARGETS.compileCold, { n: 10000, ours: fig(0.9, 300) }).why ?? '', /peer not measured/);
});

test('ratios against a baseline: at most (seed, run, PGlite) and at least (threads)', () => {
  assert.equal(judge(TARGETS.seed, { n: 1e6, ours: fig(1.19), base: fig(1) }).pass, true);
  assert.equal(judge(TARGETS.seed, { n: 1e6, ours: fig(1.46), base: fig(1) }).why, '1.46× > 1.2×');
  assert.equal(judge(TARGETS.threads, { n: 8, ours: fig(1), base: fig(1.22) }).why, '1.22× < 1.8×');
  assert.equal(judge(TARGETS.threads, { n: 8, ours: fig(1), base: fig(1.9) }).pass, true);
  assert.match(judge(TARGETS.pglite, { n: 1e6, ours: fig(50, 900), base: fig(42.8) }).why ?? '', /RSS > 600 MB/);
});

test('slopes: marginal cost per unit and its step ratio flag a superlinear step', () => {
  const s = slopes([
    { n: 50, wall: 1 },
    { n: 200, wall: 2.5 },
    { n: 800, wall: 14.5 },
  ]);
  assert.deepEqual(
    s.map((x) => [x.from, x.to, Math.round(x.perUnitMs), x.step === undefined ? undefined : Math.round(x.step * 10) / 10]),
    [
      [50, 200, 10, undefined],
      [200, 800, 20, 2],
    ],
  );
});
