/**
 * Turns template source into a nunjucks root function that behaves as
 * Jinja2 3.1 with dbt's `do` and `loopcontrols` extensions:
 *
 * - lexer: Python string and number literals, `}` inside a dict literal
 *   closes the dict, not the tag (`{{ {'a': {'b': 1}} }}`), no `r/…/` regexes;
 * - parser: Jinja's expression grammar (precedence, tuples, trailing commas,
 *   `*args`/`**kwargs`, expression dict keys, adjacent strings, `is` tests,
 *   slices), macro signatures, `{% set a, b = … %}`, `{% set x | f %}`,
 *   `{% filter f | g %}`, `{% with %}`, `{% raw %}`, `{% break/continue %}`;
 *   `{% include/import/from/extends/block %}` refused (dbt renders each file alone);
 * - compiler: Python truthiness, comparisons and operators, for loops with
 *   Jinja's scoping and `loop` object, macro argument binding (varargs,
 *   kwargs, caller), unknown filters/tests as compile errors outside `if`,
 *   line numbers for calls, lookups, filters and tests, and a try/catch in
 *   every macro so dbt's `return()` works and errors name the macro's own
 *   file and line;
 * - tags: `{% do %}`, `{% test %}`/`{% data_test %}` (defines macro
 *   `test_<name>`), `{% docs %}` (renders nothing), `{% snapshot %}` (renders
 *   its body) and `{% materialization %}` (a macro `materialization_<name>_<adapter>`, as dbt).
 *
 * Source text is never rewritten (except newline normalisation), so line and
 * column numbers are the user's.
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


/** `cond` as Python truthiness: compiles to `runtime.tsTruthy(cond)`. */
const TsTruthy: Any = nodes.Node.extend('TsTruthy', { fields: ['target'] });
/** `seq` of `{% for x in seq if cond %}`: the items for which `cond` holds (Jinja's loop filter). */
const TsLoopFilter: Any = nodes.Node.extend('TsLoopFilter', { fields: ['arr', 'name', 'cond'] });
/** `a, b = value`: `value` as a list of exactly `count` items. */
const TsUnpack: Any = nodes.Node.extend('TsUnpack', { fields: ['target', 'count'] });
/** `(a, b)`, `(a,)`, `()` and `a, b` in `{% set %}`: a Python tuple. */
const TsTuple: Any = nodes.NodeList.extend('TsTuple');
/** `*args` in a call. */
const TsStarArgs: Any = nodes.Node.extend('TsStarArgs', { fields: ['target'] });
/** `**kwargs` in a call. */
const TsStarKwargs: Any = nodes.Node.extend('TsStarKwargs', { fields: ['target'] });
/** `{% with a = 1 %}…{% endwith %}`: names bound in a scope of their own. */
const TsWith: Any = nodes.Node.extend('TsWith', { fields: ['targets', 'values', 'body'] });
/** `x[a:b:c]`. */
const TsSlice: Any = nodes.Node.extend('TsSlice', { fields: ['start', 'stop', 'step'] });
/** `{% break %}` / `{% continue %}` (Jinja's loopcontrols extension, which dbt enables). */
const TsLoopControl: Any = nodes.Node.extend('TsLoopControl', { fields: ['kind'] });

/** Jinja's number literals: `1_000`, `2.5`, `1e3`, `1.5e-3` (no `.`-prefixed floats). */
const NUMBER_RE = /(?:\d+_)*\d+(?:(?:\.(?:\d+_)*\d+)?[eE][+-]?(?:\d+_)*\d+|\.(?:\d+_)*\d+)?/y;
const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };

/**
 * Jinja's lexer rules where nunjucks' differ: Python string escapes
 * (`\n`, `\'`, `\xNN`, `\uNNNN`, backslash-newline, unknown escapes kept),
 * Python number literals, no `r/regex/` literals, and `}` closing a dict
 * literal inside `{{ … }}`.
 */
class TsTokenizer extends BaseTokenizer {
  curly = 0;

  constructor(source: string, opts: unknown) {
    super(source, opts);
  }

