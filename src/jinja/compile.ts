/**
 * Turns template source into a nunjucks root function, with the changes dbt's
 * Jinja needs at compile time:
 *
 * - lexer: `}}` inside a dict literal closes the dict, not the tag
 *   (`{{ {'a': {'b': 1}} }}`);
 * - parser: `{% set a, b = … %}` (unpacking); `{% include/import/from/
 *   extends/block %}` refused (dbt renders each file alone);
 * - compiler: Python truthiness in `if`/`and`/`or`/`not`/inline-if, `==` by
 *   value, `+`/`-`/`*`/`%`/`~` with Python meaning, `(a, b)` tuples, slices,
 *   dict iteration, `{% for x in s if c %}` loop filters, `{% set ns.x = … %}`,
 *   unknown filters/tests as compile errors, line numbers for calls, lookups,
 *   filters and tests, and a try/catch in every macro so dbt's `return()`
 *   works and errors name the macro's own file and line;
 * - tags: `{% do %}`, `{% test %}`/`{% data_test %}` (defines macro
 *   `test_<name>`), `{% docs %}` (renders nothing), `{% snapshot %}` (renders
 *   its body) and `{% materialization %}` (refused with a clear error).
 *
 * Source text is never rewritten, so line and column numbers are the user's.
 */
import nunjucks from 'nunjucks';
import { createRequire } from 'node:module';
import { TsdbtError } from '../errors.ts';
import { findUnclosedBlock } from './blocks.ts';
import { closestName } from './runtime.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

const require = createRequire(import.meta.url);
const N: Any = nunjucks;
const lexer: Any = N.lexer;
const nodes: Any = N.nodes;
const transformer: Any = require('nunjucks/src/transformer.js');
const BaseParser: Any = N.parser.Parser;
const BaseCompiler: Any = N.compiler.Compiler;
const BaseTokenizer: Any = Object.getPrototypeOf(lexer.lex('', {})).constructor;

// Slices (`x[1:3]`) come from nunjucks' own Jinja compatibility layer; it
// also patches nunjucks' global runtime, which tsdbt does not use.
let compatInstalled = false;
function installCompatOnce(): void {
  if (compatInstalled) return;
  N.installJinjaCompat();
  compatInstalled = true;
}

/** `cond` as Python truthiness: compiles to `runtime.tsTruthy(cond)`. */
const TsTruthy: Any = nodes.Node.extend('TsTruthy', { fields: ['target'] });
/** `x` as the iterable of a one-variable for loop: dicts give their keys. */
const TsIter: Any = nodes.Node.extend('TsIter', { fields: ['target'] });
/** `seq` of `{% for x in seq if cond %}`: the items for which `cond` holds (Jinja's loop filter). */
const TsLoopFilter: Any = nodes.Node.extend('TsLoopFilter', { fields: ['arr', 'name', 'cond'] });
/** `a, b = value`: `value` as a list of exactly `count` items. */
const TsUnpack: Any = nodes.Node.extend('TsUnpack', { fields: ['target', 'count'] });

class TsTokenizer extends BaseTokenizer {
  curly = 0;

  constructor(source: string, opts: unknown) {
    super(source, opts);
  }

  nextToken(): Any {
    const self = this as Any;
    if (self.in_code && this.curly > 0 && self.str.charAt(self.index) === '}') {
      const tok = { type: lexer.TOKEN_RIGHT_CURLY, value: '}', lineno: self.lineno, colno: self.colno };
      self.forward();
      this.curly--;
      return tok;
    }
    const tok = super.nextToken();
    if (tok) {
      if (tok.type === lexer.TOKEN_LEFT_CURLY) this.curly++;
      else if (tok.type === lexer.TOKEN_RIGHT_CURLY) this.curly--;
      else if (tok.type !== lexer.TOKEN_WHITESPACE && !self.in_code) this.curly = 0;
    }
    return tok;
  }
}

