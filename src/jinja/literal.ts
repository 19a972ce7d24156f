/**
 * A small reader for Python literals (`ast.literal_eval` for the cases dbt
 * meets): numbers, quoted strings, True/False/None, lists, tuples and dicts.
 * Used by dbt's `as_native`/`as_bool`/`as_number` filters.
 */

/** Parses `text` as a Python literal; returns `text` unchanged if it is not one. */
export function parseLiteral(text: string): unknown {
  let i = 0;
  const s = text.trim();
  const ws = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  const fail = (): never => {
    throw new SyntaxError('not a literal');
  };
  const value = (): unknown => {
    ws();
    const c = s[i];
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      i++;
      const out: unknown[] = [];
      ws();
      while (s[i] !== close) {
        out.push(value());
        ws();
        if (s[i] === ',') i++;
        else if (s[i] !== close) fail();
        ws();
      }
      i++;
      return out;
    }
    if (c === '{') {
      i++;
      const out: Record<string, unknown> = {};
      ws();
      while (s[i] !== '}') {
        const k = value();
        ws();
        if (s[i] !== ':') fail();
        i++;
        out[String(k)] = value();
        ws();
        if (s[i] === ',') i++;
        else if (s[i] !== '}') fail();
        ws();
      }
      i++;
      return out;
    }
    if (c === '"' || c === "'") {
      let out = '';
      for (i++; i < s.length && s[i] !== c; i++) {
        if (s[i] === '\\') {
          i++;
          const e = s[i];
          out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
        } else out += s[i];
      }
      if (s[i] !== c) fail();
      i++;
      return out;
    }
    const m = /^(True|False|None|true|false|null|[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)/.exec(s.slice(i));
    if (!m) return fail();
    i += m[0].length;
    if (m[0] === 'True' || m[0] === 'true') return true;
    if (m[0] === 'False' || m[0] === 'false') return false;
    if (m[0] === 'None' || m[0] === 'null') return null;
    return Number(m[0]);
  };
  try {
    const v = value();
    ws();
    return i === s.length ? v : text;
  } catch {
    return text;
  }
}
