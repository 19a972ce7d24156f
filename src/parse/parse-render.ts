/**
 * dbt's parse-phase render (`execute` false): a file is rendered once to
 * capture its `ref`, `source` and `config` calls, `ref`/`source` answering
 * with placeholder relations in the target schema. Also the context the
 * project's `generate_schema_name` / `generate_alias_name` macros are called
 * with while parsing.
 */
import { createHash } from 'node:crypto';
import { TsdbtError, type Diagnostics } from '../errors.ts';
import type { NodeConfig, ProjectConfig, TargetConfig } from '../config/types.ts';
import { envVar, resolveVar } from '../config/index.ts';
import { isSecretName } from '../secrets.ts';
import type { JinjaEnv } from '../jinja/index.ts';
import { buildContext, type Captured, type ContextHooks } from './jinja-context.ts';
import { configKey, type RenderCapture } from './partial-parse.ts';
import { JinjaRelation } from './relation.ts';
import { escapeRe, lineOf } from './node-fields.ts';

/** What a parse-phase render needs to know about the invocation. */
export interface ParseRenderInput {
  readonly project: ProjectConfig;
  readonly target: TargetConfig;
  /** `--vars`, already parsed. */
  readonly cliVars: Record<string, unknown>;
  readonly invocationId: string;
  readonly env: NodeJS.ProcessEnv;
  readonly jinja: JinjaEnv;
  /** The database relations are qualified with. */
  readonly database: string;
  /** Render errors are recorded here (the render then yields undefined). */
  readonly diags: Diagnostics;
}

/** Renders project files in dbt's parse phase; one per parse (one `run_started_at`). */
export class ParseRenderer {
  private readonly baseContextInput;
  /**
   * The installed package whose files are being rendered (set by ManifestBuilder.enterPackage),
   * undefined for the root project: its `vars:` and package-scoped vars apply to `var()`.
   */
  packageProject: ProjectConfig | undefined;

  constructor(private readonly input: ParseRenderInput) {
    const { target, database, project, invocationId, jinja } = input;
    this.baseContextInput = {
      execute: false,
      target,
      targetDatabase: database,
      projectName: project.name,
      invocationId,
      runStartedAt: new Date(),
      fullRefresh: false,
      dispatch: (name: string, ns: string | null) => jinja.dispatch(name, ns),
    };
  }

  /** `var(name, default)` with dbt's precedence; a missing var's error names `file`. */
  variable(name: string, fallback: unknown, hasDefault: boolean, file?: string): unknown {
    const { project, cliVars } = this.input;
    try {
      const pkg = this.packageProject;
      return resolveVar(name, project, cliVars, pkg?.name ?? project.name, { ...(hasDefault ? { default: fallback } : {}), packageProject: pkg });
    } catch (e) {
      if (e instanceof TsdbtError && file && !e.file) {
        throw new TsdbtError(e.code, e.message, { file, hint: e.hint });
      }
      throw e;
    }
  }

  /** The parse-phase hooks for a render of `file`; `envSeen` receives every env var read (name → value or null). */
  hooks(file: string, envSeen?: Record<string, string | null>): ContextHooks {
    const { database, target, env } = this.input;
    return {
      ref: (call) => new JinjaRelation({ database, schema: target.schema, identifier: call.name }),
      source: (s, t) => new JinjaRelation({ database, schema: s, identifier: t }),
      variable: (n, f, h) => this.variable(n, f, h, file),
      envVar: envSeen
        ? (n, f, h) => {
            envSeen[n] = env[n] ?? null;
            return envVar(env, n, h ? f : undefined, { file });
          }
        : (n, f, h) => envVar(env, n, h ? f : undefined, { file }),
      isIncremental: () => false,
    };
  }

  /** The context a naming macro (`generate_schema_name`, …) is called with for the node `model` of `file`. */
  macroContext(file: string, model: Record<string, unknown>, config: NodeConfig): Record<string, unknown> {
    return buildContext({ ...this.baseContextInput, self: null, model, config, file, hooks: this.hooks(file) });
  }

