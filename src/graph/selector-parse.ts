/**
 * Parses dbt's node selection syntax into an AST, once, before anything is
 * evaluated (see select.ts). Mirrors dbt-core's `SelectionCriteria` /
 * `parse_union`: words separated by spaces are a union, words joined by
 * commas an intersection, and each part is
 *
 *     [@][N+][method[.arg…]:]value[+N]
 *
 * A bad selector throws TsdbtError `bad-selector` naming the offending text.
 */
import { TsdbtError } from '../errors.ts';
import { closestNames } from '../closest-names.ts';

/** Selector methods tsdbt understands (dbt's `MethodName`). */
export const SELECTOR_METHODS = [
  'fqn',
  'tag',
  'path',
  'file',
  'source',
  'package',
  'config',
  'resource_type',
  'test_name',
  'test_type',
  'state',
  'result',
  'source_status',
  'group',
  'access',
  'version',
  'exposure',
  'metric',
  'semantic_model',
  'saved_query',
  'unit_test',
] as const;

export type SelectorMethodName = (typeof SELECTOR_METHODS)[number];

/** dbt resource types accepted by `resource_type:` (dbt's NodeType values). */
export const RESOURCE_TYPES = [
  'model',
  'seed',
  'test',
  'snapshot',
  'analysis',
  'source',
  'operation',
  'exposure',
  'metric',
  'saved_query',
  'semantic_model',
  'unit_test',
  'macro',
  'doc',
  'group',
  'function',
] as const;

const STATE_VALUES = ['new', 'modified', 'old', 'unmodified'];
const STATE_MODIFIED_SUBS = ['body', 'configs', 'relation', 'persisted_descriptions', 'macros', 'contract'];
const TEST_TYPES = ['generic', 'singular', 'data', 'unit', 'schema'];

/** One selection criterion, e.g. `2+tag:nightly+1`. */
export interface SelectorCriterion {
  readonly kind: 'criterion';
  /** The text as written. */
  readonly raw: string;
  readonly method: SelectorMethodName;
  /** Dotted arguments after the method: `config.materialized` → `['materialized']`. */
  readonly methodArgs: readonly string[];
  /** True when no method was written and it was inferred (fqn, path or file). */
  readonly defaultMethod: boolean;
  readonly value: string;
  /** `+m` / `N+m`: ancestors, `parentsDepth` generations deep (null = all). */
  readonly parents: boolean;
  readonly parentsDepth: number | null;
  /** `m+` / `m+N`: descendants, `childrenDepth` generations deep (null = all). */
  readonly children: boolean;
  readonly childrenDepth: number | null;
  /** `@m`: m, its descendants, and every ancestor of those. */
  readonly childrensParents: boolean;
}

/** Comma-joined criteria: nodes matching all of them. */
export interface SelectorIntersection {
  readonly kind: 'intersection';
  readonly raw: string;
  readonly items: readonly SelectorCriterion[];
}

/** Space-separated words: nodes matching any of them. */
export interface SelectorUnion {
  readonly kind: 'union';
  readonly raw: string;
  readonly items: readonly SelectorIntersection[];
}

const METHOD_LIST = SELECTOR_METHODS.join(', ');
const GENERAL_HINT =
  `write [@][N+][method:]value[+N], e.g. "stg_orders+", "+tag:nightly", "2+path:models/marts", "@orders"; ` +
  `methods: ${METHOD_LIST}`;

function bad(raw: string, reason: string, hint: string = GENERAL_HINT): TsdbtError {
  return new TsdbtError('bad-selector', `Invalid selector "${raw}": ${reason}`, { hint, kind: 'project' });
}

// [@][digits+][method:]value[+digits]; the value is lazy so a trailing +N is taken as the operator.
const CRITERION = /^(@)?(?:(\d*)\+)?(?:([A-Za-z_][\w.]*):)?(.*?)(?:\+(\d*))?$/s;

function hasGlob(s: string): boolean {
  return /[*?[\]]/.test(s);
}

/**
 * Parses one criterion (no spaces or commas), e.g. `+config.materialized:table+1`.
 * Throws TsdbtError `bad-selector`.
 */
