/**
 * GitHub Actions workflow commands that annotate the changed files of a pull
 * request: `::error file=models/schema.yml,line=12,title=…::message` for
 * failed and errored nodes, `::warning …` for warnings. Print each line to
 * stdout from inside a GitHub Actions job.
 *
 * Escaping follows GitHub's toolkit (@actions/core): in the message `%`, `\r`,
 * `\n` become `%25`, `%0D`, `%0A`; in properties also `:` → `%3A`, `,` → `%2C`.
 */
import { isError, isFailure, isWarning, type ReportedResult } from './reported-result.ts';

/** Escapes a workflow command's message. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a workflow command property value (`file`, `title`, …). */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * One annotation per failed (`fail`, `error`) or warned (`warn`) node, in input order;
 * passing, successful and skipped nodes produce none.
 *
 * @example `::error file=models/schema.yml,line=12,title=test unique_orders_id failed::Got 3 results, configured to fail if != 0`
 */
export function githubAnnotations(results: readonly ReportedResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    let command: 'error' | 'warning';
    let verb: string;
    if (isFailure(r)) [command, verb] = ['error', 'failed'];
    else if (isError(r)) [command, verb] = ['error', 'errored'];
    else if (isWarning(r)) [command, verb] = ['warning', 'warned'];
    else continue;
    const props: string[] = [];
    if (r.file) props.push(`file=${escapeProperty(r.file)}`);
    if (r.file && r.line !== undefined && r.line > 0) props.push(`line=${r.line}`);
    props.push(`title=${escapeProperty(`${r.resourceType} ${r.name} ${verb}`)}`);
    let message = r.message ?? r.status;
    if (r.resourceType !== 'test' && r.failures) message += ` (${r.failures} failing rows)`;
    lines.push(`::${command} ${props.join(',')}::${escapeData(message)}`);
  }
  return lines;
}
