/**
 * The whole-invocation short-circuit for `tsdbt compile` / `tsdbt parse`: when
 * nothing an invocation depends on changed since the previous identical one,
 * its outcome is replayed instead of parsing and compiling again.
 *
 * A successful invocation that asked the database nothing records
 * `<target-path>/unchanged_invocation.json`:
 *  - a key: sha256 of the tsdbt build, the command line, the working
 *    directory, whether stdout/stderr are terminals, and the value of every
 *    environment variable the invocation read (names stored, values only
 *    hashed: secrets never reach the file). When something enumerated the
 *    environment (the `DBT_ENV_CUSTOM_ENV_` prefix), every `DBT_*` variable
 *    counts;
 *  - the inputs: every file at the project's top level, every file under the
 *    resource paths (models, seeds, macros, snapshots, analyses, tests, docs)
 *    and the packages install path (dot files skipped, as discovery does),
 *    and each candidate profiles.yml, with size, mtime and ctime
 *    (present or absent);
 *  - the outputs it left: partial_parse.json with size and mtime, the
 *    compiled files (which must still exist), and the files whose
 *    `metadata.generated_at` / `invocation_id` change each invocation
 *    (manifest.json, lineage.json: their stats are pinned in
 *    unchanged_invocation.stamp.json after each write);
 *  - what the console was told (method and primitive arguments) and how it
 *    was set up.
 *
 * A later invocation with the same key whose inputs and outputs stat the same
 * (same file list, sizes and times: git's index rule) replays the console
 * events, and rewrites only the two metadata values of manifest.json and
 * lineage.json in place (same length, so the rest of the file is untouched),
 * exactly as the full invocation would have left them. Anything else — a
 * touched or added file, another target, `--vars`, an env var the project
 * reads, a later `tsdbt run` that rewrote an artifact — falls back to the full
 * invocation (which has partial parsing of its own, see partial-parse.ts).
 *
 * Racy files (modified less than {@link RACY_MS} before the invocation
 * started, or during it) prevent the record: their next change could keep the
 * same times. dbt's partial parsing reuses its saved manifest on the same
 * conditions (file hashes, vars, profile, env vars read, version); tsdbt goes
 * one step further and also reuses the rendered SQL and artifacts.
 *
 * This module imports only node builtins: it is loaded before the CLI bundle
 * (dist/fast.mjs, see bin/tsdbt.mjs and src/cli/fast-entry.ts), so a replay costs a few stats.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { ProjectConfig } from '../config/types.ts'; // a type only: this file still loads nothing but Node's built-ins

/** The record's file name under the target path. */
export const UNCHANGED_FILE = 'unchanged_invocation.json';
/** The small file rewritten on every replay: the stats of the metadata-patched files. */
export const UNCHANGED_STAMP_FILE = 'unchanged_invocation.stamp.json';

/** Bump when the record's shape or meaning changes. */
const FORMAT = 1;

/** Inputs modified this close to (or after) the invocation's start prevent the record (git's racy-clean rule). */
export const RACY_MS = 100;

/** Variables read before recording starts (colour detection at module load) that change the output. */
const ALWAYS_KEYED = ['FORCE_COLOR', 'NO_COLOR', 'TERM', 'COLORTERM', 'CI', 'TSDBT_NO_BUNDLE'];


/** How the console was configured (replayed through createConsole + configureLogging). */
export interface ConsoleSetup {
  readonly logOptions: unknown;
  readonly command: string;
  readonly args: Record<string, unknown>;
}

/** One console call: method name then its (primitive) arguments. */
export type ConsoleEvent = [string, ...(string | number | boolean | null)[]];