export function parseCriterion(raw: string): SelectorCriterion {
  const m = CRITERION.exec(raw);
  if (!m) throw bad(raw, 'it is not of the form [@][N+][method:]value[+N]');
  const [, at, parentsDepthText, methodText, value = '', childrenDepthText] = m;
  const childrensParents = at !== undefined;
  const parents = parentsDepthText !== undefined;
  const children = childrenDepthText !== undefined;

  if (value === '') {
    throw bad(raw, methodText ? `the method "${methodText}" has no value after ":"` : 'nothing to select');
  }
  if (value.includes('+')) {
    throw bad(
      raw,
      '"+" can only appear at the start (ancestors: +m, 2+m) or the end (descendants: m+, m+1)',
      'put the graph operator at the start or end of the selector, e.g. "+stg_orders" or "stg_orders+1"',
    );
  }
  if (value.includes('@')) {
    throw bad(raw, '"@" can only appear at the very start (e.g. "@stg_orders")');
  }
  if (childrensParents && children) {
    throw bad(raw, 'the "@" prefix and a "+" suffix cannot be used together', 'use "@m" alone: it already includes every descendant of m');
  }

  let method: SelectorMethodName;
  let methodArgs: string[] = [];
  let defaultMethod = false;
  if (methodText === undefined) {
    defaultMethod = true;
    if (value.includes('/') || value.includes('\\')) method = 'path';
    else if (/\.(sql|py|csv)$/i.test(value)) method = 'file';
    else method = 'fqn';
  } else {
    const parts = methodText.split('.');
    const name = parts[0]!;
    if (!(SELECTOR_METHODS as readonly string[]).includes(name)) {
      const near = closestNames(name, SELECTOR_METHODS, 2);
      throw bad(
        raw,
        `"${name}" is not a valid selector method`,
        `${near.length ? `did you mean ${near.map((n) => `"${n}:"`).join(' or ')}? ` : ''}valid methods: ${METHOD_LIST}`,
      );
    }
    method = name as SelectorMethodName;
    methodArgs = parts.slice(1);
    if (methodArgs.some((a) => a === '')) throw bad(raw, `"${methodText}" has an empty part between dots`);
    if (method === 'config' && methodArgs.length === 0) {
      throw bad(raw, 'the config method needs a key', 'write config.<key>:<value>, e.g. "config.materialized:incremental"');
    }
    if (method !== 'config' && methodArgs.length > 0) {
      throw bad(raw, `the "${method}" method takes no ".${methodArgs.join('.')}" argument`);
    }
  }
  validateValue(raw, method, value);

  const depth = (t: string | undefined): number | null => (t === undefined || t === '' ? null : Number.parseInt(t, 10));
  return {
    kind: 'criterion',
    raw,
    method,
    methodArgs,
    defaultMethod,
    value,
    parents,
    parentsDepth: depth(parentsDepthText),
    children,
    childrenDepth: depth(childrenDepthText),
    childrensParents,
  };
}

function validateValue(raw: string, method: SelectorMethodName, value: string): void {
  switch (method) {
    case 'test_type':
      if (!TEST_TYPES.includes(value)) {
        throw bad(raw, `"${value}" is not a test type`, 'use test_type:generic, test_type:singular, test_type:data or test_type:unit');
      }
      return;
    case 'resource_type':
      if (!(RESOURCE_TYPES as readonly string[]).includes(value)) {
        const near = closestNames(value, RESOURCE_TYPES, 2);
        throw bad(
          raw,
          `"${value}" is not a resource type`,
          `${near.length ? `did you mean "resource_type:${near[0]}"? ` : ''}resource types: ${RESOURCE_TYPES.join(', ')}`,
        );
      }
      return;
    case 'state': {
      const [head, sub, ...rest] = value.split('.');
      const ok =
        STATE_VALUES.includes(head!) &&
        rest.length === 0 &&
        (sub === undefined || (head === 'modified' && STATE_MODIFIED_SUBS.includes(sub)));
      if (!ok) {
        throw bad(
          raw,
          `"${value}" is not a state selector`,
          `use state:new, state:old, state:unmodified, state:modified or state:modified.<${STATE_MODIFIED_SUBS.join('|')}>`,
        );
      }
      return;
    }
    case 'source':
      if (value.split('.').length > 3) {
        throw bad(raw, 'a source selector has at most three parts', 'write source:<source_name>, source:<source_name>.<table_name> or source:<package>.<source_name>.<table_name>');
      }
      return;
    default:
      if (hasGlob(value) && /\[[^\]]*$/.test(value)) throw bad(raw, 'an unclosed "[" in a wildcard pattern');
  }
}

/**
 * Parses selector text as given to `--select` / `--exclude`: each argument
 * may hold several space-separated words (a union); commas inside a word
 * form an intersection. `parseSelector(['a b', 'c,d'])` is
 * union(a, b, intersection(c, d)). An empty input gives an empty union.
 * Throws TsdbtError `bad-selector`.
 */
export function parseSelector(text: string | readonly string[]): SelectorUnion {
  const args = typeof text === 'string' ? [text] : text;
  const words = args.flatMap((a) => a.split(/\s+/)).filter((w) => w !== '');
  const items: SelectorIntersection[] = words.map((word) => {
    const parts = word.split(',');
    if (parts.some((p) => p === '')) {
      throw bad(word, 'an empty part around ","', 'join criteria with single commas and no spaces, e.g. "tag:nightly,config.materialized:table"');
    }
    return { kind: 'intersection', raw: word, items: parts.map(parseCriterion) };
  });
  return { kind: 'union', raw: words.join(' '), items };
}
