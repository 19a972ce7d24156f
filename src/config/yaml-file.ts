/**
 * Reading YAML the way dbt (PyYAML `safe_load`) reads it, while keeping the
 * line of every key and list item for messages.
 *
 * Schema: YAML 1.2 core plus PyYAML's 1.1 booleans (`yes`/`no`/`on`/`off`),
 * with timestamps left as strings (`2020-01-01` stays the text a user wrote,
 * which is also what dbt prints when it renders a date var). Duplicate keys are
 * a `yaml-syntax` error (dbt 1.10 warns; a duplicate key is always a mistake).
 */
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode, ScalarTag } from 'yaml';
import { TsdbtError } from '../errors.ts';

/** PyYAML's YAML 1.1 booleans that YAML 1.2 reads as strings. */
const yaml11Bool: ScalarTag = {
  tag: 'tag:yaml.org,2002:bool',
  default: true,
  test: /^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/,
  resolve: (s: string) => /^(?:yes|on)$/i.test(s),
};

/** A parsed YAML file: its data as plain JS plus what is needed to point at lines. */
export interface YamlFile {
  /** Path used in messages (project-relative where possible). */
  readonly file: string;
  readonly abs: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
  /** `doc.toJS()`: plain objects, arrays and scalars. `null` for an empty file. */
  readonly data: unknown;
}

/**
 * Parses YAML text. Throws TsdbtError `yaml-syntax` (file, 1-based line and
 * column of the first error) when the text is not valid YAML.
 */
export function parseYaml(text: string, file: string, abs = file): YamlFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: true,
    customTags: (tags) => [yaml11Bool, ...(tags as ScalarTag[])],
  });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const pos = err.linePos?.[0];
    // The yaml package appends a code excerpt after the first line; keep only the sentence.
    let first = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    let hint = 'fix the YAML syntax at this line (indentation, a missing colon, or an unclosed quote or bracket)';
    let line = pos?.line;
    let column = pos?.col;
    const quote = /^Missing closing (["'])quote/.exec(first);
    if (err.code === 'MISSING_CHAR' && quote) {
      // The yaml package points at the end of the file; the opening quote is more useful.
      const open = text.lastIndexOf(quote[1], err.pos[0] - 1);
      if (open >= 0) {
        ({ line, col: column } = lineCounter.linePos(open));
        first = `a ${quote[1] === '"' ? 'double' : 'single'}-quoted value starting here is never closed`;
        hint = `add the closing ${quote[1]} at the end of the value`;
      }
    }
    const flow = /end with an? ([\]}])/.exec(first);
    if (flow) {
      const opener = flow[1] === ']' ? '[' : '{';
      const open = text.lastIndexOf(opener, err.pos[0] - 1);
      if (open >= 0) {
        ({ line, col: column } = lineCounter.linePos(open));
        first = `the ${opener} opened here is never closed with ${flow[1]}`;
        hint = `close it with ${flow[1]} on the same line, or write the ${opener === '[' ? 'list as "- item" lines' : 'mapping as "key: value" lines'}`;
      }
    }
    if (err.code === 'DUPLICATE_KEY') {
      const rest = text.slice(err.pos[0]);
      const key = (/^\s*([^:\n]+?)\s*:/.exec(rest)?.[1] ?? text.slice(err.pos[0], err.pos[1])).trim().replace(/^['"]|['"]$/g, '');
      first = `the key '${key}' appears twice in the same mapping`;
      hint = `keep one '${key}' (YAML keeps only the last one, which hides the first)`;
    }
    throw new TsdbtError('yaml-syntax', `invalid YAML in ${file}: ${first}`, { file, line, column, hint });
  }
  const data = doc.toJS({ maxAliasCount: 10_000 }) ?? null;
  return { file, abs, text, doc, lineCounter, data };
}

/** Reads and parses a YAML file; see {@link parseYaml}. The caller checks existence. */
export function readYamlFile(abs: string, file: string): YamlFile {
  return parseYaml(readFileSync(abs, 'utf8'), file, abs);
}

/** 1-based line of a 0-based offset. */
export function lineAt(yf: YamlFile, offset: number): number {
  return yf.lineCounter.linePos(offset).line;
}

/**
 * The YAML node at `path` (map keys and sequence indexes) and the line where
 * it starts: for a map entry, the line of its key; for a list item, its first
 * line. Returns undefined when the path does not exist.
 */
export function nodeAt(yf: YamlFile, path: readonly (string | number)[]): { node: YamlNode | null; line: number } | undefined {
  let node: unknown = yf.doc.contents;
  let line = node && (node as YamlNode).range ? lineAt(yf, (node as YamlNode).range![0]) : 1;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return undefined;
      const key = pair.key as YamlNode;
      line = key.range ? lineAt(yf, key.range[0]) : line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as YamlNode | undefined;
      if (item === undefined) return undefined;
      if (item && item.range) line = lineAt(yf, item.range[0]);
      node = item;
    } else {
      return undefined;
    }
  }
  return { node: (node as YamlNode) ?? null, line };
}

/** 1-based line of the entry at `path`, or of its closest existing ancestor. */
export function lineOf(yf: YamlFile, path: readonly (string | number)[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const hit = nodeAt(yf, path.slice(0, n));
    if (hit) return hit.line;
  }
  return undefined;
}

/**
 * Line of every key of the mapping at `path`: `{ key: line }`. Empty when the
 * path is not a mapping. Used to point warnings at config keys.
 */
export function keyLines(yf: YamlFile, path: readonly (string | number)[]): Record<string, number> {
  const hit = nodeAt(yf, path);
  const out: Record<string, number> = {};
  if (!hit || !isMap(hit.node)) return out;
  for (const p of hit.node.items) {
    if (isPair(p) && isScalar(p.key) && (p.key as YamlNode).range) {
      out[String(p.key.value)] = lineAt(yf, (p.key as YamlNode).range![0]);
    }
  }
  return out;
}

/** True for a plain (non-array, non-null) object. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