interface RecordShape {
  format: number;
  key: string;
  envNames: string[];
  envEnumerated: boolean;
  root: string;
  walk: string[];
  profiles: string[];
  /** Flat `path, size, mtimeMs, ctimeMs, path, …` (size -1: absent), in walk order. */
  inputs: (string | number)[];
  /** Artifacts checked by stat (partial_parse.json, …), not the patched ones. */
  outputs: [string, number, number][];
  /** Folder → names of compiled files that must still be there. */
  listed: Record<string, string[]>;
  patched: string[];
  console: ConsoleSetup;
  events: ConsoleEvent[];
}

/** What identifies an invocation beside its files. */
export interface InvocationIdentity {
  /** Which tsdbt build runs (the bundle's size and mtime); invocations of different builds never match. */
  readonly buildId: string;
  /** process.argv. */
  readonly argv: readonly string[];
  readonly cwd: string;
  /** Whether stdout and stderr are terminals (the console's output differs). */
  readonly tty: readonly [boolean, boolean];
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The key of an invocation: identity plus the environment variables `envNames` as `env` has them now. */
function invocationKey(id: InvocationIdentity, env: NodeJS.ProcessEnv, envNames: readonly string[], enumerated: boolean, seen?: ReadonlyMap<string, string | undefined>): string {
  const vars = envNames.map((n) => [n, (seen && seen.has(n) ? seen.get(n) : env[n]) ?? null]);
  const dbtVars = enumerated ? Object.keys(env).filter((k) => k.startsWith('DBT_')).sort().map((k) => [k, env[k] ?? null]) : null;
  return sha(JSON.stringify([FORMAT, id.buildId, id.argv.slice(2), id.cwd, id.tty, vars, dbtVars]));
}

/**
 * Records which environment variables are read while installed: replaces
 * `process.env` with a Proxy that notes every name read (get/has, or set
 * before being read) and whether the whole environment was enumerated
 * (then every `DBT_*` variable counts: tsdbt enumerates only for
 * `DBT_ENV_CUSTOM_ENV_*`, src/parse/jinja-context.ts).
 */
export class EnvReads {
  /** Name → the value when first touched (undefined: unset). */
  readonly seen = new Map<string, string | undefined>();
  enumerated = false;
  private original: NodeJS.ProcessEnv | null = null;

  /** Starts recording (idempotent). */
  install(): void {
    if (this.original) return;
    const original = process.env;
    this.original = original;
    const note = (k: string | symbol) => {
      if (typeof k === 'string' && !this.seen.has(k)) this.seen.set(k, original[k]);
    };
    // Object.entries / spread read each key's descriptor then its value: those reads are the enumeration
    // (counted by `enumerated`: every DBT_* variable is part of the key), not reads by name.
    let described: string | symbol | null = null;
    process.env = new Proxy(original, {
      get: (t, k) => {
        if (k === described) described = null;
        else note(k);
        return Reflect.get(t, k);
      },
      has: (t, k) => (note(k), Reflect.has(t, k)),
      set: (t, k, v) => (note(k), Reflect.set(t, k, v)),
      deleteProperty: (t, k) => (note(k), Reflect.deleteProperty(t, k)),
      ownKeys: (t) => ((this.enumerated = true), Reflect.ownKeys(t)),
      getOwnPropertyDescriptor: (t, k) => ((described = k), Reflect.getOwnPropertyDescriptor(t, k)),
    });
  }

