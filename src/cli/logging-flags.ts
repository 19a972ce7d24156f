/**
 * The logging flags, spelled as dbt's (`core/dbt/cli/params.py`): `--quiet`
 * / `-q`, `--log-level`, `--log-level-file`, `--log-format`,
 * `--log-format-file`, `--log-path`, `--printer-width`. Each is accepted on
 * the program (`tsdbt -q run`) and on every command (`tsdbt run -q`); the
 * environment variable named in the help text applies when the flag is not
 * given (see logging.ts `resolveLogOptions`).
 */
import { Option, type Command } from 'commander';
import type { LogFlags } from './logging.ts';

const LEVELS = ['debug', 'info', 'warn', 'error', 'none'];
const FORMATS = ['text', 'debug', 'json', 'default'];

/** Adds the logging flags to `cmd` and returns it. */
export function addLoggingOptions(cmd: Command): Command {
  return cmd
    .option('-q, --quiet', 'print only errors and print() output (env: DBT_QUIET)')
    .addOption(new Option('--log-level <level>', 'the least important events the console shows (env: DBT_LOG_LEVEL; default info)').choices(LEVELS))
    .addOption(new Option('--log-level-file <level>', 'the least important events logs/dbt.log keeps (env: DBT_LOG_LEVEL_FILE; default debug)').choices(LEVELS))
    .addOption(new Option('--log-format <format>', "console format: text, or json — one dbt event per line (env: DBT_LOG_FORMAT)").choices(FORMATS))
    .addOption(new Option('--log-format-file <format>', 'logs/dbt.log format: debug (default) or json (env: DBT_LOG_FORMAT_FILE)').choices(FORMATS))
    .option('--log-path <dir>', 'where dbt.log is written (env: DBT_LOG_PATH; default logs/ in the project)')
    .option('--printer-width <n>', 'width the dot leaders fill (env: DBT_PRINTER_WIDTH; default 80, less on a narrower terminal)');
}

/** The logging keys of commander's opts, for merging program-level and command-level flags (the command's win). */
export const LOGGING_KEYS = ['quiet', 'logLevel', 'logLevelFile', 'logFormat', 'logFormatFile', 'logPath', 'printerWidth'] as const;

/** Program-level logging flags overlaid by the command's own (given ones only). */
export function mergeLoggingFlags(program: Record<string, unknown>, command: Record<string, unknown>): LogFlags {
  const out: Record<string, unknown> = {};
  for (const k of LOGGING_KEYS) out[k] = command[k] ?? program[k];
  out.debug = command.debug ?? program.debug;
  out.projectDir = command.projectDir;
  return out as LogFlags;
}
