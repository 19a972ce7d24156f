/**
 * A light scanner for dbt's top-level blocks (`{% macro %}`, `{% test %}`,
 * `{% docs %}`, `{% snapshot %}`, `{% materialization %}`), like dbt's
 * `extract_toplevel_blocks`: it finds where each block starts and ends
 * without parsing the Jinja inside, so a `.md` docs file with stray braces
 * or a macro file with top-level text is still read the way dbt reads it.
 */
import { TsdbtError, lineColumnAt } from '../errors.ts';

/** One top-level block found in a file. Offsets are 0-based into the source. */
export interface TopLevelBlock {
  /** Tag name as written: 'macro', 'test', 'data_test', 'docs', 'snapshot', 'materialization'. */
  readonly tag: string;
  /** The block's name (`orders` in `{% docs orders %}`), '' if none was written. */
  readonly name: string;
  /** Text after the name in the opening tag, e.g. `(model, column_name)` or `, adapter='postgres'`. */
  readonly rest: string;
  /** Offset of the opening `{%`. */
  readonly start: number;
  /** Offset just after the closing `%}` of the end tag. */
  readonly end: number;
  /** Offsets of the body (between the opening tag's `%}` and the end tag's `{%`). */
  readonly bodyStart: number;
  readonly bodyEnd: number;
  /** 1-based line and column of the opening `{%`. */
  readonly line: number;
  readonly column: number;
}

const BLOCK_TAGS = new Set(['macro', 'test', 'data_test', 'docs', 'snapshot', 'materialization']);

/** Index just after `endTok` (`%}` or `}}`), skipping quoted strings and nested `{…}`; -1 if missing. */
function skipCode(src: string, from: number, endTok: '%}' | '}}'): number {
  let depth = 0;
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'") {
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === '\\') i++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && depth > 0) depth--;
    else if (c === endTok[0] && src[i + 1] === '}' && depth === 0) return i + 2;
  }
  return -1;
}

/** Regex for a raw-content end tag such as `{% endraw %}` / `{%- enddocs -%}`. */
function endTagRe(tag: string): RegExp {
  return new RegExp(`\\{%-?\\s*end${tag}\\s*-?%\\}`, 'g');
}

/**
 * Finds the top-level blocks of a file. Everything else (text, `{{ }}`,
 * `{# #}`, other tags) is skipped. A block that is never closed is reported
 * as a TsdbtError `jinja-syntax` at its opening tag.
 */
export function findTopLevelBlocks(source: string, file: string): TopLevelBlock[] {
  const blocks: TopLevelBlock[] = [];
  const stack: { tag: string; name: string; rest: string; start: number; bodyStart: number }[] = [];
  let i = 0;
  const n = source.length;
  while (i < n) {
    const j = source.indexOf('{', i);
    if (j < 0 || j + 1 >= n) break;
    const c = source[j + 1];
    if (c === '#') {
      const k = source.indexOf('#}', j + 2);
      if (k < 0) break;
      i = k + 2;
      continue;
    }
    if (c === '{') {
      const k = skipCode(source, j + 2, '}}');
      if (k < 0) break;
      i = k;
      continue;
    }
    if (c !== '%') {
      i = j + 1;
      continue;
    }
    const tagEnd = skipCode(source, j + 2, '%}');
    if (tagEnd < 0) break;
    let inner = source.slice(j + 2, tagEnd - 2);
    if (inner.startsWith('-') || inner.startsWith('+')) inner = inner.slice(1);
    if (inner.endsWith('-') || inner.endsWith('+')) inner = inner.slice(0, -1);
    inner = inner.trim();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(inner)?.[0] ?? '';
    i = tagEnd;
    if (word === 'raw' || word === 'docs') {
      // Raw content: jump to the matching end tag without reading the body.
      const re = endTagRe(word);
      re.lastIndex = tagEnd;
      const m = re.exec(source);
      if (!m) {
        const { line, column } = lineColumnAt(source, j);
        throw new TsdbtError('jinja-syntax', `{% ${word} %} block in ${file} is never closed with {% end${word} %}`, {
          file,
          line,
          column,
          hint: `Add {% end${word} %} after the block's content.`,
        });
      }
      if (word === 'docs' && stack.length === 0) {
        const { line, column } = lineColumnAt(source, j);
        const head = inner.slice(word.length).trim();
        const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(head)?.[0] ?? '';
        blocks.push({ tag: 'docs', name, rest: head.slice(name.length), start: j, end: m.index + m[0].length, bodyStart: tagEnd, bodyEnd: m.index, line, column });
      }
      i = m.index + m[0].length;
      continue;
    }
    if (BLOCK_TAGS.has(word)) {
      const head = inner.slice(word.length).trim();
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(head)?.[0] ?? '';
      stack.push({ tag: word, name, rest: head.slice(name.length).trim(), start: j, bodyStart: tagEnd });
      continue;
    }
    const top = stack[stack.length - 1];
    if (top && word === 'end' + top.tag) {
      stack.pop();
      if (stack.length === 0) {
        const { line, column } = lineColumnAt(source, top.start);
        blocks.push({ tag: top.tag, name: top.name, rest: top.rest, start: top.start, end: tagEnd, bodyStart: top.bodyStart, bodyEnd: j, line, column });
      }
    }
  }
  if (stack.length > 0) {
    const open = stack[0];
    const { line, column } = lineColumnAt(source, open.start);
    throw new TsdbtError('jinja-syntax', `{% ${open.tag} ${open.name} %} in ${file} is never closed with {% end${open.tag} %}`, {
      file,
      line,
      column,
      hint: `Add {% end${open.tag} %} at the end of the ${open.tag} block.`,
    });
  }
  return blocks;
}

