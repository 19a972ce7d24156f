/**
 * Shell-style wildcard matching as dbt does it with Python's `fnmatch`
 * (case-sensitive): `*` any run of characters, `?` one character,
 * `[abc]` / `[!abc]` a character class.
 */

const cache = new Map<string, RegExp>();

function toRegExp(pattern: string, pathMode: boolean): RegExp {
  const key = (pathMode ? 'p:' : 'f:') + pattern;
  let re = cache.get(key);
  if (re) return re;
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      if (pathMode && pattern[i + 1] === '*') {
        // `**/` matches zero or more directories; a bare `**` anything.
        if (pattern[i + 2] === '/') {
          src += '(?:.*/)?';
          i += 2;
        } else {
          src += '.*';
          i += 1;
        }
      } else src += pathMode ? '[^/]*' : '.*';
    } else if (ch === '?') src += pathMode ? '[^/]' : '.';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) src += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        const negate = body.startsWith('!');
        if (negate) body = body.slice(1);
        src += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
        i = end;
      }
    } else src += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  re = new RegExp(`^${src}$`, 's');
  cache.set(key, re);
  return re;
}

/** True when `pattern` contains a wildcard character. */
export function hasWildcard(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

/** Python `fnmatch.fnmatchcase(name, pattern)`. */
export function fnmatch(name: string, pattern: string): boolean {
  if (!hasWildcard(pattern)) return name === pattern;
  return toRegExp(pattern, false).test(name);
}

/** Path glob as Python's `Path.glob`: `*` stays within one folder, `**` crosses folders. */
export function pathGlobMatch(path: string, pattern: string): boolean {
  if (!hasWildcard(pattern)) return path === pattern;
  return toRegExp(pattern, true).test(path);
}
