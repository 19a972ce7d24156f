/**
 * A fast check of a whole seed file against the column kinds inferred from its
 * first records, meant to run while the same bytes stream into COPY.
 *
 * Per piece of the file (cut at a line break) it decodes UTF-8 (fatal) and matches
 * each record with one sticky regular expression built from the current kinds — a
 * record matches only if no value in it could change an inferred kind. A record that
 * does not match (a wider value, surrounding spaces, quoted numbers, a ragged row, a
 * multi-line field) takes the slow path: csv-parse parses that one record and the
 * exact classifier (seed-kind.ts) widens the kinds; the expression is then rebuilt.
 * 1M rows × 4 columns (56 MB): ~150 ms CPU, which the COPY's own time hides.
 */
import { parse as parseSync } from 'csv-parse/sync';
import { CsvError } from 'csv-parse';
import { createReadStream } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { TsdbtError } from '../errors.ts';
import { classifyValue, joinKinds, type SeedKind } from './seed-kind.ts';
import { invalidCsvError, lineOfByte, notUtf8Error } from './csv-records.ts';

/** A column as the scanner sees it: an inferred kind that may widen, or a declared type it leaves to Postgres. */
export type ScanKind = SeedKind | 'declared';

/** Thrown (to abort the COPY) when `abortOnWiden` is set and an inferred kind has to widen. */
export class KindsWidened extends Error {
  constructor(readonly kinds: readonly ScanKind[]) {
    super('a seed column needs a wider type than its first rows suggested');
    this.name = 'KindsWidened';
  }
}

/** Bytes per string the scanner makes (see #feed). */
const WINDOW = 64 * 1024;

const u = (ch: string): string => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0');

const INT4 = String.raw`[+-]?0*(?:\d{1,9}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}|21474[0-7]\d{4}|214748[0-2]\d{3}|2147483[0-5]\d{2}|21474836[0-3]\d|214748364[0-7])`;
const INT8 = String.raw`[+-]?0*(?:\d{1,18}|[0-8]\d{18})`;
const NUMERIC = String.raw`[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?`;
const BOOL = '(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])';
// Year 0001–9999, real calendar days (29 February of leap years only: every 4th year, centuries every 400th).
const LEAP_YEAR = String.raw`(?:\d\d(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)`;
const DATE = String.raw`(?!0000)(?:\d{4}-(?:(?:0?[1-9]|1[0-2])-(?:0?[1-9]|1\d|2[0-8])|(?:0?[13-9]|1[0-2])-(?:29|30)|(?:0?[13578]|1[02])-31)|${LEAP_YEAR}-0?2-29)`;
const TIME = String.raw`[T ](?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?`;
const ZONE = String.raw`(?:Z|[+-]\d{2}(?::?\d{2})?)`;

/**
 * The pattern of values that certainly keep `kind` (a subset of what the classifier
 * accepts: e.g. 2024-02-29, or 2147483648 in an integer column, go the slow path).
 */
function valuePattern(kind: SeedKind): string | undefined {
  switch (kind) {
    case 'null':
      return '(?!)'; // only the empty value keeps a column without values
    case 'integer':
      return INT4;
    case 'bigint':
      return INT8;
    case 'numeric':
      return NUMERIC;
    case 'boolean':
      return BOOL;
    case 'date':
      return DATE;
    case 'timestamp':
      return `${DATE}(?:${TIME})?`;
    case 'timestamptz':
      return `${DATE}(?:${TIME}${ZONE}?)?`;
    case 'text':
      return undefined;
  }
}

function recordRegex(kinds: readonly ScanKind[], delimiter: string): RegExp {
  const d = u(delimiter);
  const anyField = `(?:"(?:[^"]|"")*"|[^${d}"\\r\\n]*)`;
  const parts = kinds.map((k) => {
    const p = k === 'declared' ? undefined : valuePattern(k);
    return p === undefined ? anyField : `(?:${p}|"${p}")?`;
  });
  return new RegExp(parts.join(d) + '\\r?\\n', 'y');
}

