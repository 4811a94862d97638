// The mask being edited over the photo: the raster, the tinted canvas that shows it, brush and eraser strokes
// from pointer events, undo, and reset to the product the server found.
import { useCallback, useEffect, useRef, useState, type PointerEvent } from 'react';
import {
  brushRadius, copyMask, coverage, emptyMask, maskToRgba, paintStroke, pushHistory, toMaskPoint, type MaskRaster,
  type Point, type Rect, type Rgba,
} from './maskRaster';

export type Tool = 'brush' | 'eraser';

const TINT: Rgba = [79, 70, 229, 140]; // the accent, half see-through
const CLEAR: Rgba = [0, 0, 0, 0];

export interface MaskEditor {
  canvasRef: (canvas: HTMLCanvasElement | null) => void;
  /** The marked share of the photo, 0..1 (updated after each stroke). */
  share: number;
  canUndo: boolean;
  hasFound: boolean;
  tool: Tool;
  setTool: (tool: Tool) => void;
  /** The brush's diameter in screen pixels. */
  brushSize: number;
  setBrushSize: (size: number) => void;
  /** The server's mask: shown, and what Reset returns to. */
  setFound: (mask: MaskRaster) => void;
  undo: () => void;
  reset: () => void;
  clear: () => void;
  /** The current mask (null when nothing is marked). */
  current: () => MaskRaster | null;
  pointer: {
    onPointerDown: (event: PointerEvent<HTMLCanvasElement>) => void;
    onPointerMove: (event: PointerEvent<HTMLCanvasElement>) => void;
    onPointerUp: (event: PointerEvent<HTMLCanvasElement>) => void;
  };
}

export function useMaskEditor(width: number, height: number): MaskEditor {
  const canvas = useRef<HTMLCanvasElement | null>(null);
  const mask = useRef<MaskRaster>(emptyMask(width, height));
  const found = useRef<MaskRaster | null>(null);
  const pixels = useRef<ImageData | null>(null);
  const last = useRef<Point | null>(null);
  const [history, setHistory] = useState<MaskRaster[]>([]);
  const [share, setShare] = useState(0);
  const [hasFound, setHasFound] = useState(false);
  const [tool, setTool] = useState<Tool>('brush');
  const [brushSize, setBrushSize] = useState(24);

  const draw = useCallback((area?: Rect) => {
    const context = canvas.current?.getContext('2d');
    if (!context) return; // not mounted (or no canvas, as in tests)
    const { width: w, height: h } = mask.current;
    if (!pixels.current || pixels.current.width !== w || pixels.current.height !== h) {
      pixels.current = context.createImageData(w, h);
      area = undefined;
    }
    maskToRgba(mask.current, TINT, CLEAR, area, pixels.current.data);
    const box = area ?? { x: 0, y: 0, width: w, height: h };
    context.putImageData(pixels.current, 0, 0, box.x, box.y, box.width, box.height);
  }, []);

  const replace = useCallback((next: MaskRaster, remember: boolean) => {
    // The snapshot is taken now: an updater runs later, when the mask may have changed.
    const before = copyMask(mask.current);
    if (remember) setHistory((past) => pushHistory(past, before));
    mask.current = next;
    draw();
    setShare(coverage(next));
  }, [draw]);

  // A new photo starts with nothing marked.
  useEffect(() => {
    found.current = null;
    setHasFound(false);
    setHistory([]);
    replace(emptyMask(width, height), false);
  }, [width, height, replace]);

  const canvasRef = useCallback((element: HTMLCanvasElement | null) => {
    canvas.current = element;
    pixels.current = null;
    if (element) draw();
  }, [draw]);

  const strokeTo = (event: PointerEvent<HTMLCanvasElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    const point = toMaskPoint(event.clientX, event.clientY, box, mask.current);
    const radius = brushRadius(brushSize, box.width, mask.current.width);
    const dirty = paintStroke(mask.current, last.current ?? point, point, radius, tool === 'brush' ? 1 : 0);
    last.current = point;
    if (dirty) draw(dirty);
  };

  return {
    canvasRef, share, canUndo: history.length > 0, hasFound, tool, setTool, brushSize, setBrushSize,
    setFound: (next) => {
      found.current = copyMask(next);
      setHasFound(true);
      replace(next, true);
    },
    undo: () => {
      const previous = history[history.length - 1];
      if (!previous) return;
      setHistory(history.slice(0, -1));
      replace(previous, false);
    },
    reset: () => replace(found.current ? copyMask(found.current) : emptyMask(width, height), true),
    clear: () => replace(emptyMask(width, height), true),
    current: () => (coverage(mask.current) > 0 ? mask.current : null),
    pointer: {
      onPointerDown: (event) => {
        if (event.button !== 0) return;
        event.currentTarget.setPointerCapture?.(event.pointerId);
        const before = copyMask(mask.current);
        setHistory((past) => pushHistory(past, before));
        last.current = null;
        strokeTo(event);
      },
      onPointerMove: (event) => {
        if (last.current) strokeTo(event);
      },
      onPointerUp: () => {
        if (!last.current) return;
        last.current = null;
        setShare(coverage(mask.current));
      },
    },
  };
}
