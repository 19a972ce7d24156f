/**
 * `modules.datetime` for templates: the part of Python's datetime module dbt
 * projects use. Supported (document any addition here):
 *
 * - `datetime.datetime(y, m, d[, H, M, S, us])`, `.now([tz])`, `.utcnow()`,
 *   `.today()`, `.strptime(s, fmt)`, `.fromisoformat(s)`, `.fromtimestamp(ts[, tz])`
 * - `datetime.date(y, m, d)`, `.today()`, `.fromisoformat(s)`
 * - `datetime.timedelta(days=, seconds=, microseconds=, milliseconds=, minutes=, hours=, weeks=)`
 * - `datetime.timezone.utc`
 * - on datetimes: `.year .month .day .hour .minute .second .microsecond`,
 *   `.strftime(fmt)`, `.isoformat([sep])`, `.date()`, `.replace(**fields)`,
 *   `.weekday()`, `.isoweekday()`, `.timestamp()`, `.astimezone()` (UTC only)
 * - arithmetic: datetime ± timedelta, datetime − datetime → timedelta,
 *   date ± timedelta, comparisons with < > == …; `{{ dt }}` prints as Python's
 *   str() (`2024-01-31 12:00:00`).
 *
 * Datetimes are naive unless created with `timezone.utc` (then they print
 * `+00:00`). Local time is the machine's time zone, as in Python.
 * strftime/strptime know %Y %y %m %d %H %I %M %S %f %p %j %a %A %b %B %w %Z %z %%.
 */
import { splitArgs } from './args.ts';

const US_PER_DAY = 86_400_000_000;
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Python's timedelta (stored in microseconds). */
export class PyTimedelta {
  constructor(readonly us: number) {}
  get days(): number {
    return Math.floor(this.us / US_PER_DAY);
  }
  get seconds(): number {
    return Math.floor((this.us - this.days * US_PER_DAY) / 1e6);
  }
  get microseconds(): number {
    return this.us - this.days * US_PER_DAY - this.seconds * 1e6;
  }
  total_seconds(): number {
    return this.us / 1e6;
  }
  __add__(o: unknown): unknown {
    if (o instanceof PyTimedelta) return new PyTimedelta(this.us + o.us);
    if (o instanceof PyDateTime || o instanceof PyDate) return o.__add__(this);
    throw new TypeError('unsupported operand for +: timedelta');
  }
  __sub__(o: unknown): unknown {
    if (o instanceof PyTimedelta) return new PyTimedelta(this.us - o.us);
    throw new TypeError('unsupported operand for -: timedelta');
  }
  valueOf(): number {
    return this.us;
  }
  toString(): string {
    const d = this.days;
    const s = this.seconds;
    const hms = `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}${this.microseconds ? '.' + pad(this.microseconds, 6) : ''}`;
    return d ? `${d} day${Math.abs(d) === 1 ? '' : 's'}, ${hms}` : hms;
  }
}

function fields(us: number): { y: number; m: number; d: number; H: number; M: number; S: number; f: number; wd: number; yd: number } {
  const ms = Math.floor(us / 1000);
  const dt = new Date(ms);
  const start = Date.UTC(dt.getUTCFullYear(), 0, 1);
  return {
    y: dt.getUTCFullYear(),
    m: dt.getUTCMonth() + 1,
    d: dt.getUTCDate(),
    H: dt.getUTCHours(),
    M: dt.getUTCMinutes(),
    S: dt.getUTCSeconds(),
    f: us - Math.floor(us / 1e6) * 1e6,
    wd: (dt.getUTCDay() + 6) % 7,
    yd: Math.floor((Date.UTC(dt.getUTCFullYear(), dt.getUTCMonth(), dt.getUTCDate()) - start) / 86_400_000) + 1,
  };
}

