/**
 * `tsdbt init [project_name]`: dbt's InitTask for tsdbt.
 *
 * Outside a project it creates `<project_name>/` with a starter project
 * (dbt_project.yml, models/example with two models and their tests, empty
 * analyses/ macros/ seeds/ snapshots/ tests/, .gitignore, README.md) and then
 * sets up the profile named after the project; inside a project (a
 * dbt_project.yml in --project-dir or the current directory) it only sets up
 * that project's profile. As dbt:
 *  - a project name must be letters, digits and underscores, not starting
 *    with a digit (asked again when a prompt is possible);
 *  - `--skip-profile-setup` (`-s`) writes no profile;
 *  - `--profile NAME` uses an existing profile instead of writing one (an
 *    error inside an existing project, or when profiles.yml lacks it);
 *  - the profile goes to `--profiles-dir`, else $DBT_PROFILES_DIR, else the
 *    current directory when it holds a profiles.yml, else ~/.dbt/; a profile
 *    of the same name is only replaced after a yes to "overwrite it?" (other
 *    profiles in the file are kept, comments included);
 *  - a folder of the project's name that exists already stops init.
 * tsdbt's differences: the first database offered (and the default) is the
 * embedded PGlite, so `tsdbt init x && cd x && tsdbt build` needs no server;
 * each prompted profile field also has a flag (`--adapter`, `--schema`,
 * `--host`, `--port`, `--user`, `--dbname`, `--threads`, `--path`,
 * `--target-name`); the password is never written: the profile reads it from
 * the environment variable named by `--password-env` (default
 * DBT_ENV_SECRET_PASSWORD). After a postgres profile is written, a connection
 * test runs unless `--skip-debug` (as dbt runs `dbt debug`); a failure only
 * says the profile may need adjusting.
 *
 * Prompts: a value given by flag is never asked. On a terminal each other
 * value is asked, with its default in brackets; without a terminal the
 * answers are read from stdin, one line per prompt in order, an empty line or
 * the end of input taking the default (a value without a default is then an
 * error naming its flag).
 * Registered by src/cli/main.ts with one call to {@link registerInitCommand}.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { Document, isMap, parseDocument } from 'yaml';
import type { Console } from './console.ts';
import type { ActionWrapper } from './docs-commands.ts';
import { TsdbtError } from '../errors.ts';
import { createAdapter } from '../adapters/index.ts';
import type { TargetConfig } from '../config/types.ts';

/** dbt's ProjectName rule: an identifier of letters, digits and underscores not starting with a digit. */
const PROJECT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names dbt refuses for a project (its internal packages). */
const RESERVED = new Set(['dbt', 'dbt_postgres', 'dbt_pglite']);
const ADAPTERS = ['pglite', 'postgres'] as const;
type AdapterChoice = (typeof ADAPTERS)[number];

/** `tsdbt init`'s flags (commander's attribute names). */
export interface InitFlags {
  readonly projectDir?: string;
  readonly profilesDir?: string;
  readonly profile?: string;
  readonly skipProfileSetup?: boolean;
  readonly skipDebug?: boolean;
  readonly adapter?: string;
  readonly targetName?: string;
  readonly schema?: string;
  readonly path?: string;
  readonly host?: string;
  readonly port?: string;
  readonly user?: string;
  readonly passwordEnv?: string;
  readonly dbname?: string;
  readonly threads?: string;
}

/** Where prompts are written and answers read (the process's stdin/stdout in the CLI). */
export interface InitIo {
  readonly input: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly output: NodeJS.WritableStream;
  /** HOME and DBT_PROFILES_DIR come from here. */
  readonly env: NodeJS.ProcessEnv;
  /** The directory `tsdbt init` runs in. */
  readonly cwd: string;
}

