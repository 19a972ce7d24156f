/**
 * Reading seed CSV files exactly (csv-parse), with the errors a user can act on:
 * not UTF-8, malformed CSV, and where in the file a record starts.
 */
import { closeSync, createReadStream, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { Transform } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { TsdbtError } from '../errors.ts';

/** One CSV record: its fields (unquoted) and the byte offset where it starts. `index` 0 is the header. */
export interface CsvRecord {
  readonly fields: string[];
  readonly startByte: number;
  readonly index: number;
}

/** Offset of the first byte that is not part of a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(buf: Uint8Array): number {
  const n = buf.length;
  let i = 0;
  while (i < n) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) len = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    if (i + len > n) return i;
    const b1 = buf[i + 1];
    if (b1 < lo || b1 > hi) return i;
    for (let k = 2; k < len; k++) if ((buf[i + k] & 0xc0) !== 0x80) return i;
    i += len;
  }
  return -1;
}

/** 1-based line of byte `offset` in `file` (counts `\n` bytes before it). */
export function lineOfByte(file: string, offset: number): number {
  const buf = readFileSync(file);
  let line = 1;
  const end = Math.min(offset, buf.length);
  for (let i = buf.indexOf(10); i !== -1 && i < end; i = buf.indexOf(10, i + 1)) line++;
  return line;
}

/** The `seed-not-utf8` error for `file`, naming the line of its first bad byte. */
export function notUtf8Error(file: string, displayPath: string): TsdbtError {
  const buf = readFileSync(file);
  const at = firstInvalidUtf8(buf);
  const line = at < 0 ? undefined : lineOfByte(file, at);
  const byte = at < 0 ? '' : ` (byte 0x${buf[at].toString(16).padStart(2, '0')})`;
  return new TsdbtError('seed-not-utf8', `${displayPath} is not valid UTF-8${line ? `: line ${line} has an invalid byte${byte}` : ''}`, {
    file: displayPath,
    line,
    kind: 'runtime',
    hint: 'Re-save the file as UTF-8 (e.g. "CSV UTF-8" in Excel, or iconv -f latin1 -t utf-8).',
  });
}

/** A csv-parse error as a user error pointing at the line. */
export function invalidCsvError(err: CsvError, displayPath: string): TsdbtError {
  const lines = (err as unknown as { lines?: unknown }).lines;
  const line = typeof lines === 'number' ? lines : undefined;
  const what = err.message.replace(/^([A-Za-z ]+):\s*/, '');
  return new TsdbtError('seed-invalid-csv', `${displayPath} is not valid CSV${line ? ` at line ${line}` : ''}: ${what}`, {
    file: displayPath,
    line,
    kind: 'runtime',
    hint: 'Quote fields that contain the delimiter, quotes or line breaks ("a ""quoted"" value"), and close every quote.',
  });
}

/** Passes bytes through, checking they are UTF-8 (cut at line breaks, which never split a character). */
function utf8Guard(onInvalid: () => Error): Transform {
  let carry: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const data = carry ? Buffer.concat([carry, chunk]) : chunk;
      const cut = data.lastIndexOf(10);
      if (cut < 0) {
        carry = data;
        return cb();
      }
      const piece = data.subarray(0, cut + 1);
      carry = data.subarray(cut + 1);
      if (!isUtf8(piece)) return cb(onInvalid());
      cb(null, piece);
    },
    flush(cb) {
      if (carry && carry.length) {
        if (!isUtf8(carry)) return cb(onInvalid());
        this.push(carry);
      }
      cb();
    },
  });
}

export interface ReadCsvOptions {
  readonly displayPath: string;
  readonly delimiter: string;
  /** Stop after this many records (header included). */
  readonly maxRecords?: number;
}

/**
 * The records of `file`, header first, parsed by csv-parse (RFC 4180 quoting, `\n`
 * or `\r\n` line ends, a UTF-8 BOM skipped). Rows of any length are yielded: the
 * caller checks them against the header.
 *
 * @throws TsdbtError `seed-not-utf8`, `seed-invalid-csv`.
 */
export async function* readCsvRecords(file: string, opts: ReadCsvOptions): AsyncGenerator<CsvRecord> {
  const source = createReadStream(file, { highWaterMark: 256 * 1024 });
  const guard = utf8Guard(() => notUtf8Error(file, opts.displayPath));
  const parser = parse({ delimiter: opts.delimiter, bom: true, relax_column_count: true, info: true });
  source.on('error', (e) => guard.destroy(e));
  guard.on('error', (e) => parser.destroy(e));
  source.pipe(guard).pipe(parser);
  let index = 0;
  let startByte = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { bytes: number } }>) {
      yield { fields: item.record, startByte, index };
      startByte = item.info.bytes;
      index++;
      if (opts.maxRecords !== undefined && index >= opts.maxRecords) return;
    }
  } catch (err) {
    if (err instanceof CsvError) throw invalidCsvError(err, opts.displayPath);
    throw err;
  } finally {
    source.destroy();
    guard.destroy();
    parser.destroy();
  }
}

/**
 * The header (first record) of a seed CSV file, read synchronously from its
 * first bytes only (64 KB at a time, until csv-parse has one whole record),
 * with csv-parse's quoting and a UTF-8 BOM skipped; names trimmed. Used where
 * only the column names are needed (column lineage of seeds) — reading the
 * whole file cost seconds for a million-row seed.
 *
 * @returns the column names, or null when the file cannot be read or parsed
 *   (the seed's own load reports that, with its line).
 */
export function readCsvHeaderSync(file: string, delimiter = ','): string[] | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    let buf = Buffer.alloc(0);
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, Math.max(0, size - buf.length)));
      const n = chunk.length ? readSync(fd, chunk, 0, chunk.length, buf.length) : 0;
      buf = Buffer.concat([buf, chunk.subarray(0, n)]);
      const whole = buf.length >= size || n === 0;
      let records: { record: string[]; info: { bytes: number } }[];
      try {
        records = parseSync(buf, { delimiter, bom: true, relax_column_count: true, info: true, to: 2 }) as unknown as typeof records;
      } catch {
        if (whole) return null;
        continue; // an unclosed quote in a cut-off chunk: read more
      }
      // One record ending before the end of what was read is whole; at the end of the file, so is the last.
      if (records.length >= 2 || (records.length === 1 && (whole || records[0].info.bytes < buf.length))) return records[0].record.map((c) => c.trim());
      if (whole) return records.length ? records[0].record.map((c) => c.trim()) : null;
    }
  } finally {
    closeSync(fd);
  }
}