  /** Puts the real `process.env` back. */
  uninstall(): void {
    if (this.original) process.env = this.original;
    this.original = null;
  }
}

/**
 * Walks the input files: the root's top-level files, every file under `walk`
 * (recursively, sorted, dot entries skipped), then each of `profiles`;
 * calls `row(path, size, mtimeMs, ctimeMs)` for each (size -1: absent) and
 * stops when it returns false. Returns false when stopped.
 */
function walkInputs(root: string, walk: readonly string[], profiles: readonly string[], row: (path: string, size: number, mtimeMs: number, ctimeMs: number) => boolean): boolean {
  const add = (rel: string, abs: string): boolean => {
    let st;
    try {
      st = statSync(abs); // no options object: the cheapest call
    } catch {
      return row(rel, -1, 0, 0);
    }
    return st.isFile() ? row(rel, st.size, st.mtimeMs, st.ctimeMs) : true;
  };
  // Paths by concatenation (root is absolute, `walk` entries normalised by inputDirs): path.join per file costs.
  const under = (rel: string) => `${root}/${rel}`;
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const top = readdirSync(root, { withFileTypes: true }).sort(byName);
  for (const e of top) if (!e.isDirectory() && e.name.charCodeAt(0) !== 46 && !add(e.name, under(e.name))) return false;
  const visit = (rel: string, depth: number): boolean => {
    if (depth > 40) return true; // a symlink loop: the walk stops (the full parse reports it)
    let entries;
    try {
      entries = readdirSync(under(rel), { withFileTypes: true });
    } catch {
      return row(`${rel}/`, -1, 0, 0);
    }
    entries.sort(byName);
    for (const e of entries) {
      if (e.name.charCodeAt(0) === 46) continue;
      const childRel = `${rel}/${e.name}`;
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) {
        const st = statSync(under(childRel), { throwIfNoEntry: false });
        if (!st) continue;
        isDir = st.isDirectory();
      }
      if (!(isDir ? visit(childRel, depth + 1) : add(childRel, under(childRel)))) return false;
    }
    return true;
  };
  for (const d of walk) if (!visit(d, 0)) return false;
  for (const p of profiles) if (!add(p, p)) return false;
  return true;
}

/** The directories (relative to the project root, deduplicated, nested ones dropped) a project's files are read from. */
export function inputDirs(
  project: Pick<ProjectConfig, 'modelPaths' | 'seedPaths' | 'testPaths' | 'macroPaths' | 'snapshotPaths' | 'analysisPaths' | 'docsPaths' | 'packagesInstallPath'>,
): string[] {
  const all = [
    ...project.modelPaths, ...project.seedPaths, ...project.testPaths, ...project.macroPaths,
    ...project.snapshotPaths, ...project.analysisPaths, ...project.docsPaths, project.packagesInstallPath ?? 'dbt_packages',
  ].map((d) => d.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, ''));
  const uniq = [...new Set(all)].sort();
  // A path that is '.' (or outside the project) would make the walk the whole tree or worse: the caller does not record then.
  return uniq.filter((d, i) => !uniq.some((o, j) => j !== i && d.startsWith(`${o}/`)));
}

/** Candidate profiles.yml files, in the order config/profile.ts looks (every one matters: one appearing changes the choice). */
export function profileCandidates(projectRoot: string, profilesDir: string | undefined, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  if (profilesDir !== undefined) out.push(resolve(profilesDir, 'profiles.yml'));
  else {
    for (const n of ['TSDBT_PROFILES_DIR', 'DBT_PROFILES_DIR']) if (env[n]) out.push(resolve(env[n]!, 'profiles.yml'));
    out.push(join(projectRoot, 'profiles.yml'));
    const home = env.HOME ?? homedir();
    if (home) out.push(join(home, '.dbt', 'profiles.yml'));
  }
  return out;
}

/**
 * Records one invocation as it runs (the full path). Created at the start of
 * `main` for a command that can be replayed; {@link save} writes the record
 * when the invocation succeeded and is replayable.
 */
export class InvocationRecorder {
  readonly env = new EnvReads();
  readonly startedAt = Date.now();
  private readonly events: ConsoleEvent[] = [];
  private setup: ConsoleSetup | null = null;
  /** Why this invocation cannot be replayed (set by whoever finds out), or null. */
  unreplayable: string | null = null;

  constructor(readonly identity: InvocationIdentity) {
    this.env.install();
  }

  /** Notes how the console's logging was configured (main's `act`). */
  consoleSetup(setup: ConsoleSetup): void {
    this.setup = JSON.parse(JSON.stringify(setup)) as ConsoleSetup;
  }