  /** Renders a file in the parse phase, capturing its calls; undefined (error recorded) when the render fails. */
  capture(raw: string, file: string, config: NodeConfig, self: JinjaRelation | null, envSeen?: Record<string, string | null>): Captured | undefined {
    const captured: Captured = { refs: [], sources: [], config: {} };
    const ctx = buildContext({ ...this.baseContextInput, self, model: { name: self?.identifier }, config, file, hooks: this.hooks(file, envSeen), captured });
    const ok = this.input.diags.capture(() => this.input.jinja.render(raw, ctx, { file, lenientUndefined: true }));
    if (ok === undefined) return undefined;
    for (const r of captured.refs) {
      r.line = lineOf(raw, new RegExp(`ref\\s*\\((?:\\s*['"][^'"]*['"]\\s*,)?\\s*['"]${escapeRe(r.name)}['"]`));
    }
    return captured;
  }

  /**
   * dbt's parse-phase render of a generic test node: renders its `rawCode`
   * (`{{ test_<name>(**_dbt_generic_test_kwargs) }}`) with `execute` false, lenient
   * undefined and the kwargs `kwargsFor` builds from the capturing context, recording the
   * `ref`/`source`/`config` calls the macro body makes (dbt-core renders each
   * generic test node through its macro at parse, so refs inside the macro
   * land in the test's depends_on). `file` is the properties file, for
   * messages. Undefined (error recorded in diags) when the macro fails.
   */
  captureGenericTest(
    rawCode: string,
    kwargsFor: (ctx: Record<string, unknown>) => Record<string, unknown>,
    file: string,
    config: NodeConfig,
    model: Record<string, unknown>,
  ): Captured | undefined {
    const captured: Captured = { refs: [], sources: [], config: {} };
    const ctx = buildContext({ ...this.baseContextInput, self: null, model, config, file, hooks: this.hooks(file), captured });
    const { jinja } = this.input;
    const ok = this.input.diags.capture(() => {
      const kwargs = kwargsFor(ctx);
      return jinja.render(rawCode, { ...ctx, _dbt_generic_test_kwargs: kwargs }, { file, lenientUndefined: true });
    });
    return ok === undefined ? undefined : captured;
  }

  /**
   * The parse-phase capture of a file that needs a render: the cached one
   * when it was rendered with the same config and saw the same environment
   * variables, else a fresh render.
   */
  captureCached(cached: RenderCapture | undefined, raw: string, file: string, config: NodeConfig, self: JinjaRelation | null): RenderCapture | undefined {
    const { env } = this.input;
    const key = configKey(config);
    if (cached && cached.configKey === key && Object.entries(cached.env).every(([k, v]) => envFingerprint(env[k]) === v)) return cached;
    const envSeen: Record<string, string | null> = {};
    const c = this.capture(raw, file, config, self, envSeen);
    if (!c) return undefined;
    const fingerprints: Record<string, string | null> = {};
    for (const k of Object.keys(envSeen)) fingerprints[k] = envFingerprint(env[k]);
    return { configKey: key, refs: c.refs, sources: c.sources, config: c.config, env: fingerprints };
  }
}

/**
 * What partial_parse.json may keep of a capture: nothing when the render read a
 * secret-named env var (its value could sit in the captured config), so such a
 * file is rendered again every time and its secret registered for masking.
 */
export function cacheable(c: RenderCapture | undefined): RenderCapture | undefined {
  return c && Object.keys(c.env).some(isSecretName) ? undefined : c;
}

/** A one-way fingerprint of an environment variable's value (null when unset): the cache never stores values. */
function envFingerprint(v: string | undefined): string | null {
  return v === undefined ? null : createHash('sha256').update(v).digest('hex').slice(0, 16);
}