export interface SeedScannerOptions {
  readonly file: string;
  readonly displayPath: string;
  readonly delimiter: string;
  /** Starting kind of each column (in header order); when absent, `kindsForHeader` decides once the header is read. */
  readonly kinds?: readonly ScanKind[];
  /** Starting kinds from the header (default: every column 'null', i.e. infer everything). */
  readonly kindsForHeader?: (header: readonly string[]) => ScanKind[];
  /** Throw {@link KindsWidened} as soon as an inferred kind widens (to abort a COPY early). */
  readonly abortOnWiden?: boolean;
  /** Stop after this many data records (`full` becomes true; later bytes are ignored). */
  readonly maxRecords?: number;
}

/**
 * Checks a seed file piece by piece (as a {@link import('../adapters/adapter.ts').CopyObserver}):
 * every record must have as many fields as the header, the file must be UTF-8, and
 * inferred kinds are widened to cover every value.
 *
 * @throws TsdbtError `seed-ragged-row`, `seed-not-utf8`, `seed-invalid-csv`; {@link KindsWidened}.
 */
export class SeedScanner {
  kinds: ScanKind[];
  /** The header's fields, once read. */
  header: string[] | undefined;
  /** Whether `end()` has run (i.e. the whole file was seen). */
  finished = false;
  /** Whether `maxRecords` data records have been read. */
  full = false;
  /** Whether any inferred kind widened. */
  widened = false;
  /** Data records seen (header excluded). */
  records = 0;

  readonly #opts: SeedScannerOptions;
  #regex: RegExp;
  #carry: Buffer = Buffer.alloc(0);
  /** Absolute byte offset of #carry[0] in the file. */
  #carryStart = 0;
  #headerSkipped = false;

  constructor(opts: SeedScannerOptions) {
    this.#opts = opts;
    this.kinds = opts.kinds ? [...opts.kinds] : [];
    this.#regex = recordRegex(this.kinds, opts.delimiter);
  }