function strftime(us: number, fmt: string, utc: boolean): string {
  const f = fields(us);
  return fmt.replace(/%-?([a-zA-Z%])/g, (m, c: string) => {
    const noPad = m.startsWith('%-');
    const p = (n: number, w = 2) => (noPad ? String(n) : pad(n, w));
    switch (c) {
      case 'Y':
        return String(f.y).padStart(4, '0');
      case 'y':
        return p(f.y % 100);
      case 'm':
        return p(f.m);
      case 'd':
        return p(f.d);
      case 'e':
        return String(f.d).padStart(2, ' ');
      case 'H':
        return p(f.H);
      case 'I':
        return p(f.H % 12 === 0 ? 12 : f.H % 12);
      case 'M':
        return p(f.M);
      case 'S':
        return p(f.S);
      case 'f':
        return pad(f.f, 6);
      case 'p':
        return f.H < 12 ? 'AM' : 'PM';
      case 'j':
        return p(f.yd, 3);
      case 'a':
        return DAYS[f.wd].slice(0, 3);
      case 'A':
        return DAYS[f.wd];
      case 'b':
      case 'h':
        return MONTHS[f.m - 1].slice(0, 3);
      case 'B':
        return MONTHS[f.m - 1];
      case 'w':
        return String((f.wd + 1) % 7);
      case 'u':
        return String(f.wd + 1);
      case 'Z':
        return utc ? 'UTC' : '';
      case 'z':
        return utc ? '+0000' : '';
      case 'F':
        return `${pad(f.y, 4)}-${pad(f.m)}-${pad(f.d)}`;
      case 'T':
        return `${pad(f.H)}:${pad(f.M)}:${pad(f.S)}`;
      case '%':
        return '%';
      default:
        return m;
    }
  });
}

function toUs(y: number, m: number, d: number, H = 0, M = 0, S = 0, f = 0): number {
  return Date.UTC(y, m - 1, d, H, M, S) * 1000 + f;
}

/** Python's datetime.date. */
export class PyDate {
  constructor(readonly us: number) {}
  get year(): number {
    return fields(this.us).y;
  }
  get month(): number {
    return fields(this.us).m;
  }
  get day(): number {
    return fields(this.us).d;
  }
  weekday(): number {
    return fields(this.us).wd;
  }
  isoweekday(): number {
    return fields(this.us).wd + 1;
  }
  strftime(fmt: string): string {
    return strftime(this.us, fmt, false);
  }
  isoformat(): string {
    return strftime(this.us, '%Y-%m-%d', false);
  }
  replace(...a: unknown[]): PyDate {
    const { kwargs } = splitArgs(a);
    const f = fields(this.us);
    return new PyDate(toUs(Number(kwargs.year ?? f.y), Number(kwargs.month ?? f.m), Number(kwargs.day ?? f.d)));
  }
  __add__(o: unknown): PyDate {
    if (o instanceof PyTimedelta) return new PyDate(this.us + Math.floor(o.us / US_PER_DAY) * US_PER_DAY);
    throw new TypeError('unsupported operand for +: date');
  }
  __sub__(o: unknown): unknown {
    if (o instanceof PyTimedelta) return new PyDate(this.us - Math.floor(o.us / US_PER_DAY) * US_PER_DAY);
    if (o instanceof PyDate) return new PyTimedelta(this.us - o.us);
    throw new TypeError('unsupported operand for -: date');
  }
  valueOf(): number {
    return this.us;
  }
  toString(): string {
    return this.isoformat();
  }
  toJSON(): string {
    return this.isoformat();
  }
}