/** Tags of Jinja's template inheritance and inclusion, which dbt projects cannot use. */
function refuseTemplateTag(parser: Any, tag: string): never {
  const tok = parser.peekToken();
  parser.fail(`{% ${tag} %} is not supported: dbt renders each file on its own`, tok?.lineno, tok?.colno);
  throw new Error('unreachable');
}

/** Source-like text of an expression, for error messages: `a.b`, `f()`. */
function nodeName(node: Any): string {
  if (node instanceof nodes.Symbol) return String(node.value);
  if (node instanceof nodes.LookupVal) {
    const v = node.val instanceof nodes.Literal ? node.val.value : undefined;
    const t = nodeName(node.target);
    if (typeof v === 'string') return `${t}.${v}`;
    return typeof v === 'number' ? `${t}[${v}]` : `${t}[…]`;
  }
  if (node instanceof nodes.FunCall) return `${nodeName(node.name)}()`;
  if (node instanceof nodes.Literal) return node.value === null ? 'none' : JSON.stringify(node.value);
  return 'expression';
}

class TsParser extends BaseParser {
  constructor(tokens: unknown) {
    super(tokens);
  }

  parseInclude(): never {
    return refuseTemplateTag(this, 'include');
  }

  parseImport(): never {
    return refuseTemplateTag(this, 'import');
  }

  parseFrom(): never {
    return refuseTemplateTag(this, 'from');
  }

  parseExtends(): never {
    return refuseTemplateTag(this, 'extends');
  }

  parseBlock(): never {
    return refuseTemplateTag(this, 'block');
  }

  /**
   * `{% set x = v %}`, `{% set x %}…{% endset %}`, and (unlike nunjucks)
   * `{% set a, b = 1, 2 %}` / `{% set a, b = pair %}` with Python unpacking.
   */
  parseSet(): Any {
    const tag = this.peekToken();
    if (!this.skipSymbol('set')) this.fail('parseSet: expected set', tag.lineno, tag.colno);
    const node = new nodes.Set(tag.lineno, tag.colno, []);
    for (;;) {
      const target = this.parsePrimary();
      if (!target) break;
      node.targets.push(target);
      if (!this.skip(lexer.TOKEN_COMMA)) break;
    }
    if (this.skipValue(lexer.TOKEN_OPERATOR, '=')) {
      const first = this.parseExpression();
      if (this.skip(lexer.TOKEN_COMMA)) {
        const items = [first];
        do items.push(this.parseExpression());
        while (this.skip(lexer.TOKEN_COMMA));
        node.value = new nodes.Array(first.lineno, first.colno, items);
      } else node.value = first;
      if (node.targets.length > 1) node.value = new TsUnpack(first.lineno, first.colno, node.value, node.targets.length);
      this.advanceAfterBlockEnd(tag.value);
      return node;
    }
    if (!this.skip(lexer.TOKEN_BLOCK_END)) this.fail('parseSet: expected = or block end in set tag', tag.lineno, tag.colno);
    node.body = new nodes.Capture(tag.lineno, tag.colno, this.parseUntilBlocks('endset'));
    node.value = null;
    this.advanceAfterBlockEnd();
    return node;
  }
}

class TsCompiler extends BaseCompiler {
  constructor(templateName: string, throwOnUndefined: boolean) {
    super(templateName, throwOnUndefined);
  }

  assertType(node: Any, ...types: Any[]): void {
    if (node instanceof TsTruthy || node instanceof TsIter || node instanceof TsLoopFilter || node instanceof TsUnpack) return;
    super.assertType(node, ...types);
  }

  compileTsTruthy(node: Any, frame: Any): void {
    this._emit('runtime.tsTruthy(');
    this.compile(node.target, frame);
    this._emit(')');
  }

  compileTsIter(node: Any, frame: Any): void {
    this._emit('runtime.tsIter(');
    this._compileExpression(node.target, frame);
    this._emit(')');
  }

