// The browser's side of the photo and its mask: decoding what the user drops (any format the browser reads,
// EXIF rotation applied), the server's mask PNG into a raster, and the edited mask back into a PNG.
import { fitWithin } from './photo';
import { maskFromRgba, maskToRgba, type MaskRaster } from './maskRaster';

/** The longest side sent: the server works at about the base's native size (512 px for SD1.5). */
export const MAX_PHOTO_SIDE = 1024;

export interface LoadedPhoto {
  name: string;
  /** PNG data URL of the photo as shown and sent (at most MAX_PHOTO_SIDE px). */
  dataUrl: string;
  width: number;
  height: number;
}

function canvasOf(width: number, height: number): [HTMLCanvasElement, CanvasRenderingContext2D] {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('This browser cannot draw pictures (no 2D canvas).');
  return [canvas, context];
}

async function bitmapOf(blob: Blob, what: string): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(blob);
  } catch {
    throw new Error(`${what} could not be read as a picture. Use a PNG, JPEG or WebP file.`);
  }
}

export async function decodePhoto(file: File): Promise<LoadedPhoto> {
  const bitmap = await bitmapOf(file, `“${file.name}”`);
  const { width, height } = fitWithin(bitmap.width, bitmap.height, MAX_PHOTO_SIDE);
  const [canvas, context] = canvasOf(width, height);
  context.fillStyle = '#fff'; // a transparent PNG's background becomes the studio white
  context.fillRect(0, 0, width, height);
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return { name: file.name, dataUrl: canvas.toDataURL('image/png'), width, height };
}

/** The server's mask PNG as a raster of the photo's size. */
export async function decodeMask(blob: Blob, width: number, height: number): Promise<MaskRaster> {
  const bitmap = await bitmapOf(blob, 'The mask');
  const [, context] = canvasOf(width, height);
  context.imageSmoothingEnabled = false;
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return maskFromRgba(context.getImageData(0, 0, width, height).data, width, height);
}

/** The mask as the API takes it: a PNG data URL, white where marked. */
export function maskToPng(mask: MaskRaster): string {
  const [canvas, context] = canvasOf(mask.width, mask.height);
  const pixels = context.createImageData(mask.width, mask.height);
  maskToRgba(mask, [255, 255, 255, 255], [0, 0, 0, 255], undefined, pixels.data);
  context.putImageData(pixels, 0, 0);
  return canvas.toDataURL('image/png');
}