  /** The console, with every method call recorded (a call with a non-primitive argument makes the invocation unreplayable). */
  wrapConsole<T extends object>(out: T): T {
    const events = this.events;
    return new Proxy(out, {
      get: (t, k, r) => {
        const v = Reflect.get(t, k, r);
        if (typeof v !== 'function' || typeof k !== 'string') return v;
        return (...args: unknown[]) => {
          if (args.every((a) => a === null || a === undefined || ['string', 'number', 'boolean'].includes(typeof a))) {
            events.push([k, ...(args.map((a) => (a === undefined ? null : a)) as (string | number | boolean | null)[])]);
          } else this.unreplayable ??= `console.${k} was called with an object`;
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  }

  /**
   * Writes `<targetDir>/unchanged_invocation.json` (atomically) unless the
   * invocation is unreplayable, an input is racy, or a path cannot be walked;
   * removes a stale record otherwise. `outputs` are absolute paths of
   * artifacts the invocation wrote or left unchanged (checked by stat);
   * `listed` compiled files (checked for presence); `patched` the artifacts
   * whose metadata changes on replay. Never throws (the next invocation is then a
   * full one). Returns why nothing was recorded, or null.
   */
  save(opts: { root: string; targetDir: string; walk: readonly string[]; profiles: readonly string[]; outputs: readonly string[]; listed: readonly string[]; patched: readonly string[] }): string | null {
    const file = join(opts.targetDir, UNCHANGED_FILE);
    const names = [...new Set([...this.env.seen.keys(), ...ALWAYS_KEYED])].sort();
    const enumerated = this.env.enumerated;
    this.env.uninstall();
    const why = this.whyNot(opts, names, enumerated);
    if (typeof why === 'string') {
      rmSync(file, { force: true });
      return why;
    }
    try {
      mkdirSync(opts.targetDir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(why));
      renameSync(tmp, file);
      writeStamp(opts.targetDir, opts.patched);
      return null;
    } catch (e) {
      rmSync(file, { force: true });
      return `could not write ${file}: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  private whyNot(opts: Parameters<InvocationRecorder['save']>[0], names: string[], enumerated: boolean): string | RecordShape {
    if (this.unreplayable) return this.unreplayable;
    if (!this.setup) return 'the console setup was not recorded';
    if (opts.walk.some((d) => d === '' || d === '.' || d.startsWith('..') || isAbsolute(d))) return 'a resource path is the project root or outside it';
    const inputs: (string | number)[] = [];
    const racyFrom = this.startedAt - RACY_MS;
    let racy: string | null = null;
    try {
      walkInputs(opts.root, opts.walk, opts.profiles, (path, size, mtimeMs, ctimeMs) => {
        if (size >= 0 && (mtimeMs >= racyFrom || ctimeMs >= racyFrom)) racy ??= path;
        inputs.push(path, size, mtimeMs, ctimeMs);
        return true;
      });
    } catch (e) {
      return `the inputs could not be listed: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (racy) return `${racy} changed just before or during the invocation`;
    const outputs: [string, number, number][] = [];
    const listed: Record<string, string[]> = {};
    for (const p of opts.listed) {
      if (!statSync(p, { throwIfNoEntry: false })) return `${p} is missing`;
      (listed[dirname(p)] ??= []).push(basename(p));
    }
    for (const p of opts.outputs.filter((o) => !opts.patched.includes(o))) {
      try {
        const st = statSync(p);
        outputs.push([p, st.size, st.mtimeMs]);
      } catch {
        return `${p} is missing`;
      }
    }
    return {
      format: FORMAT,
      key: invocationKey(this.identity, process.env, names, enumerated, this.env.seen),
      envNames: names,
      envEnumerated: enumerated,
      root: opts.root,
      walk: [...opts.walk],
      profiles: [...opts.profiles],
      inputs,
      outputs,
      listed,
      patched: [...opts.patched],
      console: this.setup!,
      events: compactProgress(this.events),
    };
  }
}

/**
 * Drops the middle of each run of `progress` calls of one phase (first and
 * last kept): replayed at once, the console would not print them anyway.
 */
export function compactProgress(events: readonly ConsoleEvent[]): ConsoleEvent[] {
  const out: ConsoleEvent[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const prev = events[i - 1];
    const next = events[i + 1];
    const inRun = (o: ConsoleEvent | undefined) => o !== undefined && o[0] === 'progress' && o[1] === e[1];
    if (e[0] === 'progress' && inRun(prev) && inRun(next)) continue;
    out.push(e);
  }
  return out;
}

function writeStamp(targetDir: string, patched: readonly string[]): void {
  const rows = patched.map((p) => {
    const st = statSync(p);
    return [p, st.size, st.mtimeMs];
  });
  const file = join(targetDir, UNCHANGED_STAMP_FILE);
  writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(rows));
  renameSync(`${file}.${process.pid}.tmp`, file);
}

/** A replayable previous invocation (see {@link findUnchanged}). */
export interface Unchanged {
  readonly console: ConsoleSetup;
  readonly events: readonly ConsoleEvent[];
  /** Rewrites `metadata.generated_at` and `invocation_id` of the patched artifacts in place, and the stamp. */
  patch(invocationId: string, generatedAt?: string): void;
}

/**
 * The target directory a command line writes to, found without loading the
 * project: `--target-path`, `DBT_TARGET_PATH`, or a literal `target-path:` in
 * dbt_project.yml (default `target`); null when dbt_project.yml computes it
 * (Jinja) or the project directory cannot be told.
 */
export function targetDirOf(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv): string | null {
  const flag = (name: string): string | undefined => {
    for (let i = argv.length - 1; i >= 2; i--) {
      if (argv[i] === name) return argv[i + 1];
      if (argv[i].startsWith(`${name}=`)) return argv[i].slice(name.length + 1);
    }
    return undefined;
  };
  const projectDir = resolve(cwd, flag('--project-dir') ?? env.DBT_PROJECT_DIR ?? '.');
  let targetPath = flag('--target-path') ?? (env.DBT_TARGET_PATH || undefined);
  if (targetPath === undefined) {
    let text: string;
    try {
      text = readFileSync(join(projectDir, 'dbt_project.yml'), 'utf8');
    } catch {
      return null;
    }
    const m = /^target-path:[ \t]*(.*)$/m.exec(text);
    if (m) {
      const v = m[1].replace(/[ \t]+#.*$/, '').trim().replace(/^(["'])(.*)\1$/, '$2');
      if (!v || /[{}%]/.test(v)) return null;
      targetPath = v;
    } else targetPath = 'target';
  }
  return resolve(projectDir, targetPath);
}

/**
 * The previous invocation to replay, or why not (a sentence, as dbt's
 * "Unable to do partial parsing because …"). Costs: reading the record, one
 * readdir per input folder, one stat per input and output file. Never throws.
 */
export function findUnchanged(id: InvocationIdentity, env: NodeJS.ProcessEnv = process.env): Unchanged | string {
  try {
    const targetDir = targetDirOf(id.argv, id.cwd, env);
    if (!targetDir) return 'the target path is not known before loading dbt_project.yml';
    let text: string;
    try {
      text = readFileSync(join(targetDir, UNCHANGED_FILE), 'utf8');
    } catch {
      return `there is no ${UNCHANGED_FILE} (the last compile was another command line, failed, or asked the database)`;
    }
    const rec = JSON.parse(text) as RecordShape;
    if (rec.format !== FORMAT) return 'the record was written by another tsdbt version';
    if (invocationKey(id, env, rec.envNames, rec.envEnumerated) !== rec.key) return 'the command line, tsdbt build, working directory or an environment variable the project reads changed';
    const stamp = JSON.parse(readFileSync(join(targetDir, UNCHANGED_STAMP_FILE), 'utf8')) as [string, number, number][];
    if (stamp.length !== rec.patched.length) return 'the artifacts changed';
    for (const [p, size, mtimeMs] of [...rec.outputs, ...stamp]) {
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st || st.size !== size || st.mtimeMs !== mtimeMs) return `${p} was changed or removed since`;
    }
    // Compiled files: present (each folder listed once). Every command that rewrites one also rewrites
    // manifest.json, whose stat the stamp pins; a hand edit of a compiled file is not noticed.
    for (const [dir, names] of Object.entries(rec.listed)) {
      let present: Set<string>;
      try {
        present = new Set(readdirSync(dir));
      } catch {
        return `${dir} was removed`;
      }
      for (const n of names) if (!present.has(n)) return `${join(dir, n)} was removed`;
    }
    const want = rec.inputs;
    let i = 0;
    let differs: string | null = null;
    walkInputs(rec.root, rec.walk, rec.profiles, (path, size, mtimeMs, ctimeMs) => {
      if (want[i] !== path || want[i + 1] !== size || want[i + 2] !== mtimeMs || want[i + 3] !== ctimeMs) {
        differs = want[i] === path || want[i] === undefined ? path : `${String(want[i])} or ${path}`;
        return false;
      }
      i += 4;
      return true;
    });
    if (differs === null && i !== want.length) differs = String(want[i]);
    if (differs !== null) return `${differs} was added, removed or changed`;
    return {
      console: rec.console,
      events: rec.events,
      patch: (invocationId, generatedAt = new Date().toISOString()) => {
        for (const p of rec.patched) patchMetadata(p, invocationId, generatedAt);
        writeStamp(targetDir, rec.patched);
      },
    };
  } catch (e) {
    return `the record could not be read: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/**
 * Overwrites the values of the first `"generated_at"` and `"invocation_id"`
 * keys in the first 4 KB of a JSON artifact, in place, when the new values
 * have the same length (an ISO timestamp, a UUID); otherwise rewrites the
 * whole file with the values replaced.
 */
export function patchMetadata(path: string, invocationId: string, generatedAt: string): void {
  const fd = openSync(path, 'r+');
  try {
    const head = Buffer.alloc(Math.min(4096, fstatSync(fd).size));
    readSync(fd, head, 0, head.length, 0);
    const text = head.toString('latin1');
    const edits: [number, string, string][] = [];
    for (const [key, value] of [['generated_at', generatedAt], ['invocation_id', invocationId]] as const) {
      const m = new RegExp(`"${key}":\\s*"([^"]*)"`).exec(text);
      if (!m) continue;
      edits.push([m.index + m[0].length - 1 - m[1].length, m[1], value]);
    }
    if (edits.every(([, old, v]) => old.length === v.length)) {
      for (const [at, , v] of edits) writeSync(fd, v, at, 'latin1');
      return;
    }
  } finally {
    closeSync(fd);
  }
  // Different lengths (another timestamp format): the whole file.
  const all = readFileSync(path, 'utf8')
    .replace(/"generated_at":(\s*)"[^"]*"/, (_m, s: string) => `"generated_at":${s}${JSON.stringify(generatedAt)}`)
    .replace(/"invocation_id":(\s*)"[^"]*"/, (_m, s: string) => `"invocation_id":${s}${JSON.stringify(invocationId)}`);
  writeFileSync(path, all);
}

/** The recorder of the running invocation, if main started one (see src/cli/main.ts). */
let current: InvocationRecorder | null = null;

/** Starts recording this process's invocation (main, for compile and parse). */
export function startRecording(id: InvocationIdentity): InvocationRecorder {
  current = new InvocationRecorder(id);
  return current;
}

/** The running invocation's recorder, or null. */
export function currentRecorder(): InvocationRecorder | null {
  return current;
}

/** Stops recording without saving (the environment is restored). */
export function stopRecording(): void {
  current?.env.uninstall();
  current = null;
}