  compileTsLoopFilter(node: Any, frame: Any): void {
    const arr = this._tmpid();
    const out = this._tmpid();
    const i = this._tmpid();
    this._emit(`(function() { var ${arr} = runtime.fromIterator(runtime.tsIter(`);
    this._compileExpression(node.arr, frame);
    this._emit(`)) || []; var ${out} = []; for (var ${i} = 0; ${i} < ${arr}.length; ${i}++) {`);
    const inner = frame.push();
    const names = node.name instanceof nodes.Array ? node.name.children : [node.name];
    names.forEach((n: Any, k: number) => {
      const id = this._tmpid();
      this._emit(`var ${id} = ${arr}[${i}]${names.length > 1 ? `[${k}]` : ''};`);
      inner.set(n.value, id);
    });
    this._emit('if (runtime.tsTruthy(');
    this._compileExpression(node.cond, inner);
    this._emit(`)) ${out}.push(${arr}[${i}]); } return ${out}; })()`);
  }

  compileTsUnpack(node: Any, frame: Any): void {
    this._emit('runtime.tsUnpack(');
    this._compileExpression(node.target, frame);
    this._emit(`, ${Number(node.count)})`);
  }

  compileIf(node: Any, frame: Any, async: boolean): void {
    if (!(node.cond instanceof TsTruthy)) node.cond = new TsTruthy(node.cond.lineno, node.cond.colno, node.cond);
    super.compileIf(node, frame, async);
  }

  compileInlineIf(node: Any, frame: Any): void {
    this._emit('(runtime.tsTruthy(');
    this.compile(node.cond, frame);
    this._emit(') ? ');
    this.compile(node.body, frame);
    this._emit(' : ');
    if (node.else_ !== null && node.else_ !== undefined) this.compile(node.else_, frame);
    else this._emit('undefined');
    this._emit(')');
  }

  compileNot(node: Any, frame: Any): void {
    this._emit('!runtime.tsTruthy(');
    this.compile(node.target, frame);
    this._emit(')');
  }

  // Python `a or b` / `a and b` return an operand. runtime.tsTmp holds the
  // left value only between its evaluation and the test, which is safe because
  // nothing else runs in between.
  compileOr(node: Any, frame: Any): void {
    this._emit('(runtime.tsTruthy(runtime.tsTmp = ');
    this.compile(node.left, frame);
    this._emit(') ? runtime.tsTmp : ');
    this.compile(node.right, frame);
    this._emit(')');
  }

  compileAnd(node: Any, frame: Any): void {
    this._emit('(!runtime.tsTruthy(runtime.tsTmp = ');
    this.compile(node.left, frame);
    this._emit(') ? runtime.tsTmp : ');
    this.compile(node.right, frame);
    this._emit(')');
  }

  private binaryCall(fn: string, node: Any, frame: Any): void {
    this._emit(`runtime.${fn}(`);
    this.compile(node.left, frame);
    this._emit(', ');
    this.compile(node.right, frame);
    this._emit(`, (lineno = ${node.lineno}, colno = ${node.colno}))`);
  }

  /** `(a, b)` is a Python tuple (a list here), not JavaScript's comma operator. */
  compileGroup(node: Any, frame: Any): void {
    if (node.children.length > 1) this._compileAggregate(node, frame, '[', ']');
    else super.compileGroup(node, frame);
  }

  compileAdd(node: Any, frame: Any): void {
    this.binaryCall('tsAdd', node, frame);
  }

  compileSub(node: Any, frame: Any): void {
    this.binaryCall('tsSub', node, frame);
  }

  compileMul(node: Any, frame: Any): void {
    this.binaryCall('tsMul', node, frame);
  }

  compileMod(node: Any, frame: Any): void {
    this.binaryCall('tsMod', node, frame);
  }

  compileConcat(node: Any, frame: Any): void {
    this.binaryCall('tsConcat', node, frame);
  }

  compileCompare(node: Any, frame: Any): void {
    const op = node.ops.length === 1 ? node.ops[0].type : undefined;
    if (op === '==' || op === '!=') {
      this._emit(op === '==' ? 'runtime.tsEq(' : '!runtime.tsEq(');
      this.compile(node.expr, frame);
      this._emit(', ');
      this.compile(node.ops[0].expr, frame);
      this._emit(')');
      return;
    }
    super.compileCompare(node, frame);
  }

