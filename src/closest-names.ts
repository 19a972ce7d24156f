import { distance } from 'fastest-levenshtein';

/**
 * Up to `max` candidates closest to `name` by Levenshtein distance, best
 * first (ties keep candidate order), for "did you mean …?" hints. Only
 * candidates within a distance of max(2, ⌈len/3⌉) are returned, and an
 * exact match is never suggested. Comparison is case-insensitive, with a
 * case-only difference ranked first. Shared by every stage (a top-level
 * module, like errors.ts, so no stage imports another for it).
 */
export function closestNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  const wanted = name.toLowerCase();
  const limit = Math.max(2, Math.ceil(name.length / 3));
  const scored: { c: string; d: number; i: number }[] = [];
  const seen = new Set<string>();
  let i = 0;
  for (const c of candidates) {
    if (c === name || seen.has(c)) continue;
    seen.add(c);
    const d = distance(wanted, c.toLowerCase());
    if (d <= limit) scored.push({ c, d, i: i++ });
  }
  scored.sort((a, b) => a.d - b.d || a.i - b.i);
  return scored.slice(0, max).map((s) => s.c);
}