/** Adds `init` to `program`. */
export function registerInitCommand(program: Command, act: ActionWrapper, out: Console): Command {
  return program
    .command('init')
    .argument('[project_name]', 'the new project: a folder of that name is created here')
    .description('create a starter project and a profile (embedded PGlite by default), asking for what the flags do not give')
    .option('--project-dir <dir>', 'where to look for an existing dbt_project.yml (default: the current directory)')
    .option('--profiles-dir <dir>', 'where to write profiles.yml (default: $DBT_PROFILES_DIR, else here when ./profiles.yml exists, else ~/.dbt)')
    .option('--profile <name>', 'use this existing profile of profiles.yml instead of writing one')
    .option('-s, --skip-profile-setup', 'write no profile (tsdbt then uses the embedded database when none is found)')
    .option('--skip-debug', 'do not test the connection after writing a postgres profile')
    .option('--adapter <type>', 'the database of the profile: pglite (embedded, no server) or postgres')
    .option('--target-name <name>', "the profile's target (default dev)")
    .option('--schema <name>', 'the schema models are built in (default public)')
    .option('--path <dir>', 'pglite: the data directory, relative to the project (default .tsdbt/pglite/<target>)')
    .option('--host <host>', 'postgres: server host (default 127.0.0.1)')
    .option('--port <port>', 'postgres: server port (default 5432)')
    .option('--user <user>', 'postgres: user')
    .option('--password-env <VAR>', 'postgres: the environment variable holding the password (default DBT_ENV_SECRET_PASSWORD); it is never written')
    .option('--dbname <name>', 'postgres: database (default postgres)')
    .option('--threads <n>', 'postgres: threads (default 4; pglite always 1)')
    .action(
      act((flags, cmd) =>
        initCommand(cmd.args[0] as string | undefined, flags as unknown as InitFlags, out, { input: process.stdin, output: process.stdout, env: process.env, cwd: process.cwd() }),
      ),
    );
}

/** Asks questions on a terminal, or takes the answers line by line from piped stdin. */
class Prompter {
  private readonly lines: string[] = [];
  private ended = false;
  private waiting: (() => void) | null = null;
  private rl: ReturnType<typeof createInterface> | null = null;

  constructor(private readonly io: InitIo) {}

  private start(): void {
    if (this.rl) return;
    this.rl = createInterface({ input: this.io.input, terminal: false });
    this.rl.on('line', (l) => {
      this.lines.push(l);
      this.waiting?.();
    });
    this.rl.on('close', () => {
      this.ended = true;
      this.waiting?.();
    });
  }

  /** The next answer line, or null at the end of input. */
  private async next(): Promise<string | null> {
    this.start();
    while (this.lines.length === 0 && !this.ended) await new Promise<void>((r) => (this.waiting = r));
    this.waiting = null;
    return this.lines.length ? this.lines.shift()! : null;
  }

  /**
   * Asks `question`; an empty answer or the end of input gives `fallback`.
   * @throws TsdbtError `init-missing-value` (naming `flag`) when there is neither an answer nor a default.
   */
  async ask(question: string, fallback: string | undefined, flag: string): Promise<string> {
    this.io.output.write(`${question}${fallback !== undefined ? ` [${fallback}]` : ''}: `);
    const line = await this.next();
    // A terminal echoes the answer and its newline; piped answers are not echoed.
    if (line === null || !this.io.input.isTTY) this.io.output.write('\n');
    const answer = line?.trim() ?? '';
    if (answer !== '') return answer;
    if (fallback !== undefined) return fallback;
    throw new TsdbtError('init-missing-value', `tsdbt init needs a value for "${question}", and stdin gave none`, { hint: `pass ${flag} (or answer the prompt)` });
  }

  close(): void {
    this.rl?.close();
  }
}

/** Runs `init`; resolves to the exit code. */
export async function initCommand(projectNameArg: string | undefined, flags: InitFlags, out: Console, io: InitIo): Promise<number> {
  const prompter = new Prompter(io);
  try {
    return await init(projectNameArg, flags, out, io, prompter);
  } finally {
    prompter.close();
  }
}