  compileLookupVal(node: Any, frame: Any): void {
    const s = node.val;
    if (s && s.typename === 'Slice') {
      this._emit('runtime.tsSlice((');
      this._compileExpression(node.target, frame);
      this._emit('),');
      this._compileExpression(s.start, frame);
      this._emit(',');
      this._compileExpression(s.stop, frame);
      this._emit(',');
      this._compileExpression(s.step, frame);
      this._emit(')');
      return;
    }
    // Extra arguments name the target and its position, for "'x' is undefined" errors.
    let head = node.target;
    while (head instanceof nodes.LookupVal) head = head.target;
    const at = head && head.lineno === node.lineno ? head : node;
    this._emit('runtime.memberLookup((');
    this._compileExpression(node.target, frame);
    this._emit('),');
    this._compileExpression(node.val, frame);
    this._emit(`, ${JSON.stringify(nodeName(node.target))}, ${at.lineno}, ${at.colno})`);
  }

  /** Errors in a call point at the called name (`foo` in `foo(1)`), not at its parenthesis. */
  compileFunCall(node: Any, frame: Any): void {
    let head = node.name;
    while (head instanceof nodes.LookupVal || head instanceof nodes.FunCall) head = head instanceof nodes.LookupVal ? head.target : head.name;
    if (head && typeof head.lineno === 'number' && head.lineno === node.lineno) node.colno = head.colno;
    super.compileFunCall(node, frame);
    // Calls inside the arguments moved lineno on; point it back at this call
    // (an extra callWrap argument, evaluated after the argument list).
    const buf: string[] = this.codebuf;
    if (buf[buf.length - 2] !== '])') throw new Error('tsdbt: nunjucks emitted call code of an unexpected shape (nunjucks version changed?)');
    buf[buf.length - 2] = `], (lineno = ${node.lineno}, colno = ${node.colno}))`;
  }

  compileFilter(node: Any, frame: Any): void {
    this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, `);
    super.compileFilter(node, frame);
    this._emit(')');
  }

  compileIs(node: Any, frame: Any): void {
    this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, `);
    super.compileIs(node, frame);
    this._emit(')');
  }

  compileFor(node: Any, frame: Any): void {
    if (node.arr instanceof nodes.InlineIf && !node.arr.else_) {
      // {% for x in seq if cond %}: Jinja's loop filter, not an inline if.
      node.arr = new TsLoopFilter(node.arr.lineno, node.arr.colno, node.arr.body, node.name, node.arr.cond);
    }
    if (!(node.name instanceof nodes.Array) && !(node.arr instanceof TsIter)) {
      node.arr = new TsIter(node.arr.lineno, node.arr.colno, node.arr);
    }
    super.compileFor(node, frame);
  }

  compileSet(node: Any, frame: Any): void {
    const target = node.targets[0];
    if (node.targets.length === 1 && target instanceof nodes.LookupVal) {
      // {% set ns.x = value %} / {% set ns.x %}…{% endset %}
      this._emit('runtime.tsSetAttr(');
      this._compileExpression(target.target, frame);
      this._emit(', ');
      this._compileExpression(target.val, frame);
      this._emit(', ');
      if (node.value) this._compileExpression(node.value, frame);
      else this.compile(node.body, frame);
      this._emitLine(');');
      return;
    }
    for (const t of node.targets) {
      if (!(t instanceof nodes.Symbol)) this.fail('set: can only assign to a name or to name.attribute', t.lineno, t.colno);
    }
    if (node.value instanceof TsUnpack) {
      const tmp = this._tmpid();
      this._emit(`var ${tmp} = `);
      this._compileExpression(node.value, frame);
      this._emitLine(';');
      node.targets.forEach((t: Any, k: number) => {
        let id = frame.lookup(t.value);
        if (id === null || id === undefined) {
          id = this._tmpid();
          this._emitLine(`var ${id};`);
        }
        this._emitLine(`${id} = ${tmp}[${k}];`);
        this._emitLine(`frame.set(${JSON.stringify(t.value)}, ${id}, true);`);
        this._emitLine(`if (frame.topLevel) { context.setVariable(${JSON.stringify(t.value)}, ${id}); }`);
      });
      return;
    }
    super.compileSet(node, frame);
  }

  _compileMacro(node: Any, frame: Any): string {
    const buf: string[] = this.codebuf;
    const start = buf.length;
    const funcId = super._compileMacro(node, frame);
    let h = -1;
    for (let i = start; i < buf.length; i++) {
      if (buf[i] === 'var callerFrame = frame;\n') {
        h = i;
        break;
      }
    }
    let callerLine = -1;
    for (let i = h; h >= 0 && i < Math.min(buf.length, h + 8); i++) {
      if (buf[i].startsWith('frame.set("caller"')) {
        callerLine = i;
        break;
      }
    }
    if (h < 0 || callerLine < 0 || buf[buf.length - 1] !== '});\n') {
      throw new Error('tsdbt: nunjucks emitted macro code of an unexpected shape (nunjucks version changed?)');
    }
    const isCaller = node.typename === 'Caller';
    const name = isCaller ? 'caller' : String(node.name?.value ?? '');
    buf[h] = 'var callerFrame = frame;\ntry {\n';
    const usesKwargs = node.body.findAll(nodes.Symbol).some((s: Any) => s.value === 'kwargs');
    if (usesKwargs) {
      const declared: string[] = [];
      for (const a of node.args.children) {
        if (a instanceof nodes.Symbol) declared.push(a.value);
        else if (a instanceof nodes.Dict || a instanceof nodes.KeywordArgs) for (const p of a.children) declared.push(p.key.value);
      }
      buf[callerLine] += `frame.set("kwargs", runtime.tsExtraKwargs(kwargs, ${JSON.stringify(declared)}));\n`;
    }
    buf[buf.length - 1] =
      `} catch (e) { frame = callerFrame; return runtime.tsMacroCatch(e, lineno, colno, ${JSON.stringify(this.templateName)}, ${JSON.stringify(name)}, ${isCaller}); }\n});\n`;
    return funcId;
  }
}

