/**
 * `modules.itertools` and `modules.pytz` of dbt's context, for templates.
 *
 * itertools: the finite functions dbt packages use — `chain`, `chain.from_iterable`
 * (as `chain_from_iterable` too), `product` (with `repeat=`), `combinations`,
 * `combinations_with_replacement`, `permutations`, `zip_longest` (`fillvalue=`),
 * `islice`, `accumulate`, `repeat(x, n)`, `groupby` (consecutive keys, as Python),
 * `compress`, `dropwhile`, `takewhile`, `starmap`, `tee`. Results are lists (Jinja
 * iterates them the same way). `count()` and `cycle()` (infinite) raise `[unsupported]`.
 *
 * pytz: `pytz.utc` and `pytz.timezone('UTC')` (tsdbt's datetimes know only UTC);
 * any other zone raises `[unsupported]`.
 */
import { TsdbtError } from '../errors.ts';
import { splitArgs } from './args.ts';
import { datetimeModule } from './datetime.ts';
import { pyEq, toList, tsTuple } from './python.ts';

type Fn = (...a: unknown[]) => unknown;

function unsupported(name: string): never {
  throw new TsdbtError('unsupported', `[unsupported] ${name} is not supported yet`, { hint: 'tsdbt renders templates without infinite iterators or time zones other than UTC.' });
}

function product(lists: unknown[][], repeat = 1): unknown[][] {
  const pools = Array.from({ length: repeat }, () => lists).flat();
  let out: unknown[][] = [[]];
  for (const pool of pools) out = out.flatMap((prefix) => pool.map((x) => [...prefix, x]));
  return out.map((t) => tsTuple(t));
}

function combinations(pool: unknown[], r: number, withReplacement: boolean): unknown[][] {
  const out: unknown[][] = [];
  const rec = (start: number, acc: unknown[]) => {
    if (acc.length === r) return void out.push(tsTuple(acc));
    for (let i = start; i < pool.length; i++) rec(withReplacement ? i : i + 1, [...acc, pool[i]]);
  };
  rec(0, []);
  return out;
}

function permutations(pool: unknown[], r: number): unknown[][] {
  const out: unknown[][] = [];
  const rec = (acc: number[]) => {
    if (acc.length === r) return void out.push(tsTuple(acc.map((i) => pool[i])));
    for (let i = 0; i < pool.length; i++) if (!acc.includes(i)) rec([...acc, i]);
  };
  rec([]);
  return out;
}

const chain = Object.assign((...a: unknown[]) => splitArgs(a).positional.flatMap((x) => toList(x)), {
  from_iterable: (it: unknown) => toList(it).flatMap((x) => toList(x)),
});

/** `modules.itertools`. */
export const itertoolsModule: Record<string, Fn | typeof chain> = {
  chain,
  chain_from_iterable: chain.from_iterable,
  product: (...a: unknown[]) => {
    const { positional, kwargs } = splitArgs(a);
    return product(positional.map(toList), Number(kwargs.repeat ?? 1));
  },
  combinations: (it: unknown, r: unknown) => combinations(toList(it), Number(r), false),
  combinations_with_replacement: (it: unknown, r: unknown) => combinations(toList(it), Number(r), true),
  permutations: (...a: unknown[]) => {
    const { positional } = splitArgs(a);
    const pool = toList(positional[0]);
    return permutations(pool, positional[1] === undefined || positional[1] === null ? pool.length : Number(positional[1]));
  },
  zip_longest: (...a: unknown[]) => {
    const { positional, kwargs } = splitArgs(a);
    const lists = positional.map(toList);
    const n = Math.max(0, ...lists.map((l) => l.length));
    const fill = kwargs.fillvalue ?? null;
    return Array.from({ length: n }, (_, i) => tsTuple(lists.map((l) => (i < l.length ? l[i] : fill))));
  },
  islice: (...a: unknown[]) => {
    const { positional } = splitArgs(a);
    const list = toList(positional[0]);
    const [start, stop, step] = positional.length === 2 ? [0, positional[1], 1] : [positional[1] ?? 0, positional[2], positional[3] ?? 1];
    const out: unknown[] = [];
    const end = stop === null || stop === undefined ? list.length : Math.min(Number(stop), list.length);
    for (let i = Number(start ?? 0); i < end; i += Number(step ?? 1)) out.push(list[i]);
    return out;
  },
  accumulate: (...a: unknown[]) => {
    const { positional, kwargs } = splitArgs(a);
    const fn = (positional[1] ?? kwargs.func) as Fn | undefined;
    const out: unknown[] = [];
    let acc: unknown = kwargs.initial;
    if (acc !== undefined && acc !== null) out.push(acc);
    for (const x of toList(positional[0])) {
      acc = acc === undefined || acc === null ? x : fn ? fn(acc, x) : (acc as number) + (x as number);
      out.push(acc);
    }
    return out;
  },
  repeat: (x: unknown, n: unknown) => (n === undefined ? unsupported('itertools.repeat without a count') : Array.from({ length: Number(n) }, () => x)),
  groupby: (...a: unknown[]) => {
    const { positional, kwargs } = splitArgs(a);
    const key = (positional[1] ?? kwargs.key) as Fn | undefined;
    const out: [unknown, unknown[]][] = [];
    for (const x of toList(positional[0])) {
      const k = key ? key(x) : x;
      const last = out[out.length - 1];
      if (last && pyEq(last[0], k)) last[1].push(x);
      else out.push(tsTuple([k, [x]]) as [unknown, unknown[]]);
    }
    return out;
  },
  compress: (data: unknown, selectors: unknown) => {
    const s = toList(selectors);
    return toList(data).filter((_, i) => !!s[i]);
  },
  dropwhile: (pred: unknown, it: unknown) => {
    const list = toList(it);
    const i = list.findIndex((x) => !(pred as Fn)(x));
    return i < 0 ? [] : list.slice(i);
  },
  takewhile: (pred: unknown, it: unknown) => {
    const list = toList(it);
    const i = list.findIndex((x) => !(pred as Fn)(x));
    return i < 0 ? list : list.slice(0, i);
  },
  starmap: (fn: unknown, it: unknown) => toList(it).map((args) => (fn as Fn)(...toList(args))),
  tee: (it: unknown, n: unknown = 2) => Array.from({ length: Number(n) }, () => [...toList(it)]),
  count: () => unsupported('itertools.count (infinite)'),
  cycle: () => unsupported('itertools.cycle (infinite)'),
};

/** `modules.pytz`: UTC only. */
export const pytzModule = {
  utc: datetimeModule.timezone.utc,
  UTC: datetimeModule.timezone.utc,
  timezone: (name: unknown) => (String(name).toUpperCase() === 'UTC' ? datetimeModule.timezone.utc : unsupported(`pytz.timezone('${String(name)}') (only UTC)`)),
};