async function init(projectNameArg: string | undefined, flags: InitFlags, out: Console, io: InitIo, prompter: Prompter): Promise<number> {
  const profilesDir = profilesDirFor(flags, io);
  const projectDir = resolve(io.cwd, flags.projectDir ?? '.');
  const existingProject = join(projectDir, 'dbt_project.yml');
  if (existsSync(existingProject)) {
    // Inside a project: only its profile (dbt's in_project branch).
    if (flags.profile) {
      throw new TsdbtError('bad-flag', 'Can not init existing project with specified profile, edit dbt_project.yml instead', {
        file: existingProject,
        hint: `set profile: ${flags.profile} in dbt_project.yml, or run tsdbt init outside the project`,
      });
    }
    if (flags.skipProfileSetup) {
      out.info(`${existingProject} exists and --skip-profile-setup was given: nothing to do.`);
      return 0;
    }
    const doc = parseDocument(readFileSync(existingProject, 'utf8'));
    const profileName = doc.get('profile');
    if (typeof profileName !== 'string' || profileName === '') {
      throw new TsdbtError('profile-not-found', 'dbt_project.yml names no profile to set up', { file: existingProject, hint: 'add profile: <name> to dbt_project.yml' });
    }
    out.info(`Setting up your profile '${profileName}'.`);
    await setupProfile(profileName, profilesDir, flags, out, prompter, projectDir);
    return 0;
  }

  let name = projectNameArg;
  while (name === undefined || !PROJECT_NAME.test(name) || RESERVED.has(name)) {
    if (name !== undefined) {
      const why = RESERVED.has(name) ? `${name} is not a valid project name: it is the name of a dbt package.` : `${name} is not a valid project name.`;
      if (projectNameArg !== undefined && name === projectNameArg && !io.input.isTTY) {
        throw new TsdbtError('bad-project-name', why, { hint: 'use letters, digits and underscores, not starting with a digit (e.g. my_project)' });
      }
      io.output.write(`${why}\n`);
    }
    name = await prompter.ask('Enter a name for your project (letters, digits, underscore)', undefined, 'the project name argument');
  }
  const dir = resolve(io.cwd, name);
  if (existsSync(dir)) {
    throw new TsdbtError('project-exists', `A project called ${name} already exists here (${dir}).`, { hint: 'choose another name, or run tsdbt init inside that folder to set up its profile only' });
  }
  let profileName = name;
  if (flags.profile) {
    const file = join(profilesDir, 'profiles.yml');
    const doc = existsSync(file) ? parseDocument(readFileSync(file, 'utf8')) : null;
    if (!doc || !isMap(doc.contents) || !doc.has(flags.profile)) {
      throw new TsdbtError('profile-not-found', `Could not find profile named '${flags.profile}'`, { file: existsSync(file) ? file : undefined, hint: `profiles are read from ${file}; leave out --profile to write a new one` });
    }
    profileName = flags.profile;
  }
  writeStarterProject(dir, name, profileName);
  out.info(`Created the project ${name} in ${dir}`);
  if (!flags.profile && !flags.skipProfileSetup) {
    out.info(`Setting up your profile '${profileName}'.`);
    await setupProfile(profileName, profilesDir, flags, out, prompter, dir);
  }
  out.info('');
  out.info(`Your new project ${name} is ready. Next:\n  cd ${name}\n  tsdbt build`);
  return 0;
}

/** dbt's default profiles dir for init: --profiles-dir, $DBT_PROFILES_DIR (or TSDBT_…), ./ when it holds profiles.yml, else ~/.dbt. */
function profilesDirFor(flags: InitFlags, io: InitIo): string {
  if (flags.profilesDir) return resolve(io.cwd, flags.profilesDir);
  const fromEnv = io.env.TSDBT_PROFILES_DIR || io.env.DBT_PROFILES_DIR;
  if (fromEnv) return resolve(io.cwd, fromEnv);
  if (existsSync(join(io.cwd, 'profiles.yml'))) return io.cwd;
  return join(io.env.HOME || homedir(), '.dbt');
}