/**
 * Keeps only the given blocks of a file and turns every other character into
 * a space (newlines kept), so line and column numbers stay those of the
 * user's file. This mirrors dbt, which reads only the blocks of a macro file.
 */
export function keepOnlyBlocks(source: string, blocks: readonly TopLevelBlock[]): string {
  let out = '';
  let pos = 0;
  for (const b of blocks) {
    out += source.slice(pos, b.start).replace(/[^\r\n]/g, ' ');
    out += source.slice(b.start, b.end);
    pos = b.end;
  }
  return out + source.slice(pos).replace(/[^\r\n]/g, ' ');
}

/** A macro argument as written: `name` or `name=default` (the default's source text). */
export interface MacroArgumentSpec {
  readonly name: string;
  readonly default?: string;
}

/** Splits `(a, b='x', c=[1, 2])` into arguments, respecting quotes and brackets. */
export function parseMacroSignature(rest: string): MacroArgumentSpec[] {
  const open = rest.indexOf('(');
  if (open < 0) return [];
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = open + 1; i < rest.length; i++) {
    const c = rest[i];
    if (c === '"' || c === "'") {
      let k = i + 1;
      for (; k < rest.length && rest[k] !== c; k++) if (rest[k] === '\\') k++;
      cur += rest.slice(i, k + 1);
      i = k;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) break;
      depth--;
    }
    if (c === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim()) parts.push(cur);
  return parts
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const eq = p.indexOf('=');
      if (eq < 0) return { name: p };
      return { name: p.slice(0, eq).trim(), default: p.slice(eq + 1).trim() };
    });
}

/** A `{% docs name %}…{% enddocs %}` block. */
export interface DocBlock {
  readonly name: string;
  /** The block's text, trimmed, as dbt stores `block_contents`. */
  readonly contents: string;
  /** 1-based line of the `{% docs %}` tag. */
  readonly line: number;
}

/**
 * Returns the `{% docs %}` blocks of a file (a `.md` file under docs-paths,
 * or any other file), as dbt's documentation parser reads them.
 * Throws TsdbtError `jinja-syntax` for an unclosed block and `docs-block-name`
 * for a docs block without a name.
 */
export function extractDocBlocks(source: string, file: string): DocBlock[] {
  if (!source.includes('docs')) return [];
  return findTopLevelBlocks(source, file)
    .filter((b) => b.tag === 'docs')
    .map((b) => {
      if (!b.name) {
        throw new TsdbtError('docs-block-name', `{% docs %} block in ${file} has no name`, {
          file,
          line: b.line,
          column: b.column,
          hint: 'Write the block as {% docs my_name %}…{% enddocs %}.',
        });
      }
      return { name: b.name, contents: source.slice(b.bodyStart, b.bodyEnd).trim(), line: b.line };
    });
}

/** A `{% snapshot name %}…{% endsnapshot %}` block, body as written (not rendered). */
export interface SnapshotBlock {
  readonly name: string;
  readonly body: string;
  /** 1-based line of the `{% snapshot %}` tag. */
  readonly line: number;
  /** 1-based line where the body starts (the line of the opening tag's `%}`). */
  readonly bodyLine: number;
}

/** Returns the `{% snapshot %}` blocks of a file (dbt's snapshots are files with one such block). */
export function extractSnapshotBlocks(source: string, file: string): SnapshotBlock[] {
  if (!source.includes('snapshot')) return [];
  return findTopLevelBlocks(source, file)
    .filter((b) => b.tag === 'snapshot')
    .map((b) => ({ name: b.name, body: source.slice(b.bodyStart, b.bodyEnd), line: b.line, bodyLine: lineColumnAt(source, b.bodyStart).line }));
}

const PAIRED_TAGS = new Set(['if', 'for', 'macro', 'call', 'filter', 'set', 'test', 'data_test', 'snapshot', 'materialization', 'block', 'switch']);

/**
 * The innermost block tag left open at the end of `source` (`{% if %}`
 * without `{% endif %}`…), for syntax errors that nunjucks reports only as
 * "end of file". Undefined if every block is closed.
 */
export function findUnclosedBlock(source: string): { tag: string; line: number; column: number } | undefined {
  const stack: { tag: string; at: number }[] = [];
  const re = /\{%[-+]?\s*([A-Za-z_]\w*)([\s\S]*?)[-+]?%\}|\{#[\s\S]*?#\}/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(source))) {
    const word = m[1];
    if (!word) continue;
    if (word === 'raw' || word === 'docs') {
      const end = endTagRe(word);
      end.lastIndex = re.lastIndex;
      const e = end.exec(source);
      if (!e) {
        stack.push({ tag: word, at: m.index });
        break;
      }
      re.lastIndex = e.index + e[0].length;
      continue;
    }
    if (word === 'set' && /=/.test(m[2].replace(/(["'])(?:\\.|(?!\1).)*\1/g, ''))) continue;
    if (PAIRED_TAGS.has(word)) stack.push({ tag: word, at: m.index });
    else if (word.startsWith('end')) {
      const k = stack.map((s) => s.tag).lastIndexOf(word.slice(3));
      if (k >= 0) stack.length = k;
    }
  }
  const open = stack[stack.length - 1];
  if (!open) return undefined;
  return { tag: open.tag, ...lineColumnAt(source, open.at) };
}