  /** Scans the whole file (when no COPY carried the bytes past us). */
  async scanFile(): Promise<void> {
    for await (const chunk of createReadStream(this.#opts.file, { highWaterMark: 256 * 1024 })) this.chunk(chunk as Buffer);
    this.end();
  }

  chunk(bytes: Buffer): void {
    if (this.full) return;
    const data = this.#carry.length ? Buffer.concat([this.#carry, bytes]) : bytes;
    this.#feed(data, false);
  }

  end(): void {
    if (this.finished || this.full) return;
    this.#feed(this.#carry, true);
    this.finished = true;
  }

  /**
   * Checks `data` (starting at absolute byte `#carryStart`) in windows of about {@link WINDOW} bytes
   * cut at line breaks, and keeps what is not a whole record yet in `#carry`. A string of more than
   * ~128 KB lands in V8's large-object space (fresh pages each time: 256 KB pieces made the string
   * creation cost ~300 ms of page faults per 56 MB, 64 KB ones ~10 ms).
   */
  #feed(data: Buffer, final: boolean): void {
    const start = this.#carryStart;
    let off = 0;
    let size = WINDOW;
    while (off < data.length && !this.full) {
      let end: number;
      if (data.length - off <= size) end = final ? data.length : data.lastIndexOf(10) + 1;
      else end = data.lastIndexOf(10, off + size - 1) + 1;
      if (end <= off) {
        if (data.length - off <= size) break; // no line break left: wait for more bytes
        size *= 2; // one record longer than the window
        continue;
      }
      const used = this.#process(data.subarray(off, end), start + off, final && end === data.length);
      if (used === 0) {
        if (this.full || data.length - off <= size) break; // an unfinished (quoted, multi-line) record: wait for more bytes
        size *= 2;
        continue;
      }
      off += used;
      size = WINDOW;
    }
    this.#carry = data.subarray(off);
    this.#carryStart = start + off;
  }

  /**
   * Checks the records in `piece` (starting at absolute byte `start`, ending at a line break unless
   * `final`); returns how many bytes it consumed (less than the piece when its last record is not
   * finished yet, or when `maxRecords` was reached).
   *
   * The piece is checked with `isUtf8` and read as latin1: one char per byte, so no decoding and a
   * string index is a byte offset. The delimiter, quote and line breaks are ASCII and never part of a
   * multi-byte character; the bytes of a non-ASCII character match no typed pattern, so they can only
   * pass inside a field of a text or declared column, and a record taking the slow path is decoded
   * as UTF-8 first.
   */
  #process(piece: Buffer, start: number, final: boolean): number {
    if (!isUtf8(piece)) throw notUtf8Error(this.#opts.file, this.#opts.displayPath);
    const text = piece.toString('latin1');
    let pos = 0;
    const n = text.length;
    const max = this.#opts.maxRecords ?? Infinity;
    while (pos < n) {
      if (this.records >= max) {
        this.full = true;
        return pos;
      }
      if (this.#headerSkipped) {
        const r = this.#regex;
        r.lastIndex = pos;
        if (r.test(text)) {
          pos = r.lastIndex;
          this.records++;
          continue;
        }
      }
      const end = recordEnd(text, pos);
      if (end < 0 && !final) break;
      const stop = end < 0 ? n : end;
      this.#slowRecord(piece.toString('utf8', pos, stop), start + pos);
      pos = stop;
    }
    return pos;
  }

  /** One record (`raw`, decoded) taking the exact path; its first byte is at `byteAt` in the file. */
  #slowRecord(raw: string, recordStart: number): void {
    const byteAt = (): number => recordStart;
    let rows: string[][];
    try {
      rows = parseSync(raw, { delimiter: this.#opts.delimiter, bom: !this.#headerSkipped, relax_column_count: true });
    } catch (err) {
      if (err instanceof CsvError) {
        const e = invalidCsvError(err, this.#opts.displayPath);
        const line = lineOfByte(this.#opts.file, byteAt()) + (e.line ?? 1) - 1;
        throw new TsdbtError(e.code, e.message.replace(/ at line \d+/, ` at line ${line}`), { file: e.file, line, hint: e.hint, kind: 'runtime' });
      }
      throw err;
    }
    const fields = rows[0] ?? [''];
    if (!this.#headerSkipped) {
      this.#headerSkipped = true;
      this.header = fields;
      if (!this.#opts.kinds) {
        this.kinds = this.#opts.kindsForHeader ? this.#opts.kindsForHeader(fields) : fields.map(() => 'null');
        this.#regex = recordRegex(this.kinds, this.#opts.delimiter);
      }
      return;
    }
    this.records++;
    if (fields.length !== this.kinds.length) {
      throw raggedRowError(this.#opts.displayPath, lineOfByte(this.#opts.file, byteAt()), fields, this.kinds.length, raw);
    }
    let changed = false;
    for (let i = 0; i < fields.length; i++) {
      const k = this.kinds[i];
      if (k === 'declared' || k === 'text') continue;
      const next = joinKinds(k, classifyValue(fields[i]));
      if (next !== k) {
        this.kinds[i] = next;
        changed = true;
      }
    }
    if (changed) {
      this.widened = true;
      if (this.#opts.abortOnWiden) throw new KindsWidened(this.kinds);
      this.#regex = recordRegex(this.kinds, this.#opts.delimiter);
    }
  }
}

/** Index just past the `\n` ending the record that starts at `pos` (quotes respected), or -1 if it does not end in `text`. */
function recordEnd(text: string, pos: number): number {
  let inQuotes = false;
  for (let i = pos; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) inQuotes = !inQuotes;
    else if (c === 10 && !inQuotes) return i + 1;
  }
  return -1;
}

/** `seed-ragged-row`: "line 7 has 3 fields, the header has 4". */
export function raggedRowError(displayPath: string, line: number, fields: readonly string[], expected: number, raw?: string): TsdbtError {
  const blank = fields.length === 1 && fields[0] === '' && (raw === undefined || raw.trim() === '');
  const what = blank ? 'is empty' : `has ${fields.length} field${fields.length === 1 ? '' : 's'}`;
  return new TsdbtError('seed-ragged-row', `${displayPath}: line ${line} ${what}, the header has ${expected}`, {
    file: displayPath,
    line,
    kind: 'runtime',
    hint: blank
      ? 'Delete the empty line (a seed may not contain blank lines, not even at the end).'
      : 'Give every row as many fields as the header; quote values that contain the delimiter.',
  });
}