/** Python's datetime.datetime (naive, or UTC-aware). Stored as wall-clock microseconds. */
export class PyDateTime {
  constructor(
    readonly us: number,
    readonly utc = false,
  ) {}
  get year(): number {
    return fields(this.us).y;
  }
  get month(): number {
    return fields(this.us).m;
  }
  get day(): number {
    return fields(this.us).d;
  }
  get hour(): number {
    return fields(this.us).H;
  }
  get minute(): number {
    return fields(this.us).M;
  }
  get second(): number {
    return fields(this.us).S;
  }
  get microsecond(): number {
    return fields(this.us).f;
  }
  get tzinfo(): unknown {
    return this.utc ? UTC : null;
  }
  weekday(): number {
    return fields(this.us).wd;
  }
  isoweekday(): number {
    return fields(this.us).wd + 1;
  }
  date(): PyDate {
    return new PyDate(Math.floor(this.us / US_PER_DAY) * US_PER_DAY);
  }
  timestamp(): number {
    return (this.utc ? this.us : this.us + new Date(this.us / 1000).getTimezoneOffset() * 60_000_000) / 1e6;
  }
  strftime(fmt: string): string {
    return strftime(this.us, fmt, this.utc);
  }
  isoformat(sep: unknown = 'T'): string {
    const f = fields(this.us);
    return strftime(this.us, `%Y-%m-%d${String(sep)}%H:%M:%S`, false) + (f.f ? '.' + pad(f.f, 6) : '') + (this.utc ? '+00:00' : '');
  }
  replace(...a: unknown[]): PyDateTime {
    const { kwargs } = splitArgs(a);
    const f = fields(this.us);
    const n = (k: string, d: number) => Number(kwargs[k] ?? d);
    const utc = 'tzinfo' in kwargs ? kwargs.tzinfo === UTC : this.utc;
    return new PyDateTime(toUs(n('year', f.y), n('month', f.m), n('day', f.d), n('hour', f.H), n('minute', f.M), n('second', f.S), n('microsecond', f.f)), utc);
  }
  astimezone(): PyDateTime {
    if (this.utc) return this;
    return new PyDateTime(this.us + new Date(this.us / 1000).getTimezoneOffset() * 60_000_000, true);
  }
  __add__(o: unknown): PyDateTime {
    if (o instanceof PyTimedelta) return new PyDateTime(this.us + o.us, this.utc);
    throw new TypeError('unsupported operand for +: datetime');
  }
  __sub__(o: unknown): unknown {
    if (o instanceof PyTimedelta) return new PyDateTime(this.us - o.us, this.utc);
    if (o instanceof PyDateTime) return new PyTimedelta(this.us - o.us);
    throw new TypeError('unsupported operand for -: datetime');
  }
  valueOf(): number {
    return this.us;
  }
  toString(): string {
    return this.isoformat(' ');
  }
  toJSON(): string {
    return this.isoformat();
  }
}

/** `datetime.timezone.utc`. */
class PyUtc {
  toString(): string {
    return 'UTC';
  }
  utcoffset(): PyTimedelta {
    return new PyTimedelta(0);
  }
  tzname(): string {
    return 'UTC';
  }
}
const UTC = new PyUtc();

function localNowUs(): number {
  const now = Date.now();
  return (now - new Date(now).getTimezoneOffset() * 60_000) * 1000;
}

function parseIso(s: string): { us: number; utc: boolean } {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s.trim());
  if (!m) throw new Error(`Invalid isoformat string: '${s}'`);
  let us = toUs(+m[1], +m[2], +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), +(m[7] ?? '0').padEnd(6, '0'));
  let utc = false;
  if (m[8]) {
    utc = true;
    if (m[8] !== 'Z') {
      const sign = m[8][0] === '-' ? -1 : 1;
      const z = m[8].slice(1).replace(':', '');
      us -= sign * (+z.slice(0, 2) * 60 + +z.slice(2)) * 60_000_000;
    }
  }
  return { us, utc };
}

function strptime(s: string, fmt: string): PyDateTime {
  const parts: string[] = [];
  let re = '^';
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i];
    if (ch === '%' && i + 1 < fmt.length) {
      const c = fmt[++i];
      const g: Record<string, string> = {
        Y: '(\\d{4})', y: '(\\d{2})', m: '(\\d{1,2})', d: '(\\d{1,2})', H: '(\\d{1,2})', I: '(\\d{1,2})', M: '(\\d{1,2})', S: '(\\d{1,2})',
        f: '(\\d{1,6})', p: '(AM|PM|am|pm)', j: '(\\d{1,3})', b: '([A-Za-z]{3})', B: '([A-Za-z]+)', a: '[A-Za-z]{3}', A: '[A-Za-z]+',
        z: '(Z|[+-]\\d{2}:?\\d{2})', '%': '%',
      };
      if (!(c in g)) throw new Error(`strptime: unsupported directive %${c}`);
      re += g[c];
      if (g[c].startsWith('(')) parts.push(c);
    } else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const m = new RegExp(re + '$').exec(s);
  if (!m) throw new Error(`time data '${s}' does not match format '${fmt}'`);
  const v: Record<string, string> = {};
  parts.forEach((p, k) => (v[p] = m[k + 1]));
  let H = Number(v.H ?? v.I ?? 0);
  if (v.p && /pm/i.test(v.p) && H < 12) H += 12;
  if (v.p && /am/i.test(v.p) && H === 12) H = 0;
  const monthName = v.b ?? v.B;
  const month = monthName ? MONTHS.findIndex((x) => x.toLowerCase().startsWith(monthName.toLowerCase().slice(0, 3))) + 1 : Number(v.m ?? 1);
  const year = v.Y ? Number(v.Y) : v.y ? 2000 + Number(v.y) - (Number(v.y) >= 69 ? 100 : 0) : 1900;
  let us = toUs(year, month, Number(v.d ?? 1), H, Number(v.M ?? 0), Number(v.S ?? 0), Number((v.f ?? '0').padEnd(6, '0')));
  if (v.j) us = toUs(year, 1, 1) + (Number(v.j) - 1) * US_PER_DAY;
  let utc = false;
  if (v.z) {
    utc = true;
    if (v.z !== 'Z') {
      const sign = v.z[0] === '-' ? -1 : 1;
      const z = v.z.slice(1).replace(':', '');
      us -= sign * (+z.slice(0, 2) * 60 + +z.slice(2)) * 60_000_000;
    }
  }
  return new PyDateTime(us, utc);
}

