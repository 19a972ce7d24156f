/**
 * Colours and shapes of resource types, shared by the page (src/docs/app)
 * and the text outputs (mermaid, dot) so they agree. Pure data: imported by
 * browser code too.
 */

/** The resource types drawn in the lineage (tests are shown on their models, never as nodes). */
export type LineageResourceType = 'source' | 'seed' | 'model' | 'snapshot' | 'analysis' | 'exposure';

/** Fill colour per resource type (CSS hex). Sources and seeds differ from models at a glance. */
export const TYPE_COLORS: Readonly<Record<LineageResourceType, string>> = {
  source: '#d9822b',
  seed: '#2e9e5b',
  model: '#2f6fdf',
  snapshot: '#8e5bd6',
  analysis: '#7a8699',
  exposure: '#c2417a',
};

/** Human names for the legend. */
export const TYPE_LABELS: Readonly<Record<LineageResourceType, string>> = {
  source: 'source',
  seed: 'seed',
  model: 'model',
  snapshot: 'snapshot',
  analysis: 'analysis',
  exposure: 'exposure',
};

/** Order of types in legends and listings: inputs first. */
export const TYPE_ORDER: readonly LineageResourceType[] = ['source', 'seed', 'model', 'snapshot', 'analysis', 'exposure'];

/** Colour of a test / node status (run_results.json statuses). */
export const STATUS_COLORS: Readonly<Record<string, string>> = {
  pass: '#2e9e5b',
  success: '#2e9e5b',
  warn: '#c98a00',
  fail: '#d64545',
  error: '#d64545',
  skipped: '#7a8699',
  'runtime error': '#d64545',
};
