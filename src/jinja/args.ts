/**
 * Keyword arguments as nunjucks passes them to JavaScript functions.
 *
 * A template call `config(materialized='table', tags=['a'])` reaches a JS
 * function as one trailing object marked `__keywords: true`:
 * `config({ materialized: 'table', tags: ['a'], __keywords: true })`.
 * Functions that tsdbt exposes to templates (ref, source, config, var, …)
 * use {@link splitArgs} to read Python-style positional and keyword args.
 */

/** True when `v` is nunjucks' keyword-argument object. */
export function isKeywordArgs(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.prototype.hasOwnProperty.call(v, '__keywords');
}

/**
 * Splits a JS function's `arguments` into Python-style positional args and
 * keyword args (the `__keywords` marker removed).
 *
 * @example splitArgs(['orders', { version: 2, __keywords: true }])
 *   // → { positional: ['orders'], kwargs: { version: 2 } }
 */
export function splitArgs(args: ArrayLike<unknown>): { positional: unknown[]; kwargs: Record<string, unknown> } {
  const n = args.length;
  if (n > 0 && isKeywordArgs(args[n - 1])) {
    const kwargs: Record<string, unknown> = {};
    const last = args[n - 1] as Record<string, unknown>;
    for (const k of Object.keys(last)) if (k !== '__keywords') kwargs[k] = last[k];
    return { positional: Array.prototype.slice.call(args, 0, n - 1), kwargs };
  }
  return { positional: Array.prototype.slice.call(args), kwargs: {} };
}

/**
 * Builds the argument list for calling a template macro from JS: positional
 * args followed by a nunjucks keyword-args object (only when `kwargs` has keys).
 */
export function toNunjucksArgs(args: readonly unknown[], kwargs: Record<string, unknown> = {}): unknown[] {
  const keys = Object.keys(kwargs);
  if (keys.length === 0) return [...args];
  return [...args, { ...kwargs, __keywords: true }];
}

/**
 * Reads Python-style parameters: `param(args, ['msg', 'info'], {info: false})`
 * returns the named values, positional first, keyword overriding.
 */
export function readParams(args: ArrayLike<unknown>, names: readonly string[], defaults: Record<string, unknown> = {}): Record<string, unknown> {
  const { positional, kwargs } = splitArgs(args);
  const out: Record<string, unknown> = { ...defaults };
  names.forEach((name, i) => {
    if (i < positional.length) out[name] = positional[i];
    if (Object.prototype.hasOwnProperty.call(kwargs, name)) out[name] = kwargs[name];
  });
  return out;
}
