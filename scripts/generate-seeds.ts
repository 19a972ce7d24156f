/**
 * Generates the raw layer of the growth_analytics example project (the dbt seeds at the repository root):
 * `sessions.csv` (userid, time_started, is_paid, medium) and `conversions.csv` (userid, registration_time).
 *
 *   node --import tsx scripts/generate-seeds.ts [--rows N] [--seed S] [--out DIR]
 *
 *   --rows N   lines in sessions.csv, duplicate rows included (default 2000; try 1000000 for a benchmark)
 *   --seed S   PRNG seed, an unsigned 32-bit integer (default 42). Same seed and rows → byte-identical files.
 *   --out DIR  output directory (default: seeds)
 *
 * The committed sample is `--rows 2000 --seed 42`. Sessions are streamed to disk in time order (nothing is
 * held in memory but one flag per user), over 2025-01-01 00:00:00 to 2025-04-30 23:59:59 (UTC-naive timestamps).
 * Users are `userid` 3000000000 and up (bigint on purpose), one user per five session lines, with a few heavy users.
 *
 * Media (the `medium` column) and how often each appears, with its share of paid sessions:
 *   search   35 %  45 % paid (paid search ads vs. organic search results)
 *   display  10 %  always paid (banner impressions)
 *   social   15 %  40 % paid (sponsored posts vs. organic shares)
 *   email    10 %  never paid (newsletters)
 *   referral  8 %  never paid (links from other sites)
 *   (empty)  22 %  never paid: direct traffic (typed URL, bookmark). An empty CSV cell, so NULL once loaded.
 * A session can convert: the user registers (at most once) 1 minute to 3 days later, more often after paid
 * search and direct sessions than after display or organic social ones.
 *
 * DELIBERATE DATA FLAWS (the project's data tests must catch them; the staging layer fixes or absorbs them):
 *   1. Exact duplicate session rows: ~0.3 % of sessions (at least 5) are written twice in a row, as a tracker
 *      retry would. Caught by the raw `unique` test on "(userid || '-' || time_started)" (severity warn);
 *      removed by stg_sessions.
 *   2. Registrations with no preceding session: 0.25 % of --rows (at least 3) are registrations by users
 *      who never had a tracked session (ad blocker, sign-up through an untracked app). Caught by
 *      tests/data_quality/registrations_without_session.sql (severity warn); attributed to 'other' by the mart.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** mulberry32: a tiny, fast 32-bit PRNG; returns floats in [0, 1). Deterministic for a given seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Medium, its share of sessions, the probability that a session on it is paid. '' is direct traffic. */
const MEDIA: ReadonlyArray<{ medium: string; share: number; paidShare: number }> = [
  { medium: 'search', share: 0.35, paidShare: 0.45 },
  { medium: 'display', share: 0.1, paidShare: 1 },
  { medium: 'social', share: 0.15, paidShare: 0.4 },
  { medium: 'email', share: 0.1, paidShare: 0 },
  { medium: 'referral', share: 0.08, paidShare: 0 },
  { medium: '', share: 0.22, paidShare: 0 },
];

/** Probability that a session makes a not-yet-registered user register, by medium and paid flag. */
function conversionProbability(medium: string, isPaid: boolean): number {
  switch (medium) {
    case 'search':
      return isPaid ? 0.3 : 0.22;
    case 'display':
      return 0.12;
    case 'social':
      return isPaid ? 0.14 : 0.03;
    case 'email':
      return 0.08;
    case 'referral':
      return 0.06;
    default:
      return 0.24; // direct: people who type the URL already want to sign up
  }
}

const START_SECONDS = Date.UTC(2025, 0, 1) / 1000;
const END_SECONDS = Date.UTC(2025, 4, 1) / 1000; // exclusive
const FIRST_USERID = 3_000_000_000;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Epoch seconds → 'YYYY-MM-DD HH:MM:SS' (UTC, as a timestamp without time zone). */
function formatTimestamp(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  return (
    `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`
  );
}