/** Parses `{% tag name %}` headers for the block extensions below. */
function parseBlockName(parser: Any, tagName: string): Any {
  const tok = parser.peekToken();
  if (!tok || tok.type !== lexer.TOKEN_SYMBOL) parser.fail(`{% ${tagName} %} needs a name, e.g. {% ${tagName} my_name %}`, tok?.lineno, tok?.colno);
  return parser.nextToken();
}

/** `{% do expr %}`: evaluates `expr`, outputs nothing. */
export const doExtension = {
  tags: ['do'],
  parse(parser: Any): Any {
    const tok = parser.nextToken();
    const expr = parser.parseExpression();
    parser.advanceAfterBlockEnd(tok.value);
    return new nodes.CallExtension(this, 'run', new nodes.NodeList(tok.lineno, tok.colno, [expr]), []);
  },
  run(): string {
    return '';
  },
};

/** `{% test name(args) %}…{% endtest %}` defines macro `test_name` (dbt's generic tests). */
export const testExtension = {
  tags: ['test', 'data_test'],
  parse(parser: Any): Any {
    const tok = parser.nextToken();
    const nameTok = parseBlockName(parser, tok.value);
    const args = parser.parseSignature();
    parser.advanceAfterBlockEnd(tok.value);
    const body = parser.parseUntilBlocks('end' + tok.value);
    parser.advanceAfterBlockEnd();
    const name = new nodes.Symbol(nameTok.lineno, nameTok.colno, 'test_' + nameTok.value);
    return new nodes.Macro(tok.lineno, tok.colno, name, args, body);
  },
};

/** `{% docs name %}…{% enddocs %}` renders nothing (read with extractDocBlocks). */
export const docsExtension = {
  tags: ['docs'],
  parse(parser: Any): Any {
    const tok = parser.nextToken();
    parseBlockName(parser, 'docs');
    parser.advanceAfterBlockEnd(tok.value);
    const m = parser.tokens._extractRegex(/([\s\S]*?)\{%(-?)\s*enddocs\s*(-?)%\}/);
    if (!m) parser.fail('{% docs %} block is never closed with {% enddocs %}', tok.lineno, tok.colno);
    if (m[3] === '-') parser.dropLeadingWhitespace = true;
    return new nodes.Output(tok.lineno, tok.colno, []);
  },
};

