/**
 * Partial parsing, as dbt's `partial_parse.msgpack`: what parsing learned
 * from each file is kept in `<target-path>/partial_parse.json` between runs,
 * so an unchanged file is not read, hashed, statically scanned or rendered
 * again.
 *
 * A file's entry is reused when its path, size, mtime and ctime match what
 * was stored. When they differ (e.g. `touch`, `git checkout`) the file is
 * read and its sha256 compared: same content still reuses the extraction.
 * Files written just before the cache was (the "racy" window, as git's
 * index) are always re-read and hashed.
 *
 * Everything is discarded when anything that can change what a file means
 * changes: the tsdbt version and cache format, dbt_project.yml (as loaded,
 * vars included), the profile target (name, type, schema, database, host,
 * port, user — never the password), `--vars`, and the text of every macro
 * file. A rendered (non-static) file's entry is further keyed by the config
 * it was rendered with (project file + properties) and the values of the
 * environment variables it read, so changing either re-renders it.
 *
 * Deleted files drop out because the saved cache holds only the files seen
 * in this parse. Properties (.yml) files are cached as a whole: any change
 * to the list of properties files or to one of them re-reads all of them.
 */
import { targetForJinja } from '../config/render.ts';
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, readdirSync, realpathSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { TsdbtError } from '../errors.ts';
import type { ProjectConfig, Properties, TargetConfig } from '../config/types.ts';
import type { RefCall } from './manifest.ts';
import type { StaticCall } from './static-extract.ts';
import type { NodeConfig } from '../config/types.ts';

/** The cache file's name under the target path. */
export const PARTIAL_PARSE_FILE = 'partial_parse.json';

/** Bump when the shape or meaning of an entry changes. */
const FORMAT = 2; // 2: properties carry unit_tests: entries

/** Files modified less than this long before the parse started are re-read next time (git's racy-clean rule). */
const RACY_MS = 100;

/** What parsing a model-like file produced (the parts that depend only on the file and the cache key). */
export interface RenderCapture {
  /** sha256 of the config the file was rendered with. */
  readonly configKey: string;
  readonly refs: RefCall[];
  readonly sources: [string, string][];
  readonly config: NodeConfig;
  /** Environment variables the render read, with the value seen (null: unset). */
  readonly env: Record<string, string | null>;
}

/** One file's entry. */
export interface CachedFile {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  /** Racily clean: must be re-read and hashed next time. */
  readonly racy?: boolean;
  /** sha256 of the text (seeds over 1 MB: `size:mtime`). */
  readonly checksum: string;
  /** The text (models, analyses, snapshots, singular tests). */
  readonly raw?: string;
  /** Static fast-path calls, or null when the file needed a render. */
  readonly calls?: StaticCall[] | null;
  /** The parse-phase render's capture, when `calls` is null. */
  readonly capture?: RenderCapture;
}

interface CacheFileShape {
  format: number;
  key: string;
  files: Record<string, CachedFile>;
  properties?: { files: [string, number, number, number][]; value: unknown } | null;
}

/** The inputs whose change invalidates every entry. */
export interface PartialParseKeyInput {
  readonly project: ProjectConfig;
  readonly target: TargetConfig;
  readonly cliVars: Record<string, unknown>;
  /** Every macro file's text, in a stable order (built-ins included). */
  readonly macroSources: readonly string[];
}

