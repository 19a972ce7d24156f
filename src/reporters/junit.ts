/**
 * JUnit XML for CI systems (GitLab, Jenkins, GitHub test-report actions):
 * one `<testsuite name="tsdbt">` with one `<testcase>` per node run.
 *
 * - `classname` = `<resource type>.<file>` (e.g. `test.models/schema.yml`), `name` = node name,
 *   `time` in seconds, plus `file`/`line` attributes where known.
 * - `fail` → `<failure message=… type="fail">` with the message and failing-row count;
 *   `error` → `<error message=… type="error">` (JUnit's word for an unexpected problem,
 *   e.g. a database error), with the same body; `skipped` → `<skipped/>`;
 *   `warn` → passes, with the warning in `<system-out>`.
 * - Every testcase carries `<properties>`: `unique_id`, `status`, `failures`.
 *
 * The XML is written by hand with strict escaping: `& < > " '` become entities,
 * tab/newline/carriage return in attributes become character references, and
 * characters XML 1.0 forbids (other control characters, lone surrogates,
 * U+FFFE/U+FFFF) are dropped.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isError, isFailure, isSkipped, isWarning, type ReportedResult } from './reported-result.ts';

// Characters not allowed anywhere in an XML 1.0 document.
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text content. */
export function xmlText(s: string): string {
  return s.replace(INVALID_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

/** Escapes an attribute value (double-quoted); whitespace is kept as character references. */
export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

const seconds = (t: number): string => (Number.isFinite(t) && t > 0 ? t : 0).toFixed(3);

function attrs(pairs: [string, string | number | undefined][]): string {
  return pairs
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`)
    .join('');
}

function detail(r: ReportedResult): string {
  const lines = [r.message ?? `${r.status}`];
  if (r.failures !== null && r.failures !== undefined && (r.failures > 0 || r.resourceType === 'test')) {
    lines.push(`failing rows: ${r.failures}`);
  }
  lines.push(`unique_id: ${r.unique_id}`);
  if (r.file) lines.push(`defined at: ${r.file}${r.line !== undefined ? `:${r.line}` : ''}`);
  return lines.join('\n');
}

/** Options for {@link junitXml}. */
export interface JunitOptions {
  /** Suite name; default `tsdbt`. */
  readonly suiteName?: string;
  /** When the run started; written as the suite's `timestamp` (ISO 8601, UTC). */
  readonly timestamp?: Date;
}

/**
 * The JUnit XML document for a run, as a string (UTF-8 declaration, `<testsuites>` root
 * holding one `<testsuite>`).
 */
export function junitXml(results: readonly ReportedResult[], options: JunitOptions = {}): string {
  const suiteName = options.suiteName ?? 'tsdbt';
  const counts = {
    tests: results.length,
    failures: results.filter(isFailure).length,
    errors: results.filter(isError).length,
    skipped: results.filter(isSkipped).length,
  };
  const total = results.reduce((s, r) => s + (Number.isFinite(r.executionTime) && r.executionTime > 0 ? r.executionTime : 0), 0);
  const countAttrs: [string, string | number | undefined][] = [
    ['tests', counts.tests],
    ['failures', counts.failures],
    ['errors', counts.errors],
    ['skipped', counts.skipped],
    ['time', seconds(total)],
  ];
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites${attrs([['name', suiteName], ...countAttrs])}>`);
  out.push(
    `  <testsuite${attrs([
      ['name', suiteName],
      ...countAttrs,
      ['timestamp', options.timestamp ? options.timestamp.toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined],
    ])}>`,
  );
  for (const r of results) {
    out.push(
      `    <testcase${attrs([
        ['classname', `${r.resourceType}.${r.file}`],
        ['name', r.name],
        ['file', r.file || undefined],
        ['line', r.line],
        ['time', seconds(r.executionTime)],
      ])}>`,
    );
    out.push('      <properties>');
    out.push(`        <property${attrs([['name', 'unique_id'], ['value', r.unique_id]])}/>`);
    out.push(`        <property${attrs([['name', 'status'], ['value', r.status]])}/>`);
    if (r.failures !== null && r.failures !== undefined) {
      out.push(`        <property${attrs([['name', 'failures'], ['value', r.failures]])}/>`);
    }
    out.push('      </properties>');
    if (isFailure(r) || isError(r)) {
      const tag = isFailure(r) ? 'failure' : 'error';
      out.push(`      <${tag}${attrs([['message', r.message ?? r.status], ['type', r.status]])}>${xmlText(detail(r))}</${tag}>`);
    } else if (isSkipped(r)) {
      out.push(`      <skipped${attrs([['message', r.message ?? undefined]])}/>`);
    } else if (isWarning(r)) {
      out.push(`      <system-out>${xmlText(`WARN ${detail(r)}`)}</system-out>`);
    }
    out.push('    </testcase>');
  }
  out.push('  </testsuite>');
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}

/**
 * Writes {@link junitXml} to `path` (parent directories are created).
 * @throws the file system's error when the file cannot be written.
 */
export async function writeJunit(path: string, results: readonly ReportedResult[], options: JunitOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, junitXml(results, options), 'utf8');
}
