// An image from the API in a box that keeps its aspect ratio while loading, so nothing jumps. With an API
// key the file is fetched with the Authorization header (an <img src> cannot send it) and shown from a
// blob: URL; without one the browser loads it directly (lazily, cached).
import { useEffect, useRef, useState } from 'react';
import { getApiKey, send } from '../api/http';

const MAX_CACHED = 200;
const blobUrls = new Map<string, Promise<string>>();

export function clearImageCache(): void {
  for (const pending of blobUrls.values()) void pending.then((url) => URL.revokeObjectURL(url), () => undefined);
  blobUrls.clear();
}

function blobUrl(url: string): Promise<string> {
  let pending = blobUrls.get(url);
  if (pending) {
    blobUrls.delete(url); // re-insert: most recently used last
  } else {
    pending = send('get', url, { accept: 'image/*' }).then((r) => r.blob()).then((b) => URL.createObjectURL(b));
    pending.catch(() => blobUrls.delete(url));
  }
  blobUrls.set(url, pending);
  while (blobUrls.size > MAX_CACHED) {
    const [oldest, old] = blobUrls.entries().next().value as [string, Promise<string>];
    blobUrls.delete(oldest);
    void old.then((u) => URL.revokeObjectURL(u), () => undefined);
  }
  return pending;
}

export interface ApiImageProps {
  /** An API path such as /api/gallery/{id}/image, or a data: URL. */
  src: string;
  alt: string;
  /** Reserved box: width/height of the picture (any units), or a CSS aspect-ratio string. */
  width?: number;
  height?: number;
  aspectRatio?: string;
  className?: string;
  /** Shown instead of the picture when it cannot be loaded (e.g. a 404). */
  fallback?: string;
  eager?: boolean;
}

export function ApiImage({ src, alt, width, height, aspectRatio, className, fallback, eager }: ApiImageProps) {
  const viaBlob = !src.startsWith('data:') && getApiKey() !== '';
  const [resolved, setResolved] = useState<string | null>(viaBlob ? null : src);
  const [state, setState] = useState<'loading' | 'loaded' | 'failed'>('loading');
  const [pixelated, setPixelated] = useState(false);
  const shownSrc = useRef<string | null>(null);

  useEffect(() => {
    // A new picture fades in; a new live preview (data: URL) simply replaces the previous one.
    if (shownSrc.current !== null && shownSrc.current !== src && !src.startsWith('data:')) setState('loading');
    shownSrc.current = src;
    if (!viaBlob) {
      setResolved(src);
      return;
    }
    let live = true;
    setResolved(null);
    blobUrl(src).then((url) => live && setResolved(url), () => live && setState('failed'));
    return () => {
      live = false;
    };
  }, [src, viaBlob]);

  const ratio = aspectRatio ?? (width && height ? `${width} / ${height}` : '1 / 1');
  const loaded = (img: HTMLImageElement) => {
    // Small pictures (the tiny model's 64 px) are enlarged with crisp pixels rather than blurred.
    setPixelated(img.naturalWidth > 0 && Math.max(img.naturalWidth, img.naturalHeight) <= 256);
    setState('loaded');
  };
  return (
    <div className={`img-box ${state} ${className ?? ''}`} style={{ aspectRatio: ratio }}>
      {state === 'failed' ? (
        <span className="img-fallback">{fallback ?? 'Image unavailable'}</span>
      ) : resolved ? (
        <img src={resolved} alt={alt} loading={eager ? 'eager' : 'lazy'} decoding="async"
          className={pixelated ? 'pixelated' : undefined}
          ref={(img) => { if (img?.complete && img.naturalWidth > 0 && state === 'loading') loaded(img); }}
          onLoad={(e) => loaded(e.currentTarget)} onError={() => setState('failed')} />
      ) : null}
    </div>
  );
}
