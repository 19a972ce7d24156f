/**
 * Prints the corpus entries where tsdbt and Jinja2 disagree (a debugging aid
 * for conformance.test.ts). Run: node --import tsx tests/jinja-conformance/diff.ts [name-filter]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { JinjaEnv } from '../../src/jinja/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const entries: { key: string; template: string; context?: unknown; fails?: boolean; deviation?: string }[] = [];
for (const f of readdirSync(join(here, 'corpus')).filter((n) => n.endsWith('.yml')).sort()) {
  for (const e of YAML.parse(readFileSync(join(here, 'corpus', f), 'utf8'))) entries.push({ ...e, key: `${f.replace(/\.yml$/, '')}/${e.name}` });
}
const chosen = entries.filter((e) => e.key.includes(filter));
const input = chosen.map((e, id) => JSON.stringify({ id, template: e.template, context: e.context ?? {} })).join('\n') + '\n';
const r = spawnSync('python3', [join(here, 'oracle.py')], { input, encoding: 'utf8', maxBuffer: 1 << 26 });
const py = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
const env = new JinjaEnv();
let bad = 0;
chosen.forEach((e, i) => {
  let ts: { ok: boolean; out?: string; error?: string };
  try {
    ts = { ok: true, out: env.render(e.template, structuredClone((e.context ?? {}) as object) as Record<string, unknown>, { file: `${e.key}.sql` }) };
  } catch (err) {
    ts = { ok: false, error: (err as Error).message };
  }
  const p = py[i];
  const same = p.ok && ts.ok ? p.out === ts.out : p.ok === ts.ok;
  const flagBad = e.fails ? p.ok : !p.ok;
  if (same && !flagBad) return;
  bad++;
  console.log(`--- ${e.key}${e.deviation ? ' (deviation)' : ''}\n  template: ${JSON.stringify(e.template)}`);
  console.log(`  jinja2: ${p.ok ? JSON.stringify(p.out) : 'FAIL ' + p.error}`);
  console.log(`  tsdbt:  ${ts.ok ? JSON.stringify(ts.out) : 'FAIL ' + ts.error}`);
});
console.log(`${chosen.length - bad}/${chosen.length} agree`);