/** Collected by `{% snapshot %}` during a render: the block's name and rendered body. */
export interface RenderedSnapshot {
  readonly name: string;
  readonly body: string;
}

/** `{% snapshot name %}…{% endsnapshot %}` renders its body and records it on the context. */
export const snapshotExtension = {
  tags: ['snapshot'],
  parse(parser: Any): Any {
    const tok = parser.nextToken();
    const nameTok = parseBlockName(parser, 'snapshot');
    parser.advanceAfterBlockEnd(tok.value);
    const body = parser.parseUntilBlocks('endsnapshot');
    parser.advanceAfterBlockEnd();
    const args = new nodes.NodeList(tok.lineno, tok.colno, [new nodes.Literal(nameTok.lineno, nameTok.colno, nameTok.value)]);
    return new nodes.CallExtension(this, 'run', args, [body]);
  },
  run(context: { snapshots?: RenderedSnapshot[] }, name: string, body: () => string): unknown {
    const text = body();
    context.snapshots?.push({ name, body: text });
    return new N.runtime.SafeString(text);
  },
};

class UnsupportedMaterialization extends Error {
  constructor(
    readonly materialization: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`custom materialization '${materialization}' is not supported`);
  }
}

/** The error for a `{% materialization %}` block in `file`. */
export function unsupportedMaterialization(name: string, file: string, line: number, column: number): TsdbtError {
  return new TsdbtError('unsupported-materialization-block', `custom materialization '${name}' in ${file} is not supported by tsdbt`, {
    file,
    line,
    column,
    hint: 'Remove the {% materialization %} block and use a built-in materialization (view, table, incremental, ephemeral).',
  });
}

/** `{% materialization %}`: custom materializations are not supported by tsdbt. */
export const materializationExtension = {
  tags: ['materialization'],
  parse(parser: Any): never {
    const tok = parser.nextToken();
    throw new UnsupportedMaterialization(String(parser.peekToken()?.value ?? ''), tok.lineno + 1, tok.colno + 1);
  },
};

/** The extensions tsdbt registers on its nunjucks Environment, by name. */
export const EXTENSIONS: Record<string, object> = {
  tsdbt_do: doExtension,
  tsdbt_test: testExtension,
  tsdbt_docs: docsExtension,
  tsdbt_snapshot: snapshotExtension,
  tsdbt_materialization: materializationExtension,
};

/** A compiled template: call `root(env, context, frame, runtime, cb)`. */
export interface CompiledTemplate {
  readonly root: (env: unknown, context: unknown, frame: unknown, runtime: unknown, cb: (err: unknown, out?: string) => void) => void;
  /** Names of macros defined at the top level, with their argument lists and the names they call. */
  readonly macros: readonly CompiledMacroInfo[];
}

/** What the compiler learnt about one top-level macro. */
export interface CompiledMacroInfo {
  readonly name: string;
  /** 1-based line of the macro's name. */
  readonly line: number;
  /** Functions called in the body by plain name (`foo()`) or as `pkg.foo()`. */
  readonly calls: readonly string[];
}

