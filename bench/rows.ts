/**
 * The rows of the "Performance" issue's table (issue 14): each path's target,
 * and how a measured figure is judged PASS or MISS against it. Used by
 * bench/run.ts; pure, no I/O.
 */

/** What a row's target asks; every field present must hold for PASS. */
export interface Target {
  readonly path: string;
  /** Wall seconds of our figure at most. */
  readonly maxWall?: number;
  /** Peak RSS (MB) of our figure at most. */
  readonly maxRss?: number;
  /** The peer's wall / ours at least (e.g. "≥ 20× faster than Dataform"). */
  readonly minPeerSpeedup?: number;
  /** Ours / baseline wall at most (e.g. "≤ 1.5× psql -f"). */
  readonly maxRatio?: number;
  /** Baseline / ours wall at least (e.g. "--threads 2 ≥ 1.8× faster than --threads 1"). */
  readonly minSpeedup?: number;
  readonly text: string;
  readonly baseline?: string;
}

/** The issue's targets. */
export const TARGETS = {
  compileCold: { path: 'parse + compile, generated project, cold (no target/)', maxWall: 1.0, maxRss: 400, minPeerSpeedup: 20, text: '≤ 1.0 s, ≤ 400 MB; ≥ 20× faster than Dataform', baseline: 'Dataform 2.6.7' },
  compileUnchanged: { path: 'same, nothing changed (partial parse)', maxWall: 0.3, text: '≤ 0.3 s' },
  compileSmallCold: { path: 'same, 1,000 models, cold', minPeerSpeedup: 20, text: '≥ 20× faster than Dataform', baseline: 'Dataform 2.6.7' },
  run: { path: '`tsdbt run` of independent small tables (--threads 1) vs the same SQL through `psql -f`', maxRatio: 1.5, text: '≤ 1.5×', baseline: 'psql -f' },
  seed: { path: '`tsdbt seed` of a CSV, whole command vs `psql \\copy`', maxRatio: 1.2, text: '≤ 1.2×', baseline: 'psql \\copy' },
  threads: { path: '8 heavy independent tables, `--threads 2` vs `--threads 1`', minSpeedup: 1.8, text: '≥ 1.8× faster on 2 cores', baseline: '--threads 1' },
  pglite: { path: 'example `build` with the generated data set, PGlite vs PostgreSQL', maxRatio: 1.3, maxRss: 600, text: '≤ 1.3× PostgreSQL, ≤ 600 MB', baseline: 'PostgreSQL' },
} satisfies Record<string, Target>;

/** A measured figure: wall and CPU seconds, peak RSS (MB), load average when it was taken. */
export interface Figure {
  readonly wall: number;
  readonly cpu: number;
  readonly rss: number;
  readonly load: string;
}

/** One line of the results table, as printed and written to JSON. */
export interface RowResult {
  readonly path: string;
  readonly size: string;
  readonly ours: string;
  readonly other: string;
  readonly ratio: string;
  readonly target: string;
  readonly pass: boolean;
  /** Which part of the target failed. */
  readonly why?: string;
  readonly load: string;
  readonly figures: { ours: Figure; peer?: Figure; base?: Figure };
}

const f2 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(2));
const show = (x: Figure | undefined, rss = false) => (x ? `${f2(x.wall)} s (${f2(x.cpu)} s CPU${rss ? `, ${Math.round(x.rss)} MB` : ''})` : '–');

/**
 * Judges `ours` against `t`: `peer` is the other tool on the same input (for
 * `minPeerSpeedup`), `base` the baseline (for `maxRatio` / `minSpeedup`). A
 * target that needs a figure that was not measured (no peer installed) is a MISS
 * with the reason.
 */
export function judge(t: Target, m: { n: number; ours: Figure; peer?: Figure; base?: Figure; note?: string }): RowResult {
  const why: string[] = [];
  const ratios: string[] = [];
  if (t.maxWall !== undefined && !(m.ours.wall <= t.maxWall)) why.push(`wall > ${t.maxWall} s`);
  if (t.maxRss !== undefined && !(m.ours.rss <= t.maxRss)) why.push(`RSS > ${t.maxRss} MB`);
  if (t.minPeerSpeedup !== undefined) {
    if (!m.peer) why.push('peer not measured');
    else {
      const s = m.peer.wall / m.ours.wall;
      ratios.push(`${s.toFixed(1)}× faster`);
      if (!(s >= t.minPeerSpeedup)) why.push(`only ${s.toFixed(1)}× faster`);
    }
  }
  if (t.maxRatio !== undefined && m.base) {
    const r = m.ours.wall / m.base.wall;
    ratios.push(`${r.toFixed(2)}×`);
    if (!(r <= t.maxRatio)) why.push(`${r.toFixed(2)}× > ${t.maxRatio}×`);
  }
  if (t.minSpeedup !== undefined && m.base) {
    const s = m.base.wall / m.ours.wall;
    ratios.push(`${s.toFixed(2)}× faster`);
    if (!(s >= t.minSpeedup)) why.push(`${s.toFixed(2)}× < ${t.minSpeedup}×`);
  }
  const other = m.peer ?? m.base;
  return {
    path: t.path,
    size: m.n.toLocaleString('en'),
    ours: show(m.ours, t.maxRss !== undefined),
    // Dataform compiles in a child process that it SIGKILLs when done: its CPU may not be counted (only the CLI's)
    other: other ? `${t.baseline ?? ''}: ${show(other, t.maxRss !== undefined)}${m.peer ? ' (CPU: CLI process only)' : ''}` : '–',
    ratio: ratios.join('; ') || '–',
    target: t.text + (m.note ? ` (${m.note})` : ''),
    pass: why.length === 0,
    why: why.join('; ') || undefined,
    load: m.ours.load,
    figures: { ours: m.ours, peer: m.peer, base: m.base },
  };
}

/** Marginal cost between consecutive sizes: ms per unit, and its ratio to the previous step's (> 1: superlinear). */
export function slopes(points: readonly { n: number; wall: number }[]): { from: number; to: number; perUnitMs: number; step?: number }[] {
  const out: { from: number; to: number; perUnitMs: number; step?: number }[] = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    const perUnitMs = ((b.wall - a.wall) / (b.n - a.n)) * 1000;
    const prev = out[out.length - 1];
    out.push({ from: a.n, to: b.n, perUnitMs, step: prev && prev.perUnitMs > 0 ? perUnitMs / prev.perUnitMs : undefined });
  }
  return out;
}