/** Size and times of a file, as `fs.stat` gives them. */
export interface FileStat {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

function sameStat(a: FileStat, b: FileStat): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/** The result of looking a file up. */
export type Lookup =
  | { readonly hit: true; readonly entry: CachedFile; readonly raw: string; readonly checksum: string; readonly stat: FileStat }
  | { readonly hit: false; readonly raw: string; readonly checksum: string; readonly stat: FileStat };

/** Counts for `--debug` output and the benchmark. */
export interface PartialParseStats {
  /** Files whose entry was reused without reading them. */
  reusedUnread: number;
  /** Files re-read whose content was unchanged (entry reused). */
  reusedRead: number;
  /** Files parsed from scratch (new, changed, or no usable cache). */
  parsed: number;
  /** Whether the cache was usable at all (false: missing, other version, or the key changed). */
  loaded: boolean;
  /** Why everything was re-parsed, when `loaded` is false. */
  reason?: string;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Reads a file and its stat through one open (fstat on the descriptor: no second path lookup). */
function readWithStat(absPath: string): { text: string; stat: FileStat } {
  const fd = openSync(absPath, 'r');
  try {
    const st = fstatSync(fd);
    let buf = Buffer.allocUnsafe(st.size);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        // the file grew since fstat: read on
        const bigger = Buffer.allocUnsafe(Math.max(64, buf.length * 2));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return { text: buf.toString('utf8', 0, n), stat: { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs } };
  } finally {
    closeSync(fd);
  }
}

function tsdbtVersion(): string {
  try {
    return String(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
  } catch {
    return 'unknown';
  }
}

/** The global cache key: a sha256 of everything in {@link PartialParseKeyInput}. */
export function partialParseKey(input: PartialParseKeyInput): string {
  const { project, target } = input;
  const { warnings: _w, ...projectRest } = project;
  const h = createHash('sha256');
  h.update(`tsdbt ${tsdbtVersion()} format ${FORMAT}\n`);
  h.update(JSON.stringify(projectRest));
  h.update('\n');
  // The target as templates see it (never its password): any change re-parses everything.
  h.update(
    JSON.stringify(targetForJinja(target)),
  );
  h.update('\n');
  h.update(JSON.stringify(input.cliVars));
  for (const m of input.macroSources) {
    h.update('\u0000');
    h.update(m);
  }
  return h.digest('hex');
}

/** A stable key for a config object (for render entries). */
export function configKey(config: unknown): string {
  return sha256(JSON.stringify(config) ?? '');
}

/**
 * The partial-parse state of one parse: looks files up in the previous
 * cache and records what this parse learned; {@link save} writes the new
 * cache (only when something changed).
 */
export class PartialParse {
  readonly stats: PartialParseStats = { reusedUnread: 0, reusedRead: 0, parsed: 0, loaded: false };
  private readonly previous: Record<string, CachedFile>;
  private readonly next: Record<string, CachedFile> = Object.create(null);
  private readonly startedAt = Date.now();
  private changed = false;
  private readonly prevProperties: CacheFileShape['properties'];
  private nextProperties: CacheFileShape['properties'] = null;

  /**
   * Opens `<dir>/partial_parse.json`. An unreadable, other-format or
   * other-key cache counts as empty (everything is parsed).
   * `enabled` false: never reads or writes the cache (dbt's `--no-partial-parse`).
   */
  constructor(
    private readonly dir: string,
    private readonly key: string,
    private readonly enabled = true,
  ) {
    let prev: CacheFileShape | null = null;
    if (enabled) {
      try {
        prev = JSON.parse(readFileSync(join(dir, PARTIAL_PARSE_FILE), 'utf8')) as CacheFileShape;
      } catch {
        this.stats.reason = 'no partial parse file';
      }
    } else this.stats.reason = 'partial parsing is off';
    if (prev && prev.format !== FORMAT) {
      this.stats.reason = 'the cache was written by another tsdbt version';
      prev = null;
    } else if (prev && prev.key !== key) {
      this.stats.reason = 'the project, profile target, --vars or macros changed';
      prev = null;
    }
    this.stats.loaded = prev !== null;
    this.previous = prev?.files ?? Object.create(null);
    this.prevProperties = prev?.properties ?? null;
    if (!prev) this.changed = true;
  }

  /**
   * Looks a file up by its project-relative path. A hit returns the stored
   * entry (with the text, from the cache or from disk); a miss returns the
   * text read from disk and its checksum. Either way `stat` is what was seen
   * before reading, for {@link record}.
   * @throws whatever reading the file throws (ENOENT when it vanished).
   */
  lookup(originalFilePath: string, absPath: string): Lookup {
    const prev = this.previous[originalFilePath];
    if (prev && !prev.racy && prev.raw !== undefined) {
      const st = statSync(absPath);
      const stat: FileStat = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
      if (sameStat(prev, stat)) {
        this.stats.reusedUnread++;
        this.next[originalFilePath] = prev;
        return { hit: true, entry: prev, raw: prev.raw, checksum: prev.checksum, stat };
      }
    }
    this.changed = true;
    const { text: raw, stat } = readWithStat(absPath);
    const checksum = sha256(raw);
    if (prev && prev.checksum === checksum && prev.raw !== undefined) {
      this.stats.reusedRead++;
      const entry = this.withStat(prev, stat);
      this.next[originalFilePath] = entry;
      return { hit: true, entry, raw, checksum, stat };
    }
    this.stats.parsed++;
    return { hit: false, raw, checksum, stat };
  }

  /** Checksum of a seed (sha256 of the text under 1 MB, else `size:mtime`), cached by stat. */
  seedChecksum(originalFilePath: string, absPath: string): string {
    const st = statSync(absPath);
    const stat: FileStat = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
    const prev = this.previous[originalFilePath];
    if (prev && !prev.racy && sameStat(prev, stat)) {
      this.next[originalFilePath] = prev;
      return prev.checksum;
    }
    this.changed = true;
    const checksum = st.size < 1_000_000 ? sha256(readFileSync(absPath, 'utf8')) : `${st.size}:${st.mtimeMs}`;
    this.next[originalFilePath] = this.withStat({ checksum }, stat);
    return checksum;
  }

  /** Records what parsing a file produced; `stat` is the one {@link lookup} returned. */
  record(originalFilePath: string, stat: FileStat, entry: Omit<CachedFile, keyof FileStat | 'racy'>): void {
    const prev = this.next[originalFilePath];
    if (prev && prev.raw === entry.raw && prev.calls === entry.calls && prev.capture === entry.capture) return;
    this.changed = true;
    this.next[originalFilePath] = this.withStat(entry, stat);
  }

  private withStat(entry: Omit<CachedFile, keyof FileStat | 'racy'>, stat: FileStat): CachedFile {
    const { racy: _r, ...rest } = entry as CachedFile;
    const racy = stat.mtimeMs >= this.startedAt - RACY_MS || stat.ctimeMs >= this.startedAt - RACY_MS;
    return racy ? { ...rest, ...stat, racy } : { ...rest, ...stat };
  }

  /**
   * Properties (.yml) files: returns the cached Properties when the list of
   * properties files and each one's stat are unchanged, else calls `load`
   * and caches its result (when `load` read exactly the files listed).
   */
  properties(project: ProjectConfig, load: () => Properties): Properties {
    const listed = listPropertiesFiles(project);
    const sig: [string, number, number, number][] = listed.map((f) => {
      const st = statSync(join(project.root, f));
      return [f, st.size, st.mtimeMs, st.ctimeMs];
    });
    const racy = sig.some((s) => s[2] >= this.startedAt - RACY_MS || s[3] >= this.startedAt - RACY_MS);
    const prev = this.prevProperties;
    if (prev && JSON.stringify(prev.files) === JSON.stringify(sig)) {
      this.nextProperties = racy ? null : prev;
      if (racy) this.changed = true;
      return propertiesFromJson(prev.value);
    }
    this.changed = true;
    const props = load();
    const sameFiles = JSON.stringify([...props.files]) === JSON.stringify(listed);
    this.nextProperties = sameFiles && !racy ? { files: sig, value: propertiesToJson(props) } : null;
    return props;
  }

  /**
   * Writes the new cache to `<dir>/partial_parse.json` (atomically: a
   * temporary file renamed over it) when anything changed or a file was
   * dropped. Failing to write is not an error (the next parse is a full one).
   */
  save(): void {
    if (!this.enabled) return;
    if (!this.changed && Object.keys(this.previous).length === Object.keys(this.next).length) return;
    const shape: CacheFileShape = { format: FORMAT, key: this.key, files: this.next, properties: this.nextProperties };
    try {
      mkdirSync(this.dir, { recursive: true });
      const tmp = join(this.dir, `${PARTIAL_PARSE_FILE}.${process.pid}.tmp`);
      writeFileSync(tmp, JSON.stringify(shape));
      renameSync(tmp, join(this.dir, PARTIAL_PARSE_FILE));
    } catch {
      // a read-only target directory: parse fully next time
    }
  }
}

/** Project-relative paths of the .yml/.yaml files under model, seed, snapshot and analysis paths, sorted (as config's loadProperties reads them). */
export function listPropertiesFiles(project: ProjectConfig): string[] {
  const dirs = [...new Set([...project.modelPaths, ...project.seedPaths, ...project.snapshotPaths, ...project.analysisPaths])];
  const out = new Set<string>();
  for (const d of dirs) {
    const prefix = d.replace(/\\/g, '/').replace(/\/$/, '');
    const seen = new Set<string>();
    const visit = (abs: string, rel: string) => {
      let real: string;
      try {
        real = realpathSync(abs);
      } catch {
        return;
      }
      if (seen.has(real)) return;
      seen.add(real);
      let entries: Dirent[];
      try {
        entries = readdirSync(abs, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (e.name.charCodeAt(0) === 46) continue;
        let isDir = e.isDirectory();
        let isFile = e.isFile();
        if (e.isSymbolicLink()) {
          try {
            const st = statSync(join(abs, e.name));
            isDir = st.isDirectory();
            isFile = st.isFile();
          } catch {
            continue;
          }
        }
        const childRel = `${rel}/${e.name}`;
        if (isDir) visit(join(abs, e.name), childRel);
        else if (isFile && (e.name.endsWith('.yml') || e.name.endsWith('.yaml'))) out.add(childRel.slice(1));
      }
    };
    visit(join(project.root, d), prefix === '.' ? '' : prefix ? `/${prefix}` : '');
  }
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function errorToJson(e: TsdbtError): Record<string, unknown> {
  return { code: e.code, message: e.message, file: e.file, line: e.line, column: e.column, hint: e.hint, kind: e.kind };
}

function propertiesToJson(p: Properties): unknown {
  return { ...p, warnings: (p.warnings ?? []).map(errorToJson) };
}

function propertiesFromJson(v: unknown): Properties {
  const p = v as Properties & { warnings?: Record<string, unknown>[] };
  const warnings = (p.warnings ?? []).map(
    (w) =>
      new TsdbtError(String(w.code), String(w.message), {
        file: w.file as string | undefined,
        line: w.line as number | undefined,
        column: w.column as number | undefined,
        hint: w.hint as string | undefined,
        kind: w.kind as TsdbtError['kind'],
      }),
  );
  return { ...p, warnings };
}