/** Asks (or takes from flags) the target's fields and writes the profile; asks before replacing one. */
async function setupProfile(profileName: string, profilesDir: string, flags: InitFlags, out: Console, prompter: Prompter, projectRoot: string): Promise<void> {
  const file = join(profilesDir, 'profiles.yml');
  const doc = existsSync(file) ? parseDocument(readFileSync(file, 'utf8')) : new Document({});
  if (doc.contents === null) (doc as unknown as { contents: unknown }).contents = doc.createNode({});
  if (!isMap(doc.contents)) {
    throw new TsdbtError('profile-invalid', `${file} is not a mapping of profile names`, { file, hint: 'fix or move the file, then run tsdbt init again' });
  }
  if (doc.has(profileName)) {
    const yes = await prompter.ask(`The profile ${profileName} already exists in ${file}. Continue and overwrite it? (y/N)`, 'N', '');
    if (!/^y(es)?$/i.test(yes)) {
      out.info(`Kept the existing profile ${profileName} in ${file}.`);
      return;
    }
  }
  const adapter = await chooseAdapter(flags, prompter);
  const targetName = flags.targetName ?? (await prompter.ask('target name', 'dev', '--target-name'));
  const schema = flags.schema ?? (await prompter.ask('schema (the schema models are built in)', 'public', '--schema'));
  let output: Record<string, unknown>;
  if (adapter === 'pglite') {
    const path = flags.path ?? (await prompter.ask('path (the data directory, relative to the project)', `.tsdbt/pglite/${targetName}`, '--path'));
    output = { type: 'pglite', path, schema, threads: 1 };
  } else {
    const host = flags.host ?? (await prompter.ask('host', '127.0.0.1', '--host'));
    const port = numberFlag(flags.port ?? (await prompter.ask('port', '5432', '--port')), '--port');
    const user = flags.user ?? (await prompter.ask('user', undefined, '--user'));
    const passwordEnv = flags.passwordEnv ?? (await prompter.ask('password: the environment variable that holds it', 'DBT_ENV_SECRET_PASSWORD', '--password-env'));
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(passwordEnv)) {
      throw new TsdbtError('bad-flag', `'${passwordEnv}' is not an environment variable name`, { hint: 'pass --password-env with a name such as DBT_ENV_SECRET_PASSWORD' });
    }
    const dbname = flags.dbname ?? (await prompter.ask('dbname', 'postgres', '--dbname'));
    const threads = numberFlag(flags.threads ?? (await prompter.ask('threads', '4', '--threads')), '--threads');
    output = { type: 'postgres', host, port, user, password: `{{ env_var('${passwordEnv}', '') }}`, dbname, schema, threads };
  }
  doc.set(profileName, { target: targetName, outputs: { [targetName]: output } });
  mkdirSync(profilesDir, { recursive: true });
  writeFileSync(file, String(doc));
  out.info(`Profile ${profileName} written to ${file} (target ${targetName}: ${adapter}).`);
  if (adapter === 'postgres' && !flags.skipDebug) await connectionTest(output, targetName, schema, out, projectRoot);
}

async function chooseAdapter(flags: InitFlags, prompter: Prompter): Promise<AdapterChoice> {
  if (flags.adapter !== undefined) {
    if (!(ADAPTERS as readonly string[]).includes(flags.adapter)) {
      throw new TsdbtError('bad-flag', `--adapter ${flags.adapter} is not a database tsdbt runs on`, { hint: `use one of ${ADAPTERS.join(', ')}` });
    }
    return flags.adapter as AdapterChoice;
  }
  for (;;) {
    const answer = await prompter.ask('Which database would you like to use?\n[1] pglite (embedded PostgreSQL, no server)\n[2] postgres\n\nEnter a number', '1', '--adapter');
    const n = Number(answer);
    if (Number.isInteger(n) && n >= 1 && n <= ADAPTERS.length) return ADAPTERS[n - 1];
    if ((ADAPTERS as readonly string[]).includes(answer)) return answer as AdapterChoice;
  }
}

