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

/** A label's box on the labels canvas, in CSS pixels (as drawn, halo included). */
export interface LabelBox {
  readonly node: string;
  readonly text: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * The labels drawn in the current frame. A label that would overlap one
 * already drawn (or a reserved one: the open node's) is not drawn — its node
 * shows it on hover — so labels never overlap. Reset before each render.
 */
export const drawnLabels: { boxes: LabelBox[]; reserved: LabelBox[]; reserve: (() => LabelBox[]) | null } = { boxes: [], reserved: [], reserve: null };

/**
 * Forgets the last frame's labels. `reserve` is called once, when the frame
 * draws its first label (the frame's camera matrix is known then): the boxes
 * it returns win over every other label.
 */
export function resetLabels(reserve: (() => LabelBox[]) | null = null): void {
  drawnLabels.boxes = [];
  drawnLabels.reserved = [];
  drawnLabels.reserve = reserve;
}

function overlaps(a: { x: number; y: number; width: number; height: number }, b: { x: number; y: number; width: number; height: number }): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/**
 * Where the label of a node at (x, y) of rendered `size` goes, with the text
 * shortened to the column spacing (null when nothing fits). Shared by the
 * drawer and by the page when it reserves the open node's label.
 */
export function labelBox(context: CanvasRenderingContext2D, node: string, label: string, x: number, y: number, size: number, settings: Settings, widthFactor = 1): LabelBox | null {
  context.font = font(settings);
  const text = fit(context, label, Math.max(40, labelSpace.width * widthFactor - 10));
  if (!text) return null;
  const w = context.measureText(text).width;
  return { node, text, x: x - w / 2 - 3, y: y + size + 2, width: w + 6, height: settings.labelSize + 4 };
}

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

export function font(settings: Settings): string {
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
export function drawLabelBelow(context: CanvasRenderingContext2D, data: LabelData & { key?: string }, settings: Settings): void {
  if (!data.label) return;
  if (drawnLabels.reserve) {
    drawnLabels.reserved = drawnLabels.reserve();
    drawnLabels.reserve = null;
  }
  const node = data.key ?? '';
  // Folder boxes are few and far apart: their labels may be wider than a column.
  const box = labelBox(context, node, data.label, data.x, data.y, data.size, settings, (data as { group?: string }).group !== undefined ? 1.8 : 1);
  if (!box) return;
  // A reserved label only yields to labels already drawn; any other label also to the reserved ones.
  if (drawnLabels.boxes.some((b) => overlaps(b, box))) return;
  if (!drawnLabels.reserved.some((b) => b.node === node) && drawnLabels.reserved.some((b) => overlaps(b, box))) return;
  drawnLabels.boxes.push(box);
  halo(context, box.x, box.y, box.width, box.height, 'rgba(255,255,255,0.85)');
  context.fillStyle = settings.labelColor.color ?? '#000';
  context.textBaseline = 'top';
  context.fillText(box.text, box.x + 3, box.y + 2);
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
