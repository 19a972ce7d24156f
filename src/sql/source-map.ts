/**
 * Maps a position in rendered SQL back to the Jinja template that produced
 * it, without touching the renderer: the template's static text (everything
 * outside `{{ }}`, `{% %}`, `{# #}`, plus `{% raw %}` bodies), cut into
 * trimmed lines, is aligned with the rendered text (the longest chain of
 * segments found in order, weighted by length). A rendered position inside an
 * aligned segment maps to that segment's place in the template; a position in
 * text no static segment explains was produced by a tag — then the templates
 * that tag may have called (macros, ephemeral models) are aligned with that
 * stretch of output in turn, and failing that the tag itself is the answer.
 *
 * Several tags with only whitespace between them (`{{ a }} {{ b }}`): the
 * output is cut between them by each tag's hint (`ref('x')` → `x`) or by
 * that whitespace, so the error points at the tag that produced it.
 *
 * Loops are covered: a loop body's segments appear several times in the
 * output; an occurrence outside the chain still maps to the body.
 */
import { lineColumnAt } from '../errors.ts';

/** A template to map into: its text and where that text sits in its file. */
export interface MapTemplate {
  /** Project-relative file. */
  readonly file: string;
  /** The template text (a whole model file, or a macro block). */
  readonly text: string;
  /** 1-based line and column of `text`'s first character in `file` (1, 1 for a whole file). */
  readonly line: number;
  readonly column: number;
  /** What to call it in messages: `macro 'x'`, `model 'y'`. */
  readonly label: string;
}

/** Where a rendered position came from. */
export interface TemplateLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The whole template line, for an excerpt. */
  readonly lineText: string;
  /** True when the position lies in the output of a tag (`{{ … }}`) rather than the template's own text. */
  readonly inTag: boolean;
  /** Outer templates, innermost first: the calls that led here (`model 'x'` at models/x.sql:5). */
  readonly via: readonly { readonly label: string; readonly file: string; readonly line: number }[];
}

interface Segment {
  readonly text: string;
  /** Offset in the template. */
  readonly start: number;
  readonly index: number;
}
interface Tag {
  readonly start: number;
  readonly end: number;
  readonly kind: '{{' | '{%';
}
interface Lexed {
  readonly segments: readonly Segment[];
  readonly tags: readonly Tag[];
}
interface Occurrence {
  readonly seg: Segment;
  /** Offset in the rendered text. */
  readonly at: number;
}

const lexCache = new Map<string, Lexed>();