/** Buffered CSV writer that respects stream backpressure. */
class CsvOut {
  private buffer = '';
  lines = 0;
  constructor(private readonly stream: WriteStream) {}
  async line(text: string): Promise<void> {
    this.buffer += text + '\n';
    this.lines++;
    if (this.buffer.length >= 1 << 16) await this.flush();
  }
  async flush(): Promise<void> {
    const chunk = this.buffer;
    this.buffer = '';
    if (chunk && !this.stream.write(chunk)) await once(this.stream, 'drain');
  }
  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

/**
 * Knuth's selection sampling: picks exactly `k` of `n` positions, visited in order, without storing them.
 * Call `take()` once per position 0..n-1.
 */
function selector(k: number, n: number, rand: () => number): { take(): boolean } {
  let seen = 0;
  let chosen = 0;
  return {
    take(): boolean {
      const pick = (n - seen) * rand() < k - chosen;
      seen++;
      if (pick) chosen++;
      return pick;
    },
  };
}

/** Delay between a converting session and the registration, in seconds: mostly within the hour. */
function registrationDelay(rand: () => number): number {
  const u = rand();
  const r = rand();
  if (u < 0.65) return Math.floor(60 + r * 59 * 60); // 1-60 min
  if (u < 0.85) return Math.floor(3600 + r * 2 * 3600); // 1-3 h
  if (u < 0.95) return Math.floor(3 * 3600 + r * 9 * 3600); // 3-12 h
  return Math.floor(12 * 3600 + r * 60 * 3600); // 12 h - 3 days
}

export interface GenerateOptions {
  rows: number;
  seed: number;
  out: string;
}

export interface GenerateSummary {
  sessionLines: number;
  duplicateLines: number;
  registrations: number;
  registrationsWithoutSession: number;
}

/** Writes sessions.csv and conversions.csv into `out`; see the file comment for the data's shape and flaws. */
export async function generateSeeds({ rows, seed, out }: GenerateOptions): Promise<GenerateSummary> {
  const rand = mulberry32(seed);
  const duplicates = Math.max(5, Math.round(rows * 0.003));
  const orphans = Math.max(3, Math.round(rows * 0.0025));
  const distinct = rows - duplicates;
  const nUsers = Math.max(10, Math.ceil(rows / 5));
  const registered = new Uint8Array(nUsers);
  const duplicateAt = selector(duplicates, distinct, rand);
  const orphanAt = selector(orphans, distinct, rand);
  const span = END_SECONDS - START_SECONDS;

  mkdirSync(out, { recursive: true });
  const sessions = new CsvOut(createWriteStream(join(out, 'sessions.csv')));
  const conversions = new CsvOut(createWriteStream(join(out, 'conversions.csv')));
  await sessions.line('userid,time_started,is_paid,medium');
  await conversions.line('userid,registration_time');

  let registrations = 0;
  let nextOrphanUser = nUsers; // user indexes past nUsers never get a session
  for (let i = 0; i < distinct; i++) {
    // Stratified times: one session per slot of span/distinct seconds, so the file is in time order.
    const t = START_SECONDS + Math.floor(((i + rand()) / distinct) * span);
    // 80 % of sessions from any user, 20 % from a few heavy users at the low indexes.
    const userIndex = rand() < 0.8 ? Math.floor(rand() * nUsers) : Math.floor(rand() ** 3 * nUsers);
    let pick = rand();
    let medium = MEDIA[MEDIA.length - 1];
    for (const m of MEDIA) {
      if (pick < m.share) {
        medium = m;
        break;
      }
      pick -= m.share;
    }
    const isPaid = rand() < medium.paidShare;
    const line = `${FIRST_USERID + userIndex},${formatTimestamp(t)},${isPaid},${medium.medium}`;
    await sessions.line(line);
    if (duplicateAt.take()) await sessions.line(line);

    if (!registered[userIndex] && rand() < conversionProbability(medium.medium, isPaid)) {
      registered[userIndex] = 1;
      registrations++;
      await conversions.line(`${FIRST_USERID + userIndex},${formatTimestamp(t + registrationDelay(rand))}`);
    }
    if (orphanAt.take()) {
      registrations++;
      await conversions.line(`${FIRST_USERID + nextOrphanUser++},${formatTimestamp(t + registrationDelay(rand))}`);
    }
  }
  await sessions.close();
  await conversions.close();
  return {
    sessionLines: sessions.lines - 1,
    duplicateLines: duplicates,
    registrations,
    registrationsWithoutSession: orphans,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '42' },
      out: { type: 'string', default: 'seeds' },
    },
  });
  const rows = Number(values.rows);
  const seed = Number(values.seed);
  if (!Number.isInteger(rows) || rows < 100) throw new Error(`--rows must be an integer >= 100, got ${values.rows}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`--seed must be an integer from 0 to 4294967295, got ${values.seed}`);
  }
  const summary = await generateSeeds({ rows, seed, out: values.out as string });
  process.stdout.write(
    `wrote ${values.out}/sessions.csv (${summary.sessionLines} rows, ${summary.duplicateLines} exact duplicates) ` +
      `and ${values.out}/conversions.csv (${summary.registrations} rows, ` +
      `${summary.registrationsWithoutSession} without any session)\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('generate-seeds.ts')) {
  main().catch((err: unknown) => {
    process.stderr.write(`generate-seeds: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