function callableWith<T extends object>(fn: (...a: unknown[]) => unknown, statics: T): ((...a: unknown[]) => unknown) & T {
  return Object.assign(fn, statics);
}

/** A datetime from a JS Date: UTC-aware when `utc` is true (dbt's run_started_at is UTC-aware). */
export function datetimeFromDate(date: Date, utc = true): PyDateTime {
  const ms = utc ? date.getTime() : date.getTime() - date.getTimezoneOffset() * 60_000;
  return new PyDateTime(ms * 1000, utc);
}

const datetimeFn = callableWith(
  (...a: unknown[]) => {
    const { positional: p, kwargs } = splitArgs(a);
    const n = (i: number, k: string, d = 0) => Number(p[i] ?? kwargs[k] ?? d);
    const utc = (p[7] ?? kwargs.tzinfo) === UTC;
    return new PyDateTime(toUs(n(0, 'year'), n(1, 'month', 1), n(2, 'day', 1), n(3, 'hour'), n(4, 'minute'), n(5, 'second'), n(6, 'microsecond')), utc);
  },
  {
    now: (tz?: unknown) => (tz === UTC ? new PyDateTime(Date.now() * 1000, true) : new PyDateTime(localNowUs())),
    utcnow: () => new PyDateTime(Date.now() * 1000),
    today: () => new PyDateTime(localNowUs()),
    strptime: (s: unknown, fmt: unknown) => strptime(String(s), String(fmt)),
    fromisoformat: (s: unknown) => {
      const r = parseIso(String(s));
      return new PyDateTime(r.us, r.utc);
    },
    fromtimestamp: (ts: unknown, tz?: unknown) =>
      tz === UTC ? new PyDateTime(Number(ts) * 1e6, true) : datetimeFromDate(new Date(Number(ts) * 1000), false),
    utcfromtimestamp: (ts: unknown) => new PyDateTime(Number(ts) * 1e6),
    combine: (d: unknown) => new PyDateTime((d as PyDate).us),
  },
);

const dateFn = callableWith(
  (...a: unknown[]) => {
    const { positional: p, kwargs } = splitArgs(a);
    return new PyDate(toUs(Number(p[0] ?? kwargs.year), Number(p[1] ?? kwargs.month), Number(p[2] ?? kwargs.day)));
  },
  {
    today: () => new PyDate(Math.floor(localNowUs() / US_PER_DAY) * US_PER_DAY),
    fromisoformat: (s: unknown) => new PyDate(Math.floor(parseIso(String(s)).us / US_PER_DAY) * US_PER_DAY),
  },
);

function timedelta(...a: unknown[]): PyTimedelta {
  const { positional: p, kwargs } = splitArgs(a);
  const n = (i: number, k: string) => Number(p[i] ?? kwargs[k] ?? 0);
  const us =
    n(0, 'days') * US_PER_DAY +
    n(1, 'seconds') * 1e6 +
    n(2, 'microseconds') +
    n(3, 'milliseconds') * 1000 +
    n(4, 'minutes') * 60e6 +
    n(5, 'hours') * 3600e6 +
    n(6, 'weeks') * 7 * US_PER_DAY;
  return new PyTimedelta(Math.round(us));
}

/** The object templates see as `modules.datetime`. */
export const datetimeModule = {
  datetime: datetimeFn,
  date: dateFn,
  timedelta,
  timezone: { utc: UTC },
  MINYEAR: 1,
  MAXYEAR: 9999,
};
