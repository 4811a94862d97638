import { describe, expect, it } from 'vitest';
import {
  brushRadius, copyMask, coverage, emptyMask, maskFromRgba, maskToRgba, paintStroke, pushHistory, toMaskPoint,
} from './maskRaster';

const marked = (mask: ReturnType<typeof emptyMask>) =>
  [...mask.data.keys()].filter((i) => mask.data[i]).map((i) => [i % mask.width, Math.floor(i / mask.width)]);

describe('mask painting', () => {
  it('maps a pointer on the shown mask to mask pixels, whatever its size on screen', () => {
    const box = { left: 100, top: 50, width: 400, height: 200 };
    expect(toMaskPoint(100, 50, box, { width: 64, height: 32 })).toEqual({ x: 0, y: 0 });
    expect(toMaskPoint(300, 150, box, { width: 64, height: 32 })).toEqual({ x: 32, y: 16 });
    expect(toMaskPoint(500, 250, box, { width: 64, height: 32 })).toEqual({ x: 64, y: 32 });
  });

  it('turns a brush diameter in screen pixels into a radius in mask pixels', () => {
    expect(brushRadius(24, 400, 64)).toBeCloseTo(1.92); // 12 screen px at 0.16 mask px each
    expect(brushRadius(24, 300, 1200)).toBe(48);
    expect(brushRadius(1, 1000, 10)).toBe(0.5); // never thinner than half a pixel
  });

  it('a dot marks the pixels whose centres are within the radius', () => {
    const mask = emptyMask(5, 5);
    const dirty = paintStroke(mask, { x: 2.5, y: 2.5 }, { x: 2.5, y: 2.5 }, 1, 1);
    expect(marked(mask)).toEqual([[2, 1], [1, 2], [2, 2], [3, 2], [2, 3]]);
    expect(dirty).toEqual({ x: 1, y: 1, width: 3, height: 3 });
  });

  it('a stroke marks the whole path between two points, the eraser clears it, clipped at the edges', () => {
    const mask = emptyMask(10, 3);
    paintStroke(mask, { x: -5, y: 1.5 }, { x: 20, y: 1.5 }, 0.5, 1);
    expect(marked(mask)).toEqual(Array.from({ length: 10 }, (_, x) => [x, 1]));
    expect(coverage(mask)).toBeCloseTo(1 / 3);
    paintStroke(mask, { x: 2.5, y: 1.5 }, { x: 6.5, y: 1.5 }, 0.5, 0);
    expect(marked(mask).map(([x]) => x)).toEqual([0, 1, 7, 8, 9]);
    expect(paintStroke(mask, { x: -9, y: -9 }, { x: -8, y: -9 }, 1, 1)).toBeNull();
  });

  it('reads the server’s black-and-white PNG pixels and writes the tint or the white-on-black mask', () => {
    const rgba = [255, 255, 255, 255, 0, 0, 0, 255, 200, 200, 200, 255, 255, 255, 255, 0];
    const mask = maskFromRgba(rgba, 2, 2);
    expect([...mask.data]).toEqual([1, 0, 1, 0]);
    expect([...maskToRgba(mask, [255, 255, 255, 255], [0, 0, 0, 255])]).toEqual(
      [255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 255]);
    const target = new Uint8ClampedArray(16);
    maskToRgba(mask, [9, 9, 9, 9], [1, 1, 1, 1], { x: 0, y: 1, width: 1, height: 1 }, target);
    expect([...target]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 0, 0, 0, 0]); // only the dirty area
  });

  it('keeps a bounded undo history of independent snapshots', () => {
    const mask = emptyMask(2, 1);
    const snapshot = copyMask(mask);
    mask.data[0] = 1;
    expect(snapshot.data[0]).toBe(0);
    let history = [snapshot];
    for (let i = 0; i < 25; i++) history = pushHistory(history, copyMask(mask), 20);
    expect(history).toHaveLength(20);
    expect(history[0].data[0]).toBe(1); // the oldest went first
  });
});
