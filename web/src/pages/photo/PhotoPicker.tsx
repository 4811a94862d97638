// Where the photo comes in: dropped on the zone or picked, decoded in the browser (any format it reads).
import { useState } from 'react';
import { decodePhoto, type LoadedPhoto } from './decode';

const ACCEPT = 'image/png,image/jpeg,image/webp,image/gif,image/bmp,image/avif';

export function PhotoPicker({ photo, onPhoto }: { photo: LoadedPhoto | null; onPhoto: (photo: LoadedPhoto) => void }) {
  const [over, setOver] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const take = async (file: File | undefined) => {
    if (!file) return;
    setError(null);
    try {
      onPhoto(await decodePhoto(file));
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };
  return (
    <div className={`drop-zone photo-drop ${over ? 'over' : ''} ${photo ? 'has-photo' : ''}`} data-testid="photo-drop"
      onDragOver={(e) => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        void take(e.dataTransfer.files[0]);
      }}>
      {photo ? (
        <p className="small" data-testid="photo-name"><strong>{photo.name}</strong> · {photo.width} × {photo.height} px</p>
      ) : (
        <>
          <p><strong>Drop a product photo here</strong></p>
          <p className="muted small">A shoe on a plain white or light studio background works best. PNG, JPEG or WebP.</p>
        </>
      )}
      <div className="drop-buttons">
        <label className="btn btn-small">{photo ? 'Choose another photo…' : 'Choose a photo…'}
          <input type="file" accept={ACCEPT} className="visually-hidden" aria-label="Choose a photo"
            onChange={(e) => { void take(e.target.files?.[0]); e.target.value = ''; }} /></label>
      </div>
      {error && <p className="notice notice-error" role="alert">{error}</p>}
    </div>
  );
}
