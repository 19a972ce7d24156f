/**
 * Errors tsdbt reports to users.
 *
 * Every problem a user can fix is a {@link TsdbtError}: it carries a stable
 * `code`, the file (project-relative path) and 1-based line/column where one
 * exists, and a `hint` that says what to do. Anything else thrown is a bug in
 * tsdbt and is reported as such by the CLI.
 *
 * Exit codes follow the core issue: 2 for project/config/usage errors
 * (`kind: 'project'`), 1 for run-time failures (`kind: 'runtime'`).
 */

/** Where a diagnostic points: a project-relative path and 1-based line/column. */
export interface SourceLocation {
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
}

/** 'project' → exit code 2 (compile, config, usage); 'runtime' → exit code 1. */
export type ErrorKind = 'project' | 'runtime';

export interface TsdbtErrorOptions extends SourceLocation {
  /** What the user should do, one sentence. Printed as `hint: …`. */
  readonly hint?: string;
  readonly kind?: ErrorKind;
  readonly cause?: unknown;
}

/**
 * A user-facing error. `code` is a short kebab-case identifier
 * (e.g. `ref-not-found`, `yaml-syntax`, `cycle`) that tests assert on.
 */
export class TsdbtError extends Error {
  readonly code: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly hint?: string;
  readonly kind: ErrorKind;

  constructor(code: string, message: string, options: TsdbtErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TsdbtError';
    this.code = code;
    this.file = options.file;
    this.line = options.line;
    this.column = options.column;
    this.hint = options.hint;
    this.kind = options.kind ?? 'project';
  }

  /** `file:line:col` when known, else ''. */
  get location(): string {
    if (!this.file) return '';
    let s = this.file;
    if (this.line !== undefined) s += `:${this.line}`;
    if (this.line !== undefined && this.column !== undefined) s += `:${this.column}`;
    return s;
  }

  /**
   * One paragraph for the console: `file:line:col [code] message` then
   * `hint: …` on its own line. No stack trace.
   */
  format(): string {
    const loc = this.location;
    const head = `${loc ? loc + ' ' : ''}[${this.code}] ${this.message}`;
    return this.hint ? `${head}\n  hint: ${this.hint}` : head;
  }
}

/**
 * Collects errors (and warnings) across a whole stage so the user sees every
 * problem at once, as Dataform's compile session does. Call `throwIfErrors()`
 * at the end of the stage.
 */
export class Diagnostics {
  readonly errors: TsdbtError[] = [];
  readonly warnings: TsdbtError[] = [];

  error(e: TsdbtError): void {
    this.errors.push(e);
  }

  warn(e: TsdbtError): void {
    this.warnings.push(e);
  }

  /** Runs `fn`, recording a thrown TsdbtError instead of propagating it. Other errors propagate. */
  capture<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (e instanceof TsdbtError) {
        this.errors.push(e);
        return undefined;
      }
      throw e;
    }
  }

  get hasErrors(): boolean {
    return this.errors.length > 0;
  }

  /** Throws a {@link CompileErrors} holding every collected error, if any. */
  throwIfErrors(): void {
    if (this.errors.length === 1) throw this.errors[0];
    if (this.errors.length > 1) throw new CompileErrors(this.errors);
  }
}

/** Several user errors found in one stage; formats them all. */
export class CompileErrors extends TsdbtError {
  readonly errors: readonly TsdbtError[];
  constructor(errors: readonly TsdbtError[]) {
    super('multiple-errors', `${errors.length} errors found`, { kind: 'project' });
    this.errors = errors;
  }
  override format(): string {
    return this.errors.map((e) => e.format()).join('\n\n') + `\n\n${this.errors.length} errors found; nothing was run.`;
  }
}

/** Finds the 1-based line and column of a 0-based character offset in `text`. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastNl = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lastNl = i;
    }
  }
  return { line, column: offset - lastNl };
}