function hintForSyntax(msg: string): string {
  if (/unknown block tag: (\w+)/.test(msg)) {
    const tag = /unknown block tag: (\w+)/.exec(msg)![1];
    if (tag.startsWith('end')) return `There is no open {% ${tag.slice(3)} %} for this {% ${tag} %}; check that blocks are closed in order.`;
    return `'{% ${tag} %}' is not a Jinja tag tsdbt knows; check the spelling, or write it as {% do ${tag}(...) %} / {{ ${tag}(...) }} if it is a macro.`;
  }
  if (/is not supported: dbt renders each file/.test(msg)) return 'Put the shared SQL in a macro (a .sql file under macro-paths) and call it: {{ my_macro() }}.';
  if (/^no (filter|test) named/.test(msg)) return msg.includes('did you mean') ? 'Fix the name.' : 'Check the name against the Jinja filters and tests listed in src/jinja/README.md.';
  if (/expected (variable|block) end/.test(msg)) return 'Close the tag: {{ … }} for expressions, {% … %} for statements.';
  if (/unexpected end of file/.test(msg) || /expected elif, else, or endif|expected endfor|endmacro/.test(msg)) {
    return 'A block is not closed: every {% if %}, {% for %}, {% macro %}, {% set %}…{% endset %} and {% call %} needs its end tag.';
  }
  return 'Fix the Jinja syntax at this position.';
}

/** Unknown filters and tests are compile errors, as in Jinja (with a "did you mean"). */
function checkFiltersAndTests(ast: Any, env: Any): void {
  const check = (kind: 'filter' | 'test', name: unknown, node: Any, known: Record<string, unknown>) => {
    const n = name === null ? 'null' : String(name);
    if (Object.prototype.hasOwnProperty.call(known, n)) return;
    const near = closestName(n, Object.keys(known));
    const err = new (N.lib.TemplateError)(`no ${kind} named '${n}'${near ? ` (did you mean '${near}'?)` : ''}`, node.lineno + 1, node.colno + 1);
    throw err;
  };
  for (const f of ast.findAll(nodes.Filter)) check('filter', f.name.value, f.name, env.filters);
  for (const t of ast.findAll(nodes.Is)) {
    const right = t.right;
    check('test', right.name ? right.name.value : right.value, right, env.tests);
  }
}

function collectCalls(body: Any): string[] {
  const out = new Set<string>();
  for (const fc of body.findAll(nodes.FunCall)) {
    const n = fc.name;
    if (n instanceof nodes.Symbol) out.add(n.value);
    else if (n instanceof nodes.LookupVal && n.target instanceof nodes.Symbol && n.val instanceof nodes.Literal) {
      out.add(`${n.target.value}.${String(n.val.value)}`);
    }
  }
  return [...out];
}

/**
 * Compiles `source` (a model, macro file or any dbt Jinja text) for `env`.
 * `file` is the project-relative path used in errors and in macro error locations.
 * Throws TsdbtError `jinja-syntax` (1-based line/column in `file`) or
 * `unsupported-materialization-block`.
 */
export function compileTemplate(source: string, file: string, env: Any): CompiledTemplate {
  installCompatOnce();
  let code: string;
  const macros: CompiledMacroInfo[] = [];
  try {
    const tokens = new TsTokenizer(source, env.opts);
    const parser = new TsParser(tokens);
    parser.extensions = env.extensionsList;
    const ast = parser.parseAsRoot();
    for (const child of ast.children) {
      if (child instanceof nodes.Macro) {
        macros.push({ name: child.name.value, line: child.lineno + 1, calls: collectCalls(child.body) });
      }
    }
    checkFiltersAndTests(ast, env);
    const c = new TsCompiler(file, false);
    c.compile(transformer.transform(ast, env.asyncFilters, file));
    code = c.getCode();
  } catch (e) {
    if (e instanceof UnsupportedMaterialization) throw unsupportedMaterialization(e.materialization, file, e.line, e.column);
    const err = e as { message?: string; lineno?: number; colno?: number };
    let msg = String(err.message ?? e).replace(/^\(unknown path\)\s*/, '');
    let line = err.lineno;
    let column = err.colno;
    if (line === undefined || /end of file/.test(msg)) {
      const open = findUnclosedBlock(source);
      if (open) {
        msg = `{% ${open.tag} %} is never closed (${msg})`;
        ({ line, column } = open);
      }
    }
    throw new TsdbtError('jinja-syntax', `Jinja syntax error in ${file}: ${msg}`, { file, line, column, hint: hintForSyntax(msg), cause: e });
  }
  const props = new Function(code)() as { root: CompiledTemplate['root'] };
  return { root: props.root, macros };
}
