// The product mask as the page edits it: one byte per photo pixel (1 = marked), painted with a round brush
// or eraser along the pointer's path, kept exact (no anti-aliasing) so that what is shown is what is sent.
export interface MaskRaster {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface Point {
  x: number;
  y: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type Rgba = readonly [number, number, number, number];

export function emptyMask(width: number, height: number): MaskRaster {
  return { width, height, data: new Uint8Array(width * height) };
}

export function copyMask(mask: MaskRaster): MaskRaster {
  return { ...mask, data: mask.data.slice() };
}

/** A pointer position (client pixels) in the mask's pixels, given where the mask is drawn on screen. */
export function toMaskPoint(clientX: number, clientY: number, box: { left: number; top: number; width: number;
  height: number }, mask: { width: number; height: number }): Point {
  return {
    x: ((clientX - box.left) / Math.max(box.width, 1)) * mask.width,
    y: ((clientY - box.top) / Math.max(box.height, 1)) * mask.height,
  };
}

/** The brush's radius in mask pixels for a diameter in screen pixels, the mask drawn `shownWidth` px wide. */
export function brushRadius(screenDiameter: number, shownWidth: number, maskWidth: number): number {
  return Math.max(0.5, (screenDiameter / 2) * (maskWidth / Math.max(shownWidth, 1)));
}

function distanceToSegment(px: number, py: number, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length2 = dx * dx + dy * dy;
  const t = length2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - a.x) * dx + (py - a.y) * dy) / length2));
  return Math.hypot(px - (a.x + t * dx), py - (a.y + t * dy));
}

/**
 * Marks (value 1, the brush) or clears (0, the eraser) every pixel whose centre lies within `radius` of the
 * segment from `from` to `to` (a dot when they are equal). Returns the changed area's bounds, or null.
 */
export function paintStroke(mask: MaskRaster, from: Point, to: Point, radius: number, value: 0 | 1): Rect | null {
  // Pixel x's centre is x + 0.5: the columns and rows that can be reached.
  const x0 = Math.max(0, Math.ceil(Math.min(from.x, to.x) - radius - 0.5));
  const y0 = Math.max(0, Math.ceil(Math.min(from.y, to.y) - radius - 0.5));
  const x1 = Math.min(mask.width - 1, Math.floor(Math.max(from.x, to.x) + radius - 0.5));
  const y1 = Math.min(mask.height - 1, Math.floor(Math.max(from.y, to.y) + radius - 0.5));
  if (x0 > x1 || y0 > y1) return null;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (distanceToSegment(x + 0.5, y + 0.5, from, to) <= radius) mask.data[y * mask.width + x] = value;
    }
  }
  return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** The share of the photo that is marked, 0..1. */
export function coverage(mask: MaskRaster): number {
  let marked = 0;
  for (const value of mask.data) marked += value;
  return mask.data.length ? marked / mask.data.length : 0;
}

/** A decoded black-and-white picture (RGBA, e.g. the server's mask PNG) as a mask: bright pixels marked. */
export function maskFromRgba(rgba: ArrayLike<number>, width: number, height: number): MaskRaster {
  const mask = emptyMask(width, height);
  for (let i = 0; i < mask.data.length; i++) {
    const luma = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
    mask.data[i] = luma >= 128 && rgba[4 * i + 3] >= 128 ? 1 : 0;
  }
  return mask;
}

/** The mask as RGBA pixels of two colours: the tinted overlay on screen, or white on black for the server. */
export function maskToRgba(mask: MaskRaster, on: Rgba, off: Rgba, area?: Rect,
  target = new Uint8ClampedArray(mask.width * mask.height * 4)): Uint8ClampedArray {
  const { x, y, width, height } = area ?? { x: 0, y: 0, width: mask.width, height: mask.height };
  for (let row = y; row < y + height; row++) {
    for (let col = x; col < x + width; col++) {
      const i = row * mask.width + col;
      target.set(mask.data[i] ? on : off, 4 * i);
    }
  }
  return target;
}

/** The undo history after one more snapshot: the oldest is dropped beyond `limit`. */
export function pushHistory(history: MaskRaster[], snapshot: MaskRaster, limit = 20): MaskRaster[] {
  const next = [...history, snapshot];
  return next.length > limit ? next.slice(next.length - limit) : next;
}