/** Static segments and tags of a Jinja template. */
export function lexTemplate(t: string): Lexed {
  const hit = lexCache.get(t);
  if (hit) return hit;
  const segments: Segment[] = [];
  const tags: Tag[] = [];
  const addStatic = (from: number, to: number) => {
    let i = from;
    while (i < to) {
      let nl = t.indexOf('\n', i);
      if (nl < 0 || nl > to) nl = to;
      let a = i;
      let b = nl;
      while (a < b && /\s/.test(t[a])) a++;
      while (b > a && /\s/.test(t[b - 1])) b--;
      if (b > a) segments.push({ text: t.slice(a, b), start: a, index: segments.length });
      i = nl + 1;
    }
  };
  let i = 0;
  while (i < t.length) {
    const open = t.slice(i).search(/\{[{%#]/);
    if (open < 0) {
      addStatic(i, t.length);
      break;
    }
    const s = i + open;
    addStatic(i, s);
    const kind = t.slice(s, s + 2);
    if (kind === '{#') {
      const e = t.indexOf('#}', s + 2);
      i = e < 0 ? t.length : e + 2;
      continue;
    }
    const close = kind === '{{' ? '}}' : '%}';
    let j = s + 2;
    let quote = '';
    while (j < t.length) {
      const c = t[j];
      if (quote) {
        if (c === '\\') j++;
        else if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (t.startsWith(close, j)) break;
      j++;
    }
    const end = Math.min(t.length, j + 2);
    tags.push({ start: s, end, kind: kind as '{{' | '{%' });
    i = end;
    if (kind === '{%' && /^\{%-?\s*raw\s*-?%\}$/.test(t.slice(s, end))) {
      const m = /\{%-?\s*endraw\s*-?%\}/.exec(t.slice(end));
      const stop = m ? end + m.index : t.length;
      addStatic(end, stop);
      if (m) tags.push({ start: stop, end: stop + m[0].length, kind: '{%' });
      i = m ? stop + m[0].length : t.length;
    }
  }
  const lexed = { segments, tags };
  if (lexCache.size > 2000) lexCache.clear();
  lexCache.set(t, lexed);
  return lexed;
}

/** Every place each segment occurs in `out[from, to)` (at most 200 per segment). */
function occurrences(segments: readonly Segment[], out: string, from: number, to: number): Occurrence[] {
  const occ: Occurrence[] = [];
  for (const seg of segments) {
    let p = out.indexOf(seg.text, from);
    let n = 0;
    while (p >= 0 && p + seg.text.length <= to && n < 200) {
      occ.push({ seg, at: p });
      n++;
      p = out.indexOf(seg.text, p + 1);
    }
  }
  return occ;
}

/** The heaviest chain of occurrences increasing in both segment index and position, not overlapping. */
function chain(occ: Occurrence[]): Occurrence[] {
  const sorted = [...occ].sort((a, b) => a.at - b.at || a.seg.index - b.seg.index);
  const n = Math.min(sorted.length, 3000);
  const best = new Array<number>(n).fill(0);
  const prev = new Array<number>(n).fill(-1);
  let top = -1;
  for (let k = 0; k < n; k++) {
    const o = sorted[k];
    best[k] = o.seg.text.length;
    for (let j = 0; j < k; j++) {
      const q = sorted[j];
      if (q.seg.index < o.seg.index && q.at + q.seg.text.length <= o.at && best[j] + o.seg.text.length > best[k]) {
        best[k] = best[j] + o.seg.text.length;
        prev[k] = j;
      }
    }
    if (top < 0 || best[k] > best[top]) top = k;
  }
  const out: Occurrence[] = [];
  for (let k = top; k >= 0; k = prev[k]) out.push(sorted[k]);
  return out.reverse();
}

interface Hit {
  /** Offset in the template. */
  readonly offset: number;
  readonly inTag: boolean;
  /** When the position is in a tag's output: the stretch of output the tag produced (an estimate). */
  readonly region?: readonly [number, number];
  /** Characters of static text aligned: how well this template explains the output. */
  readonly weight: number;
}

/** Locates `pos` (in `out[from, to)`) inside `tpl`, or null when the template explains nothing near it. */
function locateIn(tpl: string, out: string, pos: number, from: number, to: number): Hit | null {
  const { segments, tags } = lexTemplate(tpl);
  const occ = occurrences(segments, out, from, to);
  const ch = chain(occ);
  const weight = ch.reduce((s, o) => s + o.seg.text.length, 0);
  const inside = (o: Occurrence) => o.at <= pos && pos < o.at + o.seg.text.length;
  const c = ch.find(inside);
  if (c) return { offset: c.seg.start + (pos - c.at), inTag: false, weight };
  let before: Occurrence | undefined;
  let after: Occurrence | undefined;
  for (const o of ch) {
    if (o.at + o.seg.text.length <= pos) before = o;
    else if (o.at > pos && !after) after = o;
  }
  const lo = before?.seg.index ?? -1;
  const hi = after?.seg.index ?? segments.length;
  // A repeated segment (a loop body) or one the chain passed over.
  const others = occ.filter(inside).sort((a, b) => {
    const ra = a.seg.index >= lo && a.seg.index <= hi ? 0 : 1;
    const rb = b.seg.index >= lo && b.seg.index <= hi ? 0 : 1;
    return ra - rb || b.seg.text.length - a.seg.text.length;
  });
  if (others.length) return { offset: others[0].seg.start + (pos - others[0].at), inTag: false, weight };
  if (!ch.length) return null;
  // Output of a tag between the two neighbouring static segments (or a loop repeating them).
  const tFrom = before ? before.seg.start + before.seg.text.length : 0;
  const tTo = after ? after.seg.start : tpl.length;
  const between = tags.filter((t) => t.start >= tFrom && t.end <= tTo);
  const region: [number, number] = [before ? before.at + before.seg.text.length : from, after ? after.at : to];
  // Nearest static occurrence of any kind before pos: a loop's tag sits after it in the template.
  const near = occ.filter((o) => o.at + o.seg.text.length <= pos).sort((a, b) => b.at - a.at)[0];
  const loopTags = near ? tags.filter((t) => t.start >= near.seg.start + near.seg.text.length && t.kind === '{{') : [];
  const exprs = between.filter((t) => t.kind === '{{');
  const tag = (exprs.length > 1 ? ownerTag(tpl, exprs, out, pos, region) : undefined) ?? exprs[0] ?? (near && near !== before ? loopTags[0] : undefined) ?? between[0];
  if (!tag) return { offset: tFrom, inTag: true, region, weight };
  return { offset: tag.start, inTag: true, region, weight };
}

/**
 * Which of several `{{ }}` tags with no static text between them but
 * whitespace (`{{ a }} {{ b }}`, `{{ a }}{{ b }}`) produced `pos`, which lies
 * in `out[region)`: each tag's output is delimited by a hint — the last
 * string literal of its expression (`ref('orders')` → `orders`) or its
 * last identifier (`{{ cols }}` → `cols`), when the output holds it — and
 * by the whitespace written between the tags. Undefined when the output
 * cannot be cut with certainty (then the caller names the first tag).
 */
function ownerTag(tpl: string, tags: readonly Tag[], out: string, pos: number, region: readonly [number, number]): Tag | undefined {
  const [from, to] = region;
  const text = out.slice(from, to);
  let cursor = text.search(/\S/);
  if (cursor < 0) return undefined;
  const at = pos - from;
  const hints = tags.map((t) => {
    const body = tpl.slice(t.start + 2, t.end - 2);
    const lits = [...body.matchAll(/'([^'\\]+)'|"([^"\\]+)"/g)].map((m) => m[1] ?? m[2]);
    if (lits.length) return lits[lits.length - 1];
    const ids = body.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
    return ids.length === 1 ? ids[0] : undefined;
  });
  // Whitespace runs in the output equal to the gaps that are whitespace: then the gaps cut the output.
  const wsGaps = tags.slice(0, -1).map((t, k) => {
    const gap = tpl.slice(t.end, tags[k + 1].start);
    const stripped = /-\}\}$/.test(tpl.slice(t.start, t.end)) || /^\{\{-/.test(tpl.slice(tags[k + 1].start, tags[k + 1].end));
    return gap.length > 0 && !/\S/.test(gap) && !stripped;
  });
  const runs = (text.trim().match(/\s+/g) ?? []).length;
  const gapsCut = wsGaps.every(Boolean) && runs === wsGaps.length;
  for (let k = 0; k < tags.length - 1; k++) {
    let end = -1;
    const h = hints[k];
    const hit = h ? text.indexOf(h, cursor) : -1;
    if (gapsCut) {
      const m = /\s+/.exec(text.slice(cursor));
      if (!m) return undefined;
      end = cursor + m.index;
      cursor = end + m[0].length;
    } else if (hit >= 0) {
      // The tag's output ends after its hint and the quote that closes it (`"orders"`).
      end = hit + h!.length + (/^["`\]]/.test(text.slice(hit + h!.length)) ? 1 : 0);
      cursor = end;
      while (cursor < text.length && /\s/.test(text[cursor])) cursor++;
    } else return undefined;
    if (at < end) return tags[k];
  }
  return tags[tags.length - 1];
}

/**
 * Where rendered position `pos` of `out` came from: `root` (the node's own
 * file) first; when the position lies in a tag's output, each of `called`
 * (macros, ephemeral models) is tried on that stretch of output, deepest
 * explanation first (up to 4 levels). Returns null when even `root` explains
 * nothing (e.g. a generic test, whose file is one `{{ test_x(...) }}` call:
 * then `called` are tried on the whole output).
 */
export function locateRendered(out: string, pos: number, root: MapTemplate, called: readonly MapTemplate[]): TemplateLocation | null {
  const seek = (tpl: MapTemplate, from: number, to: number, depth: number, via: TemplateLocation['via']): TemplateLocation | null => {
    const hit = locateIn(tpl.text, out, pos, from, to);
    if (!hit) return null;
    const here = toLocation(tpl, hit.offset, hit.inTag, via);
    if (!hit.inTag || depth >= 4) return here;
    const [a, b] = hit.region ?? [from, to];
    const deeper = bestOf(called.filter((c) => c !== tpl), a, b, depth + 1, [{ label: tpl.label, file: tpl.file, line: here.line }, ...via]);
    return deeper ?? here;
  };
  const bestOf = (cands: readonly MapTemplate[], a: number, b: number, depth: number, via: TemplateLocation['via']): TemplateLocation | null => {
    let best: { loc: TemplateLocation; w: number; tag: boolean } | null = null;
    for (const c of cands) {
      const hit = locateIn(c.text, out, pos, a, b);
      if (!hit || hit.weight < 3) continue;
      // A template whose own text holds the position beats one that only produced it through a tag.
      if (!best || (best.tag && !hit.inTag) || (best.tag === hit.inTag && hit.weight > best.w)) {
        best = { loc: toLocation(c, hit.offset, hit.inTag, via), w: hit.weight, tag: hit.inTag };
        if (hit.inTag && depth < 4) {
          const d = seek(c, a, b, depth, via);
          if (d) best.loc = d;
        }
      }
    }
    return best?.loc ?? null;
  };
  return seek(root, 0, out.length, 0, []) ?? bestOf(called, 0, out.length, 1, [{ label: root.label, file: root.file, line: root.line }]);
}

function toLocation(tpl: MapTemplate, offset: number, inTag: boolean, via: TemplateLocation['via']): TemplateLocation {
  const lc = lineColumnAt(tpl.text, offset);
  const start = tpl.text.lastIndexOf('\n', offset - 1) + 1;
  const nl = tpl.text.indexOf('\n', offset);
  const lineText = tpl.text.slice(start, nl < 0 ? tpl.text.length : nl).replace(/\r$/, '');
  return {
    file: tpl.file,
    line: tpl.line + lc.line - 1,
    column: lc.line === 1 ? tpl.column + lc.column - 1 : lc.column,
    lineText: lc.line === 1 && tpl.column > 1 ? ' '.repeat(tpl.column - 1) + lineText : lineText,
    inTag,
    via,
  };
}