  /** A Python string literal starting at the current quote; the unicode-escape rules Jinja applies. */
  private pyString(lineno: number, colno: number): Any {
    const self = this as Any;
    const str: string = self.str;
    const q = str.charAt(self.index);
    let i = self.index + 1;
    let out = '';
    for (;;) {
      if (i >= str.length) self.forwardN(i - self.index), this.failAt('unexpected end of string', lineno, colno);
      const ch = str.charAt(i);
      if (ch === q) break;
      if (ch !== '\\') {
        out += ch;
        i++;
        continue;
      }
      const nx = str.charAt(i + 1);
      if (nx === '\n') {
        i += 2;
      } else if (nx === 'x' || nx === 'u' || nx === 'U') {
        const n = nx === 'x' ? 2 : nx === 'u' ? 4 : 8;
        const hex = str.slice(i + 2, i + 2 + n);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) this.failAt(`invalid \\${nx} escape in string`, lineno, colno);
        out += String.fromCodePoint(parseInt(hex, 16));
        i += 2 + n;
      } else if (nx >= '0' && nx <= '7') {
        const m = /^[0-7]{1,3}/.exec(str.slice(i + 1, i + 4))![0];
        out += String.fromCodePoint(parseInt(m, 8));
        i += 1 + m.length;
      } else if (Object.prototype.hasOwnProperty.call(SIMPLE_ESCAPES, nx)) {
        out += SIMPLE_ESCAPES[nx];
        i += 2;
      } else {
        out += '\\';
        i += 1;
      }
    }
    self.forwardN(i + 1 - self.index);
    return { type: lexer.TOKEN_STRING, value: out, lineno, colno };
  }

  private failAt(msg: string, lineno: number, colno: number): never {
    throw new (N.lib.TemplateError)(msg, lineno + 1, colno + 1);
  }

  nextToken(): Any {
    const self = this as Any;
    if (self.in_code && !self.isFinished()) {
      const cur: string = self.str.charAt(self.index);
      if (this.curly > 0 && cur === '}') {
        const tok = { type: lexer.TOKEN_RIGHT_CURLY, value: '}', lineno: self.lineno, colno: self.colno };
        self.forward();
        this.curly--;
        return tok;
      }
      if (cur === '+' && (self.str.startsWith('%}', self.index + 1) || (self.index >= 2 && self.str.startsWith('{%', self.index - 2)))) {
        // `{%+` / `+%}`: Jinja's markers that turn off lstrip_blocks/trim_blocks, which dbt leaves off anyway.
        self.forward();
        return this.nextToken();
      }
      if (cur === '"' || cur === "'") return this.pyString(self.lineno, self.colno);
      if (cur >= '0' && cur <= '9') {
        const lineno = self.lineno;
        const colno = self.colno;
        const afterDot = self.index > 0 && self.str.charAt(self.index - 1) === '.';
        let text: string;
        if (afterDot) text = /^\d+/.exec(self.str.slice(self.index, self.index + 32))![0];
        else {
          NUMBER_RE.lastIndex = self.index;
          text = NUMBER_RE.exec(self.str)![0];
        }
        self.forwardN(text.length);
        const isFloat = /[.eE]/.test(text);
        return { type: isFloat ? lexer.TOKEN_FLOAT : lexer.TOKEN_INT, value: text.replace(/_/g, ''), lineno, colno };
      }
      if (cur === 'r' && self.str.charAt(self.index + 1) === '/') {
        // nunjucks reads `r/…/` as a regex literal; in Jinja it is the name `r` then `/`.
        const tok = { type: lexer.TOKEN_SYMBOL, value: 'r', lineno: self.lineno, colno: self.colno };
        self.forward();
        return tok;
      }
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
/** Names Jinja reads as constants. */
const CONSTANTS: Record<string, unknown> = { true: true, True: true, false: false, False: false, none: null, None: null };

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

  private ensure(ok: boolean, msg: string, tok: Any): void {
    if (!ok) this.fail(msg, tok?.lineno, tok?.colno);
  }

  private isOp(tok: Any, value: string): boolean {
    return !!tok && tok.type === lexer.TOKEN_OPERATOR && tok.value === value;
  }

  /** Jinja's statements; nunjucks-only tags (`switch`, `verbatim`, async loops) are unknown, as in Jinja. */
  parseStatement(): Any {
    const tok = this.peekToken();
    if (tok && tok.type === lexer.TOKEN_SYMBOL && !(this.breakOnBlocks && this.breakOnBlocks.includes(tok.value))) {
      switch (tok.value) {
        case 'break':
        case 'continue': {
          this.nextToken();
          this.advanceAfterBlockEnd(tok.value);
          return new TsLoopControl(tok.lineno, tok.colno, tok.value);
        }
        case 'with':
          return this.parseWith();
        case 'switch':
        case 'verbatim':
        case 'ifAsync':
        case 'asyncEach':
        case 'asyncAll':
          this.fail('unknown block tag: ' + tok.value, tok.lineno, tok.colno);
      }
    }
    return super.parseStatement();
  }

  /** Constants (`true`, `True`, `none`, `None`…), adjacent string literals joined (`'a' 'b'`), `null` as a plain name. */
  parsePrimary(noPostfix?: boolean): Any {
    const tok = this.peekToken();
    let node: Any;
    if (tok && tok.type === lexer.TOKEN_STRING) {
      this.nextToken();
      let value: string = tok.value;
      for (let nx = this.peekToken(); nx && nx.type === lexer.TOKEN_STRING; nx = this.peekToken()) {
        this.nextToken();
        value += nx.value;
      }
      node = new nodes.Literal(tok.lineno, tok.colno, value);
    } else if (tok && tok.type === lexer.TOKEN_NONE && tok.value === 'null') {
      this.nextToken();
      node = new nodes.Symbol(tok.lineno, tok.colno, 'null');
    } else if (tok && tok.type === lexer.TOKEN_SYMBOL && Object.prototype.hasOwnProperty.call(CONSTANTS, tok.value)) {
      this.nextToken();
      node = new nodes.Literal(tok.lineno, tok.colno, CONSTANTS[tok.value]);
    } else {
      return super.parsePrimary(noPostfix);
    }
    return noPostfix ? node : this.parsePostfix(node);
  }

  /**
   * `( … )`, `[ … ]`, `{ … }` as Jinja reads them: trailing commas, tuples
   * (`()`, `(a,)`, `(a, b)`), dict keys that are any expression.
   */
  parseAggregate(): Any {
    const tok = this.nextToken();
    let close: string;
    let closeChar: string;
    switch (tok?.type) {
      case lexer.TOKEN_LEFT_PAREN:
        [close, closeChar] = [lexer.TOKEN_RIGHT_PAREN, ')'];
        break;
      case lexer.TOKEN_LEFT_BRACKET:
        [close, closeChar] = [lexer.TOKEN_RIGHT_BRACKET, ']'];
        break;
      case lexer.TOKEN_LEFT_CURLY:
        [close, closeChar] = [lexer.TOKEN_RIGHT_CURLY, '}'];
        break;
      default:
        return null;
    }
    const items: Any[] = [];
    let trailingComma = false;
    for (;;) {
      if (this.skip(close)) break;
      if (items.length > 0) {
        if (!this.skip(lexer.TOKEN_COMMA)) this.fail(`expected ',' or '${closeChar}'`);
        trailingComma = true;
        if (this.skip(close)) break;
      }
      trailingComma = false;
      if (close === lexer.TOKEN_RIGHT_CURLY) {
        const key = this.parseExpression();
        if (!this.skip(lexer.TOKEN_COLON)) this.fail("expected ':' after dict key");
        items.push(new nodes.Pair(key.lineno, key.colno, key, this.parseExpression()));
      } else items.push(this.parseExpression());
    }
    if (close === lexer.TOKEN_RIGHT_BRACKET) return new nodes.Array(tok.lineno, tok.colno, items);
    if (close === lexer.TOKEN_RIGHT_CURLY) return new nodes.Dict(tok.lineno, tok.colno, items);
    if (items.length === 1 && !trailingComma) return new nodes.Group(tok.lineno, tok.colno, items);
    return new TsTuple(tok.lineno, tok.colno, items);
  }

  /** Calls `f(…)`, subscripts and slices `x[…]`, attributes `x.name` and `x.0`. */
  parsePostfix(node: Any): Any {
    for (;;) {
      const tok = this.peekToken();
      if (!tok) break;
      if (tok.type === lexer.TOKEN_LEFT_PAREN) {
        node = new nodes.FunCall(tok.lineno, tok.colno, node, this.parseCallArgs());
      } else if (tok.type === lexer.TOKEN_LEFT_BRACKET) {
        this.nextToken();
        const sub = this.parseSubscript();
        if (!this.skip(lexer.TOKEN_RIGHT_BRACKET)) this.fail("expected ']'");
        node = new nodes.LookupVal(tok.lineno, tok.colno, node, sub);
      } else if (this.isOp(tok, '.')) {
        this.nextToken();
        const val = this.nextToken();
        let key: unknown;
        if (val && (val.type === lexer.TOKEN_SYMBOL || val.type === lexer.TOKEN_BOOLEAN || val.type === lexer.TOKEN_NONE)) key = val.value;
        else if (val && val.type === lexer.TOKEN_INT) key = parseInt(val.value, 10);
        else this.fail('expected name as lookup value, got ' + (val ? val.value : 'end of file'), val?.lineno, val?.colno);
        node = new nodes.LookupVal(tok.lineno, tok.colno, node, new nodes.Literal(val.lineno, val.colno, key));
      } else break;
    }
    return node;
  }

  /** Inside `[ … ]`: an expression or a slice `a:b:c` (each part optional). */
  private parseSubscript(): Any {
    const tok = this.peekToken();
    const none = () => new nodes.Literal(tok.lineno, tok.colno, null);
    const atEnd = () => {
      const t = this.peekToken();
      return !t || t.type === lexer.TOKEN_RIGHT_BRACKET || t.type === lexer.TOKEN_COLON;
    };
    let start: Any;
    if (tok.type === lexer.TOKEN_COLON) start = none();
    else {
      start = this.parseExpression();
      if (this.peekToken()?.type !== lexer.TOKEN_COLON) return start;
    }
    this.skip(lexer.TOKEN_COLON);
    const stop = atEnd() ? none() : this.parseExpression();
    let step = none();
    if (this.skip(lexer.TOKEN_COLON) && !atEnd()) step = this.parseExpression();
    return new TsSlice(tok.lineno, tok.colno, start, stop, step);
  }

  /**
   * Call arguments as Jinja reads them: positional, then keyword, `*args`
   * and `**kwargs`, trailing comma allowed. Returns nunjucks' shape
   * (positional…, KeywordArgs) with TsStarArgs / TsStarKwargs among them.
   */
  parseCallArgs(): Any {
    const open = this.nextToken();
    const args = new nodes.NodeList(open.lineno, open.colno);
    const kwargs = new nodes.KeywordArgs(open.lineno, open.colno);
    let star: Any = null;
    let dstar: Any = null;
    let requireComma = false;
    const bad = 'invalid syntax for function call expression';
    for (;;) {
      let tok = this.peekToken();
      if (!tok) this.fail('unexpected end of template in call arguments', open.lineno, open.colno);
      if (tok.type === lexer.TOKEN_RIGHT_PAREN) {
        this.nextToken();
        break;
      }
      if (requireComma) {
        if (!this.skip(lexer.TOKEN_COMMA)) this.fail("expected ',' or ')' in call arguments", tok.lineno, tok.colno);
        if (this.skip(lexer.TOKEN_RIGHT_PAREN)) break;
        tok = this.peekToken();
      }
      if (this.isOp(tok, '*')) {
        this.ensure(!star && !dstar, bad, tok);
        this.nextToken();
        star = new TsStarArgs(tok.lineno, tok.colno, this.parseExpression());
      } else if (this.isOp(tok, '**')) {
        this.ensure(!dstar, bad, tok);
        this.nextToken();
        dstar = new TsStarKwargs(tok.lineno, tok.colno, this.parseExpression());
      } else {
        const arg = this.parseExpression();
        if (arg instanceof nodes.Symbol && this.skipValue(lexer.TOKEN_OPERATOR, '=')) {
          this.ensure(!dstar, bad, tok);
          kwargs.addChild(new nodes.Pair(arg.lineno, arg.colno, arg, this.parseExpression()));
        } else {
          this.ensure(!star && !dstar && kwargs.children.length === 0, bad, tok);
          args.addChild(arg);
        }
      }
      requireComma = true;
    }
    if (star) args.addChild(star);
    if (kwargs.children.length) args.addChild(kwargs);
    if (dstar) args.addChild(dstar);
    return args;
  }

  /** `{% if %}…{% elif %}…{% else %}…{% endif %}` (Jinja has no `elseif`). */
  parseIf(): Any {
    const tag = this.peekToken();
    if (!this.skipSymbol('if') && !this.skipSymbol('elif')) this.fail('expected if or elif', tag.lineno, tag.colno);
    const node = new nodes.If(tag.lineno, tag.colno);
    node.cond = this.parseExpression();
    this.advanceAfterBlockEnd(tag.value);
    node.body = this.parseUntilBlocks('elif', 'else', 'endif');
    const tok = this.peekToken();
    switch (tok && tok.value) {
      case 'elif':
        node.else_ = this.parseIf();
        break;
      case 'else':
        this.advanceAfterBlockEnd();
        node.else_ = this.parseUntilBlocks('endif');
        this.advanceAfterBlockEnd();
        break;
      case 'endif':
        node.else_ = null;
        this.advanceAfterBlockEnd();
        break;
      default:
        this.fail('expected elif, else, or endif, got end of file');
    }
    return node;
  }

  /** `{% raw %}…{% endraw %}` (not nested, as in Jinja), with `-` whitespace control on both tags. */
  parseRaw(): Any {
    const begun = this.advanceAfterBlockEnd();
    const m = this.tokens._extractRegex(/([\s\S]*?)\{%([-+]?)\s*endraw\s*(-?)%\}/);
    if (!m) this.fail('{% raw %} is never closed with {% endraw %}', begun.lineno, begun.colno);
    let str: string = m[1];
    if (this.dropLeadingWhitespace) {
      str = str.replace(/^\s*/, '');
      this.dropLeadingWhitespace = false;
    }
    if (m[2] === '-') str = str.replace(/\s*$/, '');
    if (m[3] === '-') this.dropLeadingWhitespace = true;
    return new nodes.Output(begun.lineno, begun.colno, [new nodes.TemplateData(begun.lineno, begun.colno, str)]);
  }

  /** `| f(a) | g` applied to `node`. */
  private parseFilterChain(node: Any): Any {
    do {
      const name = this.parseFilterName();
      node = new nodes.Filter(name.lineno, name.colno, name, new nodes.NodeList(name.lineno, name.colno, [node].concat(this.parseFilterArgs())));
    } while (this.skip(lexer.TOKEN_PIPE));
    return node;
  }

  /** The chain from parseFilterChain with its innermost input replaced by `body`. */
  private static fillFilterInput(chain: Any, body: Any): Any {
    let f = chain;
    while (f.args.children[0] instanceof nodes.Filter) f = f.args.children[0];
    f.args.children[0] = body;
    return chain;
  }

  /** `{% filter upper | replace('a', 'b') %}…{% endfilter %}`. */
  parseFilterStatement(): Any {
    const tok = this.peekToken();
    if (!this.skipSymbol('filter')) this.fail('expected filter');
    const chain = this.parseFilterChain(new nodes.Literal(tok.lineno, tok.colno, ''));
    this.advanceAfterBlockEnd(tok.value);
    const body = new nodes.Capture(tok.lineno, tok.colno, this.parseUntilBlocks('endfilter'));
    this.advanceAfterBlockEnd();
    return new nodes.Output(tok.lineno, tok.colno, [TsParser.fillFilterInput(chain, body)]);
  }

  /** `{% with a = 1, b = x %}…{% endwith %}`. */
  parseWith(): Any {
    const tok = this.nextToken();
    const targets: Any[] = [];
    const values: Any[] = [];
    while (this.peekToken()?.type !== lexer.TOKEN_BLOCK_END) {
      if (targets.length && !this.skip(lexer.TOKEN_COMMA)) this.fail("expected ',' in {% with %}");
      const name = this.nextToken();
      if (!name || name.type !== lexer.TOKEN_SYMBOL) this.fail('expected a name in {% with %}', name?.lineno, name?.colno);
      if (!this.skipValue(lexer.TOKEN_OPERATOR, '=')) this.fail("expected '=' in {% with %}");
      targets.push(new nodes.Symbol(name.lineno, name.colno, name.value));
      values.push(this.parseExpression());
    }
    this.advanceAfterBlockEnd(tok.value);
    const body = this.parseUntilBlocks('endwith');
    this.advanceAfterBlockEnd();
    return new TsWith(tok.lineno, tok.colno, targets, values, body);
  }

  /** `|filter(args)`: the arguments (Jinja's call arguments). */
  parseFilterArgs(): Any[] {
    return this.peekToken()?.type === lexer.TOKEN_LEFT_PAREN ? this.parseCallArgs().children : [];
  }

  /** A macro's (or call block's) parameter list: names, then `name=default`; no trailing comma (as in Jinja). */
  parseMacroSignature(): Any {
    const open = this.nextToken();
    if (!open || open.type !== lexer.TOKEN_LEFT_PAREN) this.fail("expected '('", open?.lineno, open?.colno);
    const args = new nodes.NodeList(open.lineno, open.colno);
    const kwargs = new nodes.KeywordArgs(open.lineno, open.colno);
    for (;;) {
      if (this.skip(lexer.TOKEN_RIGHT_PAREN)) break;
      if (args.children.length || kwargs.children.length) {
        if (!this.skip(lexer.TOKEN_COMMA)) this.fail("expected ',' or ')' in macro signature");
      }
      const name = this.nextToken();
      if (!name || name.type !== lexer.TOKEN_SYMBOL) this.fail(`expected a parameter name, got '${name?.value ?? 'end of file'}'`, name?.lineno, name?.colno);
      const sym = new nodes.Symbol(name.lineno, name.colno, name.value);
      if (this.skipValue(lexer.TOKEN_OPERATOR, '=')) kwargs.addChild(new nodes.Pair(name.lineno, name.colno, sym, this.parseExpression()));
      else {
        this.ensure(kwargs.children.length === 0, 'non-default argument follows default argument', name);
        args.addChild(sym);
      }
    }
    if (kwargs.children.length) args.addChild(kwargs);
    return args;
  }

  parseMacro(): Any {
    const tok = this.peekToken();
    if (!this.skipSymbol('macro')) this.fail('expected macro');
    const name = this.parsePrimary(true);
    const args = this.parseMacroSignature();
    const node = new nodes.Macro(tok.lineno, tok.colno, name, args);
    this.advanceAfterBlockEnd(tok.value);
    node.body = this.parseUntilBlocks('endmacro');
    this.advanceAfterBlockEnd();
    return node;
  }

  /** `{% call(args) macro(…) %}…{% endcall %}`: the call gets a `caller` keyword argument. */
  parseCall(): Any {
    const tok = this.peekToken();
    if (!this.skipSymbol('call')) this.fail('expected call');
    const callerArgs = this.peekToken()?.type === lexer.TOKEN_LEFT_PAREN ? this.parseMacroSignature() : new nodes.NodeList(tok.lineno, tok.colno);
    const macroCall = this.parsePrimary();
    if (!(macroCall instanceof nodes.FunCall)) this.fail('expected a call after {% call %}', tok.lineno, tok.colno);
    this.advanceAfterBlockEnd(tok.value);
    const body = this.parseUntilBlocks('endcall');
    this.advanceAfterBlockEnd();
    const callerName = new nodes.Symbol(tok.lineno, tok.colno, 'caller');
    const callerNode = new nodes.Caller(tok.lineno, tok.colno, callerName, callerArgs, body);
    const list: Any[] = macroCall.args.children;
    let kw = list.find((c) => c instanceof nodes.KeywordArgs);
    if (!kw) {
      kw = new nodes.KeywordArgs(tok.lineno, tok.colno);
      const at = list.findIndex((c) => c instanceof TsStarKwargs);
      if (at >= 0) list.splice(at, 0, kw);
      else list.push(kw);
    }
    kw.addChild(new nodes.Pair(tok.lineno, tok.colno, callerName, callerNode));
    return new nodes.Output(tok.lineno, tok.colno, [macroCall]);
  }

  /** `a if c else b`, where `b` may itself be a conditional expression. */
  parseInlineIf(): Any {
    let node = this.parseOr();
    if (this.skipSymbol('if')) {
      const cond = this.parseOr();
      const body = node;
      node = new nodes.InlineIf(node.lineno, node.colno);
      node.body = body;
      node.cond = cond;
      node.else_ = this.skipSymbol('else') ? this.parseInlineIf() : null;
    }
    return node;
  }

  // Jinja's precedence, loosest first: compare (==, <, in, not in) → `+ -` →
  // `~` → `* / // %` → `**` → unary `- +` → primary with postfix, `|filter`
  // and `is test`. nunjucks puts `~` below `+` and `is` near `in`.

  parseIs(): Any {
    return this.parseCompare();
  }

  /** Jinja's math1 (`+`, `-`); nunjucks' compare calls it as parseConcat. */
  parseConcat(): Any {
    let node = this.parseTilde();
    for (;;) {
      const tok = this.peekToken();
      if (this.isOp(tok, '+') || this.isOp(tok, '-')) {
        this.nextToken();
        const right = this.parseTilde();
        node = new (tok.value === '+' ? nodes.Add : nodes.Sub)(node.lineno, node.colno, node, right);
      } else return node;
    }
  }

  private parseTilde(): Any {
    let node = this.parseMul();
    while (this.skipValue(lexer.TOKEN_TILDE, '~')) {
      const right = this.parseMul();
      node = new nodes.Concat(node.lineno, node.colno, node, right);
    }
    return node;
  }

  /** Jinja's math2: `*`, `/`, `//`, `%`, left to right. */
  parseMul(): Any {
    let node = this.parsePow();
    for (;;) {
      const tok = this.peekToken();
      const T = this.isOp(tok, '*') ? nodes.Mul : this.isOp(tok, '/') ? nodes.Div : this.isOp(tok, '//') ? nodes.FloorDiv : this.isOp(tok, '%') ? nodes.Mod : null;
      if (!T) return node;
      this.nextToken();
      const right = this.parsePow();
      node = new T(node.lineno, node.colno, node, right);
    }
  }

  /** Unary `-`/`+`, then the primary; with filters: `|filter`, `is test` and calls, as Jinja's filter_expr. */
  parseUnary(noFilters?: boolean): Any {
    const tok = this.peekToken();
    let node: Any;
    if (this.skipValue(lexer.TOKEN_OPERATOR, '-')) node = new nodes.Neg(tok.lineno, tok.colno, this.parseUnary(true));
    else if (this.skipValue(lexer.TOKEN_OPERATOR, '+')) node = new nodes.Pos(tok.lineno, tok.colno, this.parseUnary(true));
    else node = this.parsePrimary();
    if (noFilters) return node;
    for (;;) {
      const nx = this.peekToken();
      if (!nx) return node;
      if (nx.type === lexer.TOKEN_PIPE) node = this.parseFilter(node);
      else if (nx.type === lexer.TOKEN_SYMBOL && nx.value === 'is') node = this.parseTest(node);
      else if (nx.type === lexer.TOKEN_LEFT_PAREN) node = new nodes.FunCall(nx.lineno, nx.colno, node, this.parseCallArgs());
      else return node;
    }
  }

  /** `x is [not] name`, `x is name(args)`, `x is name arg` (Jinja's parse_test). */
  private parseTest(node: Any): Any {
    const isTok = this.nextToken();
    const negated = this.skipSymbol('not');
    const nameTok = this.nextToken();
    if (!nameTok || ![lexer.TOKEN_SYMBOL, lexer.TOKEN_NONE, lexer.TOKEN_BOOLEAN].includes(nameTok.type)) {
      this.fail(`expected a test name after 'is', got '${nameTok?.value ?? 'end of file'}'`, nameTok?.lineno, nameTok?.colno);
    }
    let name: string = nameTok.value;
    while (this.skipValue(lexer.TOKEN_OPERATOR, '.')) name += '.' + this.nextToken().value;
    const sym = new nodes.Symbol(nameTok.lineno, nameTok.colno, name);
    let right: Any = sym;
    const nx = this.peekToken();
    if (nx && nx.type === lexer.TOKEN_LEFT_PAREN) {
      right = new nodes.FunCall(nx.lineno, nx.colno, sym, this.parseCallArgs());
    } else if (
      nx &&
      [lexer.TOKEN_SYMBOL, lexer.TOKEN_STRING, lexer.TOKEN_INT, lexer.TOKEN_FLOAT, lexer.TOKEN_LEFT_BRACKET, lexer.TOKEN_LEFT_CURLY, lexer.TOKEN_NONE, lexer.TOKEN_BOOLEAN].includes(nx.type) &&
      !(nx.type === lexer.TOKEN_SYMBOL && ['else', 'or', 'and'].includes(nx.value))
    ) {
      if (nx.type === lexer.TOKEN_SYMBOL && nx.value === 'is') this.fail('You cannot chain multiple tests with is', nx.lineno, nx.colno);
      const arg = this.parsePrimary();
      right = new nodes.FunCall(nx.lineno, nx.colno, sym, new nodes.NodeList(nx.lineno, nx.colno, [arg]));
    }
    const test = new nodes.Is(isTok.lineno, isTok.colno, node, right);
    return negated ? new nodes.Not(isTok.lineno, isTok.colno, test) : test;
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
        while (this.peekToken()?.type !== lexer.TOKEN_BLOCK_END) {
          items.push(this.parseExpression());
          if (!this.skip(lexer.TOKEN_COMMA)) break;
        }
        node.value = new TsTuple(first.lineno, first.colno, items);
      } else node.value = first;
      if (node.targets.length > 1) node.value = new TsUnpack(first.lineno, first.colno, node.value, node.targets.length);
      this.advanceAfterBlockEnd(tag.value);
      return node;
    }
    const chain = this.skip(lexer.TOKEN_PIPE) ? this.parseFilterChain(new nodes.Literal(tag.lineno, tag.colno, '')) : null;
    const end = this.nextToken();
    if (!end || end.type !== lexer.TOKEN_BLOCK_END) this.fail('expected = or block end in set tag', tag.lineno, tag.colno);
    if (end.value.charAt(0) === '-') this.dropLeadingWhitespace = true;
    const body = new nodes.Capture(tag.lineno, tag.colno, this.parseUntilBlocks('endset'));
    node.body = chain ? TsParser.fillFilterInput(chain, body) : body;
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
    if (node instanceof TsTruthy || node instanceof TsLoopFilter || node instanceof TsUnpack || node instanceof TsTuple || node instanceof TsSlice || node instanceof TsWith) return;
    super.assertType(node, ...types);
  }

  compileTsTruthy(node: Any, frame: Any): void {
    this._emit('runtime.tsTruthy(');
    this.compile(node.target, frame);
    this._emit(')');
  }

  compileTsLoopFilter(node: Any, frame: Any): void {
    const arr = this._tmpid();
    const out = this._tmpid();
    const i = this._tmpid();
    this._emit(`(function() { var ${arr} = runtime.tsForItems(`);
    this._compileExpression(node.arr, frame);
    this._emit(`); var ${out} = []; for (var ${i} = 0; ${i} < ${arr}.length; ${i}++) {`);
    const inner = frame.push();
    const names = node.name instanceof nodes.Array ? node.name.children : [node.name];
    const row = this._tmpid();
    this._emit(`var ${row} = ${names.length > 1 ? `runtime.tsUnpack(${arr}[${i}], ${names.length})` : `${arr}[${i}]`};`);
    names.forEach((n: Any, k: number) => {
      const id = this._tmpid();
      this._emit(`var ${id} = ${row}${names.length > 1 ? `[${k}]` : ''};`);
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

  /** `(a, b)`: a Python tuple (an array marked as a tuple, so it prints as one). */
  compileTsTuple(node: Any, frame: Any): void {
    this._emit('runtime.tsTuple(');
    this._compileAggregate(node, frame, '[', ']');
    this._emit(')');
  }

  /** Dict literals: keys are expressions (a bare name is a variable, as in Jinja). */
  compileDict(node: Any, frame: Any): void {
    if (node instanceof nodes.KeywordArgs) {
      super.compileDict(node, frame);
      return;
    }
    this._emit('{');
    node.children.forEach((pair: Any, i: number) => {
      if (i > 0) this._emit(',');
      const key = pair.key;
      if (key instanceof nodes.Literal && typeof key.value === 'string') this._emit(JSON.stringify(key.value));
      else {
        this._emit('[runtime.tsKey(');
        this._compileExpression(key, frame);
        this._emit(')]');
      }
      this._emit(': ');
      this._compileExpression(pair.value, frame);
    });
    this._emit('}');
  }

  compileTsStarArgs(node: Any): void {
    this.fail('*args is only supported in calls', node.lineno, node.colno);
  }

  compileTsStarKwargs(node: Any): void {
    this.fail('**kwargs is only supported in calls', node.lineno, node.colno);
  }

  compileTsLoopControl(node: Any): void {
    if (!this.loopDepth) this.fail(`'${node.kind}' outside loop`, node.lineno, node.colno);
    this._emitLine(`${node.kind};`);
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

  compileDiv(node: Any, frame: Any): void {
    this.binaryCall('tsDiv', node, frame);
  }

  compileFloorDiv(node: Any, frame: Any): void {
    this.binaryCall('tsFloorDiv', node, frame);
  }

  compilePow(node: Any, frame: Any): void {
    this.binaryCall('tsPow', node, frame);
  }

  compileNeg(node: Any, frame: Any): void {
    this._emit('runtime.tsNeg(');
    this.compile(node.target, frame);
    this._emit(')');
  }

  compileConcat(node: Any, frame: Any): void {
    this.binaryCall('tsConcat', node, frame);
  }

  /** Comparisons with Python meaning: `==` by value, ordering only between comparable types, chains `a < b < c`. */
  compileCompare(node: Any, frame: Any): void {
    const ops: Any[] = node.ops;
    const fn = (op: string) => (op === '==' ? 'runtime.tsEq(' : op === '!=' ? '!runtime.tsEq(' : `runtime.tsCmp(${JSON.stringify(op)}, `);
    if (ops.length === 1) {
      this._emit(fn(ops[0].type));
      this.compile(node.expr, frame);
      this._emit(', ');
      this.compile(ops[0].expr, frame);
      this._emit(')');
      return;
    }
    // a < b < c: each operand evaluated once, as in Python.
    const tmps = [node.expr, ...ops.map((o: Any) => o.expr)].map(() => this._tmpid());
    this._emit(`(function() { var ${tmps.join(', ')}; ${tmps[0]} = `);
    this.compile(node.expr, frame);
    this._emit('; return ');
    ops.forEach((op: Any, k: number) => {
      if (k > 0) this._emit(' && ');
      this._emit(`${fn(op.type)}${tmps[k]}, (${tmps[k + 1]} = `);
      this.compile(op.expr, frame);
      this._emit('))');
    });
    this._emit('; })()');
  }

  compileLookupVal(node: Any, frame: Any): void {
    const s = node.val;
    if (s instanceof TsSlice) {
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

  /**
   * Calls; errors point at the called name (`foo` in `foo(1)`), not at its
   * parenthesis. `*args` / `**kwargs` are spread by runtime.tsCallArgs.
   */
  compileFunCall(node: Any, frame: Any): void {
    let head = node.name;
    while (head instanceof nodes.LookupVal || head instanceof nodes.FunCall) head = head instanceof nodes.LookupVal ? head.target : head.name;
    if (head && typeof head.lineno === 'number' && head.lineno === node.lineno) node.colno = head.colno;
    const at = `(lineno = ${node.lineno}, colno = ${node.colno})`;
    this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, runtime.callWrap(`);
    this._compileExpression(node.name, frame);
    this._emit(`, ${JSON.stringify(this._getNodeName(node.name))}, context, `);
    this.compileCallArgs(node.args, frame);
    // Calls inside the arguments moved lineno on; point it back at this call
    // (an extra callWrap argument, evaluated after the argument list).
    this._emit(`, ${at}))`);
  }

  /** An argument list as an array (nunjucks' shape: positional…, keyword object last). */
  private compileCallArgs(args: Any, frame: Any): void {
    const list: Any[] = args.children;
    if (!list.some((c) => c instanceof TsStarArgs || c instanceof TsStarKwargs)) {
      this._compileAggregate(args, frame, '[', ']');
      return;
    }
    const pos = list.filter((c) => !(c instanceof TsStarArgs || c instanceof TsStarKwargs || c instanceof nodes.KeywordArgs));
    const star = list.find((c) => c instanceof TsStarArgs);
    const kw = list.find((c) => c instanceof nodes.KeywordArgs);
    const dstar = list.find((c) => c instanceof TsStarKwargs);
    this._emit('runtime.tsCallArgs([');
    pos.forEach((c, i) => {
      if (i > 0) this._emit(',');
      this._compileExpression(c, frame);
    });
    this._emit('], ');
    if (star) this._compileExpression(star.target, frame);
    else this._emit('null');
    this._emit(', ');
    if (kw) this.compile(kw, frame);
    else this._emit('null');
    this._emit(', ');
    if (dstar) this._compileExpression(dstar.target, frame);
    else this._emit('null');
    this._emit(')');
  }

  compileFilter(node: Any, frame: Any): void {
    this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, `);
    super.compileFilter(node, frame);
    this._emit(')');
  }

  compileIs(node: Any, frame: Any): void {
    const right = node.right;
    const name = right.name ? right.name.value : right.value;
    this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, env.getTest(${JSON.stringify(name)}).call(context, `);
    this.compile(node.left, frame);
    for (const a of right.args ? right.args.children : []) {
      this._emit(', ');
      this.compile(a, frame);
    }
    this._emit(') === true)');
  }

  /** Nesting of for loops in the code being emitted (0 inside a macro or capture), for break/continue. */
  loopDepth = 0;

  /**
   * `{% for %}` as Jinja runs it: Python iteration (dict keys, string
   * characters, None is an error), unpacking `for a, b in …`, the loop filter
   * `for x in s if c`, a fresh scope per iteration (a `{% set %}` inside does
   * not leak out), `loop` with index/first/last/length/revindex/cycle/
   * changed/previtem/nextitem/depth, `{% break %}`/`{% continue %}`, `else`.
   */
  compileFor(node: Any, frame: Any): void {
    if (node.arr instanceof nodes.InlineIf && !node.arr.else_) {
      // {% for x in seq if cond %}: Jinja's loop filter, not an inline if.
      node.arr = new TsLoopFilter(node.arr.lineno, node.arr.colno, node.arr.body, node.name, node.arr.cond);
    }
    const arr = this._tmpid();
    const len = this._tmpid();
    const i = this._tmpid();
    const loop = this._tmpid();
    const outer = this._tmpid();
    this._emit(`var ${arr} = runtime.tsForItems(`);
    this._compileExpression(node.arr, frame);
    this._emitLine(`, (lineno = ${node.arr.lineno}, colno = ${node.arr.colno}));`);
    this._emitLine(`var ${len} = ${arr}.length, ${loop} = new runtime.TsLoop(${arr}), ${outer} = frame;`);
    this._emitLine(`for (var ${i} = 0; ${i} < ${len}; ${i}++) {`);
    this._emitLine(`frame = ${outer}.push(true); ${loop}.index0 = ${i}; frame.set("loop", ${loop});`);
    const inner = frame.push(true);
    inner.set('loop', loop);
    const names: Any[] = node.name instanceof nodes.Array ? node.name.children : [node.name];
    let row = `${arr}[${i}]`;
    if (names.length > 1) {
      row = this._tmpid();
      this._emitLine(`var ${row} = runtime.tsUnpack(${arr}[${i}], ${names.length});`);
    }
    names.forEach((n: Any, k: number) => {
      const id = this._tmpid();
      this._emitLine(`var ${id} = ${row}${names.length > 1 ? `[${k}]` : ''}; frame.set(${JSON.stringify(n.value)}, ${id});`);
      inner.set(n.value, id);
    });
    this.loopDepth++;
    this._withScopedSyntax(() => this.compile(node.body, inner));
    this.loopDepth--;
    this._emitLine('}');
    this._emitLine(`frame = ${outer};`);
    if (node.else_) {
      this._emitLine(`if (!${len}) {`);
      this.compile(node.else_, frame);
      this._emitLine('}');
    }
  }

  compileTsWith(node: Any, frame: Any): void {
    const outer = this._tmpid();
    const ids = node.values.map((v: Any) => {
      const id = this._tmpid();
      this._emit(`var ${id} = `);
      this._compileExpression(v, frame);
      this._emitLine(';');
      return id;
    });
    this._emitLine(`var ${outer} = frame; frame = frame.push(true);`);
    const inner = frame.push(true);
    node.targets.forEach((t: Any, k: number) => {
      this._emitLine(`frame.set(${JSON.stringify(t.value)}, ${ids[k]});`);
      inner.set(t.value, ids[k]);
    });
    this.compile(node.body, inner);
    this._emitLine(`frame = ${outer};`);
  }

  /** A macro defined inside a block (e.g. a loop) sees the names around it, as in Jinja. */
  compileMacro(node: Any, frame: Any): void {
    if (!frame.parent) {
      super.compileMacro(node, frame);
      return;
    }
    const funcId = this._compileMacro(node, frame);
    frame.set(node.name.value, funcId);
    this._emitLine(`frame.set(${JSON.stringify(node.name.value)}, ${funcId});`);
  }

  compileCapture(node: Any, frame: Any): void {
    const depth = this.loopDepth;
    this.loopDepth = 0;
    super.compileCapture(node, frame);
    this.loopDepth = depth;
  }

  /**
   * The JS variable a `{% set name %}` writes, if `name` is bound at compile
   * time in this scope; a loop iteration is a scope of its own, as in Jinja.
   */
  private lookupForWrite(frame: Any, name: string): string | null {
    for (let f = frame; f; f = f.parent) {
      const v = f.variables[name];
      if (v !== undefined) return v || null;
      if (f.isolateWrites) return null;
    }
    return null;
  }

  /** A JS variable for `{% set name %}` in this scope (declared if new; hides a binding of an outer scope). */
  private setTarget(frame: Any, name: string): string {
    let id = this.lookupForWrite(frame, name);
    if (!id) {
      id = this._tmpid() as string;
      this._emitLine(`var ${id};`);
      if (frame.lookup(name)) frame.set(name, '');
    }
    return id;
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
    const ids = node.targets.map((t: Any) => this.setTarget(frame, t.value));
    if (node.value instanceof TsUnpack) {
      const tmp = this._tmpid();
      this._emit(`var ${tmp} = `);
      this._compileExpression(node.value, frame);
      this._emitLine(';');
      ids.forEach((id: string, k: number) => this._emitLine(`${id} = ${tmp}[${k}];`));
    } else {
      this._emit(ids.join(' = ') + ' = ');
      if (node.value) this._compileExpression(node.value, frame);
      else this.compile(node.body, frame);
      this._emitLine(';');
    }
    node.targets.forEach((t: Any, k: number) => {
      const name = JSON.stringify(t.value);
      this._emitLine(`frame.set(${name}, ${ids[k]}, true);`);
      this._emitLine(`if (frame.topLevel) { context.setVariable(${name}, ${ids[k]}); }`);
    });
  }

  _compileMacro(node: Any, frame: Any): string {
    const buf: string[] = this.codebuf;
    const start = buf.length;
    const depth = this.loopDepth;
    this.loopDepth = 0;
    const funcId = super._compileMacro(node, frame);
    this.loopDepth = depth;
    const head = `var ${funcId} = runtime.makeMacro(\n`;
    if (buf[start] !== head) throw new Error('tsdbt: nunjucks emitted macro code of an unexpected shape (nunjucks version changed?)');
    const used = new Set<string>();
    for (const sym of node.body.findAll(nodes.Symbol)) if (sym.value === 'varargs' || sym.value === 'kwargs' || sym.value === 'caller') used.add(sym.value);
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
    const isMacroNamed = isCaller ? 'caller' : name;
    const flags = (used.has('varargs') ? 1 : 0) | (used.has('kwargs') ? 2 : 0) | (used.has('caller') ? 4 : 0);
    buf[start] = `var ${funcId} = runtime.tsMakeMacro(${JSON.stringify(isMacroNamed)}, ${flags},\n`;
    if (used.has('varargs')) buf[callerLine] += 'frame.set("varargs", kwargs.__varargs);\n';
    if (used.has('kwargs')) buf[callerLine] += 'frame.set("kwargs", kwargs.__kwargs);\n';
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
    const args = parser.parseMacroSignature();
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

/** dbt's name for the macro a `{% materialization name, adapter %}` block defines: `materialization_<name>_<adapter>`. */
export function materializationMacroName(name: string, adapter = 'default'): string {
  return `materialization_${name}_${adapter}`;
}

/**
 * `{% materialization name, default %}` / `{% materialization name, adapter='postgres' %}`
 * (optionally `, supported_languages=['sql']`): defines the macro
 * `materialization_<name>_<adapter>` with no arguments, as dbt's MaterializationExtension.
 */
export const materializationExtension = {
  tags: ['materialization'],
  parse(parser: Any): Any {
    const tok = parser.nextToken();
    const nameTok = parseBlockName(parser, 'materialization');
    let adapterName = 'default';
    while (parser.skip(lexer.TOKEN_COMMA)) {
      const key = parser.peekToken();
      if (!key || key.type !== lexer.TOKEN_SYMBOL) parser.fail("expected 'default', adapter='…' or supported_languages=[…] in {% materialization %}", key?.lineno, key?.colno);
      parser.nextToken();
      if (key.value === 'default') continue;
      if (key.value !== 'adapter' && key.value !== 'supported_languages') {
        parser.fail(`unexpected '${key.value}' in {% materialization %}: write 'default', adapter='…' or supported_languages=[…]`, key.lineno, key.colno);
      }
      if (!parser.skipValue(lexer.TOKEN_OPERATOR, '=')) parser.fail(`expected '=' after '${key.value}' in {% materialization %}`, key.lineno, key.colno);
      const value = parser.parseExpression();
      if (key.value === 'adapter') {
        if (!(value instanceof nodes.Literal) || typeof value.value !== 'string') parser.fail("adapter= in {% materialization %} must be a string, e.g. adapter='postgres'", key.lineno, key.colno);
        adapterName = value.value;
      } else if (value instanceof nodes.Array) {
        for (const item of value.children) {
          if (item instanceof nodes.Literal && item.value !== 'sql') parser.fail(`supported_languages: tsdbt runs only 'sql' materializations, not '${String(item.value)}'`, key.lineno, key.colno);
        }
      }
    }
    parser.advanceAfterBlockEnd(tok.value);
    const body = parser.parseUntilBlocks('endmaterialization');
    parser.advanceAfterBlockEnd();
    const name = new nodes.Symbol(nameTok.lineno, nameTok.colno, materializationMacroName(nameTok.value, adapterName));
    return new nodes.Macro(tok.lineno, tok.colno, name, new nodes.NodeList(tok.lineno, tok.colno, []), body);
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
  /** Every function the whole text calls (see {@link templateCalls}). */
  readonly calls: readonly string[];
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

/**
 * Unknown filters and tests are compile errors, as in Jinja (with a "did you
 * mean"), except inside an `{% if %}` or an inline if, where Jinja 3 fails
 * only when the filter is actually used.
 */
function checkFiltersAndTests(ast: Any, env: Any): void {
  const check = (kind: 'filter' | 'test', name: unknown, node: Any, known: Record<string, unknown>) => {
    const n = name === null ? 'null' : String(name);
    if (Object.prototype.hasOwnProperty.call(known, n)) return;
    const near = closestName(n, Object.keys(known));
    const err = new (N.lib.TemplateError)(`no ${kind} named '${n}'${near ? ` (did you mean '${near}'?)` : ''}`, node.lineno + 1, node.colno + 1);
    throw err;
  };
  const visit = (node: Any): void => {
    if (!(node instanceof nodes.Node) || node instanceof nodes.If || node instanceof nodes.InlineIf) return;
    if (node instanceof nodes.Filter) check('filter', node.name.value, node.name, env.filters);
    else if (node instanceof nodes.Is) {
      const right = node.right;
      check('test', right.name ? right.name.value : right.value, right, env.tests);
    }
    for (const field of node.fields) {
      const v = node[field];
      if (Array.isArray(v)) v.forEach(visit);
      else visit(v);
    }
  };
  visit(ast);
}

function collectCalls(body: Any): string[] {
  const out = new Set<string>();
  for (const fc of body.findAll(nodes.FunCall)) {
    if (fc instanceof nodes.Filter) continue; // nunjucks' filters are FunCalls; Jinja2's `x|f` is no Call
    const n = fc.name;
    if (n instanceof nodes.Symbol) out.add(n.value);
    else if (n instanceof nodes.LookupVal && n.target instanceof nodes.Symbol && n.val instanceof nodes.Literal) {
      const target = String(n.target.value);
      const attr = String(n.val.value);
      if (target === 'adapter' && attr === 'dispatch') {
        const d = dispatchCall(fc);
        if (d) out.add(`${DISPATCH_MARK}${d.name}\u0000${d.namespace ?? ''}`);
      } else out.add(`${target}.${attr}`);
    }
  }
  return [...out];
}

/** Prefix of a `calls` entry that stands for `adapter.dispatch('<name>', '<namespace>')`: `\u0001dispatch\u0000<name>\u0000<namespace>`. */
export const DISPATCH_MARK = '\u0001dispatch\u0000';

/** The literal macro name and namespace of an `adapter.dispatch(...)` call, as dbt's statically_parse_adapter_dispatch reads them. */
function dispatchCall(fc: Any): { name: string; namespace: string | null } | null {
  const list: Any[] = fc.args?.children ?? [];
  const pos = list.filter((c) => !(c instanceof nodes.KeywordArgs || c instanceof TsStarArgs || c instanceof TsStarKwargs));
  const kw = list.find((c) => c instanceof nodes.KeywordArgs);
  let name: unknown = pos[0] instanceof nodes.Literal ? pos[0].value : undefined;
  let namespace: unknown = pos[1] instanceof nodes.Literal ? pos[1].value : undefined;
  for (const pair of kw?.children ?? []) {
    const key = pair.key?.value;
    if (key === 'macro_name' && pair.value instanceof nodes.Literal) name = pair.value.value;
    if (key === 'macro_namespace' && pair.value instanceof nodes.Literal) namespace = pair.value.value;
  }
  return typeof name === 'string' ? { name, namespace: typeof namespace === 'string' ? namespace : null } : null;
}

/**
 * The functions a template calls anywhere in its text (dbt's
 * statically_extract_macro_calls): plain names (`foo`), `pkg.foo`, and
 * `adapter.dispatch` calls with literal arguments encoded with {@link DISPATCH_MARK}.
 * Parses only (no compile).
 * @throws TsdbtError `jinja-syntax` when the text does not parse.
 */
export function templateCalls(source: string, file: string, env: Any): string[] {
  if (source.indexOf('\r') !== -1) source = source.replace(/\r\n?/g, '\n');
  try {
    const parser = new TsParser(new TsTokenizer(source, env.opts));
    parser.extensions = env.extensionsList;
    return collectCalls(parser.parseAsRoot());
  } catch (e) {
    const err = e as { message?: string; lineno?: number; colno?: number };
    throw new TsdbtError('jinja-syntax', `Jinja syntax error in ${file}: ${String(err.message ?? e)}`, { file, line: err.lineno, column: err.colno, cause: e });
  }
}

/**
 * Compiles `source` (a model, macro file or any dbt Jinja text) for `env`.
 * `file` is the project-relative path used in errors and in macro error locations.
 * Throws TsdbtError `jinja-syntax` (1-based line/column in `file`).
 */
export function compileTemplate(source: string, file: string, env: Any): CompiledTemplate {
  let code: string;
  let calls: string[] = [];
  const macros: CompiledMacroInfo[] = [];
  if (source.indexOf('\r') !== -1) source = source.replace(/\r\n?/g, '\n');
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
    calls = collectCalls(ast);
    checkFiltersAndTests(ast, env);
    const c = new TsCompiler(file, false);
    c.compile(transformer.transform(ast, env.asyncFilters, file));
    code = c.getCode();
  } catch (e) {
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
  return { root: props.root, macros, calls };
}
