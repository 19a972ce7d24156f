/**
 * Node labels for a left-to-right column layout (browser code): centred under
 * the node on a light halo, shortened with "…" to the space between two
 * columns at the current zoom (the full text shows on hover).
 */
import type { NodeDisplayData, PartialButFor } from 'sigma/types';
import type { Settings as SigmaSettings } from 'sigma/settings';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Settings = SigmaSettings<any, any, any>;

type LabelData = PartialButFor<NodeDisplayData, 'x' | 'y' | 'size' | 'label' | 'color'>;

/** Space available to one label, in CSS pixels; updated before each render. */
export const labelSpace = { width: 200 };

function fit(context: CanvasRenderingContext2D, text: string, max: number): string {
  if (context.measureText(text).width <= max) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (context.measureText(text.slice(0, mid) + '…').width <= max) lo = mid;
    else hi = mid - 1;
  }
  return lo > 0 ? text.slice(0, lo) + '…' : '';
}

function font(settings: Settings): string {
  return `${settings.labelWeight} ${settings.labelSize}px ${settings.labelFont}`;
}

function halo(context: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, fill: string): void {
  context.fillStyle = fill;
  context.beginPath();
  const r = 3;
  context.moveTo(x + r, y);
  context.arcTo(x + w, y, x + w, y + h, r);
  context.arcTo(x + w, y + h, x, y + h, r);
  context.arcTo(x, y + h, x, y, r);
  context.arcTo(x, y, x + w, y, r);
  context.closePath();
  context.fill();
}

/** sigma `defaultDrawNodeLabel`: the label under the node, shortened to the column spacing. */
export function drawLabelBelow(context: CanvasRenderingContext2D, data: LabelData, settings: Settings): void {
  if (!data.label) return;
  const size = settings.labelSize;
  context.font = font(settings);
  const text = fit(context, data.label, Math.max(40, labelSpace.width - 10));
  if (!text) return;
  const w = context.measureText(text).width;
  const top = data.y + data.size + 2;
  halo(context, data.x - w / 2 - 3, top, w + 6, size + 4, 'rgba(255,255,255,0.85)');
  context.fillStyle = settings.labelColor.color ?? '#000';
  context.textBaseline = 'top';
  context.fillText(text, data.x - w / 2, top + 2);
  context.textBaseline = 'alphabetic';
}

/** sigma `defaultDrawNodeHover`: a ring around the node and the full label in a white box. */
export function drawHoverBelow(context: CanvasRenderingContext2D, data: LabelData, settings: Settings): void {
  const size = settings.labelSize;
  context.font = font(settings);
  context.shadowOffsetX = 0;
  context.shadowOffsetY = 0;
  context.shadowBlur = 6;
  context.shadowColor = 'rgba(0,0,0,0.35)';
  context.fillStyle = '#fff';
  context.beginPath();
  context.arc(data.x, data.y, data.size + 3, 0, Math.PI * 2);
  context.fill();
  if (data.label) {
    const w = context.measureText(data.label).width;
    halo(context, data.x - w / 2 - 5, data.y + data.size + 1, w + 10, size + 7, '#fff');
  }
  context.shadowBlur = 0;
  context.fillStyle = data.color;
  context.beginPath();
  context.arc(data.x, data.y, data.size, 0, Math.PI * 2);
  context.fill();
  if (data.label) {
    const w = context.measureText(data.label).width;
    context.fillStyle = settings.labelColor.color ?? '#000';
    context.textBaseline = 'top';
    context.fillText(data.label, data.x - w / 2, data.y + data.size + 4.5);
    context.textBaseline = 'alphabetic';
  }
}