function numberFlag(v: string, flag: string): number {
  if (!/^\d+$/.test(v.trim())) throw new TsdbtError('bad-flag', `${flag} must be a whole number, not '${v}'`, { hint: `e.g. ${flag} ${flag === '--port' ? 5432 : 4}` });
  return Number(v);
}

/** dbt init's `dbt debug` step, for a postgres target: connect and `select 1`; a failure is a note, not an error (as dbt). */
async function connectionTest(output: Record<string, unknown>, targetName: string, schema: string, out: Console, projectRoot: string): Promise<void> {
  const passwordVar = /env_var\('([^']+)'/.exec(String(output.password))?.[1];
  const target: TargetConfig = {
    name: targetName,
    profileName: 'init',
    type: 'postgres',
    schema,
    threads: 1,
    host: String(output.host),
    port: Number(output.port),
    user: String(output.user),
    password: passwordVar ? process.env[passwordVar] : undefined,
    dbname: String(output.dbname),
    connect_timeout: 10,
    retries: 1,
    extra: {},
    source: `tsdbt init (${projectRoot})`,
  };
  try {
    const adapter = await createAdapter(target);
    try {
      await adapter.withConnection((c) => c.query('select 1'));
    } finally {
      await adapter.close();
    }
    out.info('Connection test: OK');
  } catch (e) {
    out.warn(`Connection test failed: ${e instanceof Error ? e.message : String(e)}\nYour profile may need adjustments (or pass --skip-debug).`);
  }
}

/** The starter project's files (tsdbt's own example, in dbt's starter layout). */
export function starterFiles(name: string, profile: string): Record<string, string> {
  return {
    'dbt_project.yml': `# The project's name: letters, digits and underscores.
name: '${name}'
version: '1.0.0'

# The profile (in profiles.yml) that says which database to build in.
profile: '${profile}'

# Where each kind of file lives.
model-paths: ["models"]
analysis-paths: ["analyses"]
test-paths: ["tests"]
seed-paths: ["seeds"]
macro-paths: ["macros"]
snapshot-paths: ["snapshots"]

clean-targets: # what \`tsdbt clean\` removes
  - "target"
  - "dbt_packages"

# Configs for folders of models; a model's own config() wins over these.
models:
  ${name}:
    example:
      +materialized: view
`,
    'models/example/my_first_dbt_model.sql': `-- A first model: built as a table (its config() wins over dbt_project.yml's view).
{{ config(materialized='table') }}

select 1 as id, 'first' as label
union all
select 2 as id, 'second' as label
`,
    'models/example/my_second_dbt_model.sql': `-- A second model: ref() reads the first, and puts it upstream in the DAG.
select id, label
from {{ ref('my_first_dbt_model') }}
where id = 1
`,
    'models/example/schema.yml': `version: 2

models:
  - name: my_first_dbt_model
    description: "The starter project's first model"
    columns:
      - name: id
        description: "One row per id"
        data_tests:
          - unique
          - not_null

  - name: my_second_dbt_model
    description: "The first model's row with id 1"
    columns:
      - name: id
        description: "One row per id"
        data_tests:
          - unique
          - not_null
`,
    '.gitignore': 'target/\ndbt_packages/\nlogs/\n.tsdbt/\n.env\n',
    'README.md': `# ${name}

A dbt project, run with tsdbt:

- \`tsdbt build\` builds the models and runs their tests
- \`tsdbt run\` / \`tsdbt test\` do one of the two
- \`tsdbt docs generate && tsdbt docs serve\` shows the lineage
`,
    'analyses/.gitkeep': '',
    'macros/.gitkeep': '',
    'seeds/.gitkeep': '',
    'snapshots/.gitkeep': '',
    'tests/.gitkeep': '',
  };
}

function writeStarterProject(dir: string, name: string, profile: string): void {
  for (const [rel, text] of Object.entries(starterFiles(name, profile))) {
    const abs = join(dir, rel);
    mkdirSync(join(abs, '..'), { recursive: true });
    writeFileSync(abs, text);
  }
}
