// The zoomed view of one generated image: the picture, every parameter, its scores, and what to do with it.
import { useMutation } from '@tanstack/react-query';
import { useEffect } from 'react';
import { api } from '../api/endpoints';
import { toApiError } from '../api/http';
import { useBaseModel } from '../api/queries';
import type { GalleryImagePublic } from '../api/types';
import { copyText, formatDate, saveBlob } from '../lib/browser';
import { parametersText } from '../lib/form';
import { modelLabel } from '../lib/models';
import { useSetViewer, useViewer } from '../state/dialogs';
import { useApplySettings } from '../state/generateForm';
import { useToast } from '../state/toasts';
import { ApiImage } from './ApiImage';
import { ImageScores } from './ImageScores';
import { Modal } from './Modal';

function extras(image: GalleryImagePublic): [string, string][] {
  return Object.entries(image.extra ?? {})
    .filter(([, value]) => value !== null && value !== undefined && typeof value !== 'object')
    .map(([key, value]) => [key.replace(/_/g, ' '), String(value)]);
}

export function ImageViewer() {
  const viewer = useViewer();
  const setViewer = useSetViewer();
  const applySettingsOf = useApplySettings();
  const toast = useToast();
  const baseModel = useBaseModel();
  const download = useMutation({
    mutationFn: (shown: GalleryImagePublic) => api.imageFile(shown.id),
    onSuccess: (blob, shown) => saveBlob(blob, `shoegen-${shown.seed}-${shown.id}.png`),
    onError: (error) => toast(toApiError(error).message, 'error'),
  });
  const image = viewer ? viewer.images[viewer.index] : null;
  const count = viewer?.images.length ?? 0;

  const go = (delta: number) => {
    if (viewer && count > 1) setViewer({ ...viewer, index: (viewer.index + delta + count) % count });
  };

  useEffect(() => {
    if (!viewer || count < 2) return;
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target && ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)) return;
      if (e.key === 'ArrowRight') go(1);
      if (e.key === 'ArrowLeft') go(-1);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const copy = async (text: string, what: string) => {
    try {
      await copyText(text);
      toast(`${what} copied.`);
    } catch {
      toast(`Could not copy the ${what.toLowerCase()}.`, 'error');
    }
  };

  const loras = image?.loras.map((l) => l as { name?: string; weight?: number }) ?? [];
  return (
    <Modal open={image !== null} onClose={() => setViewer(null)} labelledBy="viewer-title" className="viewer">
      {image && (
        <div className="viewer-layout">
          <div className="viewer-picture">
            <ApiImage src={image.image_url} alt={image.prompt} width={image.width} height={image.height} eager
              className="viewer-img" />
            {count > 1 && (
              <div className="viewer-nav">
                <button type="button" className="btn btn-ghost" onClick={() => go(-1)} aria-label="Previous image">
                  ← Previous
                </button>
                <span className="muted">{viewer!.index + 1} / {count}</span>
                <button type="button" className="btn btn-ghost" onClick={() => go(1)} aria-label="Next image">
                  Next →
                </button>
              </div>
            )}
          </div>
          <div className="viewer-details">
            <div className="viewer-head">
              <h2 id="viewer-title">Image details</h2>
              <button type="button" className="btn btn-ghost icon-btn" onClick={() => setViewer(null)}
                aria-label="Close">✕</button>
            </div>
            <p className="viewer-prompt" data-testid="viewer-prompt">{image.prompt}</p>
            {image.negative_prompt && (
              <p className="viewer-negative"><span className="muted">Negative:</span> {image.negative_prompt}</p>
            )}
            <dl className="meta-list" data-testid="viewer-meta">
              <dt>Model</dt><dd data-testid="meta-model">{modelLabel(image.model_name, baseModel)}
                {image.model_name !== modelLabel(image.model_name, baseModel) &&
                  <span className="meta-sub mono">{image.model_name}</span>}</dd>
              {loras.length > 0 && (<><dt>LoRA weight</dt>
                <dd>{loras.map((l) => `${l.name} × ${l.weight}`).join(', ')}</dd></>)}
              <dt>Seed</dt><dd data-testid="meta-seed">{image.seed}</dd>
              <dt>Size</dt><dd>{image.width} × {image.height}</dd>
              <dt>Steps</dt><dd>{image.num_inference_steps}</dd>
              <dt>Guidance</dt><dd>{image.guidance_scale}</dd>
              <dt>Sampler</dt><dd>{image.sampler}</dd>
              {image.clip_skip > 1 && (<><dt>Clip skip</dt><dd>{image.clip_skip}</dd></>)}
              {image.strength !== null && image.strength !== undefined && (<><dt>Strength</dt>
                <dd>{image.strength}</dd></>)}
              <dt>Created</dt><dd>{formatDate(image.created_at)}</dd>
              {extras(image).map(([key, value]) => (<span key={key} className="meta-pair"><dt>{key}</dt>
                <dd>{value}</dd></span>))}
              <dt>Image id</dt><dd className="mono">{image.id}</dd>
            </dl>
            <ImageScores scores={image.scores} />
            <div className="viewer-actions">
              <button type="button" className="btn btn-primary" onClick={() => applySettingsOf(image)}>
                Use these settings
              </button>
              <button type="button" className="btn" onClick={() => download.mutate(image)}>Download PNG</button>
              <button type="button" className="btn" onClick={() => copy(String(image.seed), 'Seed')}>Copy seed</button>
              <button type="button" className="btn" onClick={() => copy(parametersText(image), 'Parameters')}>
                Copy parameters
              </button>
            </div>
          </div>
        </div>
      )}
    </Modal>
  );
}
