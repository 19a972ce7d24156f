/**
 * Node shapes for sigma.js (browser code): one WebGL program that draws each
 * node as a point sprite whose fragment shader cuts the shape named by the
 * node's `shape` attribute (a code from SHAPE_CODES in palette.ts: circle,
 * square, ring, or a regular polygon with that many sides). One program for
 * every shape keeps a 10,000-node graph in one draw call. Also the SVG icons of
 * the legend, so the legend shows the same shapes.
 */
import { NodeProgram } from 'sigma/rendering';
import type { ProgramInfo } from 'sigma/rendering';
import type { NodeDisplayData, RenderParams } from 'sigma/types';
import { floatColor } from 'sigma/utils';
import { SHAPE_CODES, type NodeShape } from '../palette.ts';

const VERTEX = /* glsl */ `
attribute vec4 a_id;
attribute vec4 a_color;
attribute vec2 a_position;
attribute float a_size;
attribute float a_shape;

uniform float u_sizeRatio;
uniform float u_pixelRatio;
uniform mat3 u_matrix;

varying vec4 v_color;
varying float v_border;
varying float v_shape;

const float bias = 255.0 / 254.0;

void main() {
  gl_Position = vec4((u_matrix * vec3(a_position, 1)).xy, 0, 1);
  gl_PointSize = a_size / u_sizeRatio * u_pixelRatio * 2.0;
  v_border = (0.5 / a_size) * u_sizeRatio;
  v_shape = a_shape;
  #ifdef PICKING_MODE
  v_color = a_id;
  #else
  v_color = a_color;
  #endif
  v_color.a *= bias;
}
`;

const FRAGMENT = /* glsl */ `
precision mediump float;

varying vec4 v_color;
varying float v_border;
varying float v_shape;

const vec4 transparent = vec4(0.0, 0.0, 0.0, 0.0);
const float PI = 3.14159265;

void main(void) {
  // p in [-0.5, 0.5], y up.
  vec2 p = gl_PointCoord - vec2(0.5, 0.5);
  p.y = -p.y;
  float inside; // > 0 inside, distance to the edge
  if (v_shape < 0.5) {
    inside = 0.5 - length(p);
  } else if (v_shape < 1.5) {
    vec2 q = abs(p);
    inside = 0.42 - max(q.x, q.y);
  } else if (v_shape < 2.5) {
    float r = length(p);
    inside = min(0.5 - r, r - 0.3);
  } else {
    float n = floor(v_shape + 0.5);
    float seg = 2.0 * PI / n;
    // Angle from the top, half a segment turned so that a vertex points up.
    float b = atan(p.x, p.y) - 0.5 * seg;
    float d = cos(floor(0.5 + b / seg) * seg - b) * length(p);
    // The polygon's inradius, so its vertices touch the sprite's circle.
    inside = 0.5 * cos(PI / n) - d;
  }
  #ifdef PICKING_MODE
  gl_FragColor = inside > 0.0 ? v_color : transparent;
  #else
  float t = inside > v_border ? 1.0 : (inside > 0.0 ? inside / v_border : 0.0);
  gl_FragColor = mix(transparent, v_color, t);
  #endif
}
`;

const { UNSIGNED_BYTE, FLOAT } = WebGLRenderingContext;
const UNIFORMS = ['u_sizeRatio', 'u_pixelRatio', 'u_matrix'] as const;

/**
 * sigma node program: a point sprite per node, cut to `data.shape` (a number
 * from SHAPE_CODES; circle when absent).
 */
export class NodeShapeProgram extends NodeProgram<(typeof UNIFORMS)[number]> {
  getDefinition() {
    return {
      VERTICES: 1,
      VERTEX_SHADER_SOURCE: VERTEX,
      FRAGMENT_SHADER_SOURCE: FRAGMENT,
      METHOD: WebGLRenderingContext.POINTS,
      UNIFORMS,
      ATTRIBUTES: [
        { name: 'a_position', size: 2, type: FLOAT },
        { name: 'a_size', size: 1, type: FLOAT },
        { name: 'a_shape', size: 1, type: FLOAT },
        { name: 'a_color', size: 4, type: UNSIGNED_BYTE, normalized: true },
        { name: 'a_id', size: 4, type: UNSIGNED_BYTE, normalized: true },
      ],
    };
  }

  processVisibleItem(nodeIndex: number, startIndex: number, data: NodeDisplayData): void {
    const array = this.array;
    array[startIndex++] = data.x;
    array[startIndex++] = data.y;
    array[startIndex++] = data.size;
    array[startIndex++] = (data as NodeDisplayData & { shape?: number }).shape ?? 0;
    array[startIndex++] = floatColor(data.color);
    array[startIndex++] = nodeIndex;
  }

  setUniforms({ sizeRatio, pixelRatio, matrix }: RenderParams, { gl, uniformLocations }: ProgramInfo): void {
    gl.uniform1f(uniformLocations.u_pixelRatio!, pixelRatio);
    gl.uniform1f(uniformLocations.u_sizeRatio!, sizeRatio);
    gl.uniformMatrix3fv(uniformLocations.u_matrix!, false, matrix);
  }
}

/** The shape's code for the shader. */
export function shapeCode(shape: NodeShape): number {
  return SHAPE_CODES[shape];
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** A 14×14 SVG icon of `shape` filled with `color` (the legend, node pages, search results). */
export function shapeIcon(shape: NodeShape, color: string, px = 14): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('width', String(px));
  svg.setAttribute('height', String(px));
  svg.setAttribute('viewBox', '-0.5 -0.5 1 1');
  svg.setAttribute('class', `shape shape-${shape}`);
  svg.setAttribute('aria-hidden', 'true');
  let el: SVGElement;
  if (shape === 'circle' || shape === 'ring') {
    el = document.createElementNS(SVG_NS, 'circle');
    el.setAttribute('r', shape === 'ring' ? '0.4' : '0.5');
    if (shape === 'ring') {
      el.setAttribute('fill', 'none');
      el.setAttribute('stroke', color);
      el.setAttribute('stroke-width', '0.2');
    }
  } else if (shape === 'square') {
    el = document.createElementNS(SVG_NS, 'rect');
    for (const [k, v] of [['x', '-0.42'], ['y', '-0.42'], ['width', '0.84'], ['height', '0.84']]) el.setAttribute(k!, v!);
  } else {
    const n = SHAPE_CODES[shape];
    const pts: string[] = [];
    for (let k = 0; k < n; k++) {
      const a = (2 * Math.PI * k) / n;
      pts.push(`${(0.5 * Math.sin(a)).toFixed(3)},${(-0.5 * Math.cos(a)).toFixed(3)}`);
    }
    el = document.createElementNS(SVG_NS, 'polygon');
    el.setAttribute('points', pts.join(' '));
  }
  if (shape !== 'ring') el.setAttribute('fill', color);
  svg.append(el);
  return svg;
}
