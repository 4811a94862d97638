// The photo with its mask tinted over it: "Find product" asks the server for the mask, the brush and the eraser
// correct it, Undo and Reset step back.
import { useMutation } from '@tanstack/react-query';
import { api } from '../../api/endpoints';
import { toApiError } from '../../api/http';
import { ErrorNotice } from '../../components/ErrorNotice';
import { decodeMask, type LoadedPhoto } from './decode';
import type { MaskEditor as Editor, Tool } from './useMaskEditor';

const TOOLS: { tool: Tool; label: string }[] = [{ tool: 'brush', label: 'Brush' }, { tool: 'eraser', label: 'Eraser' }];

export function MaskEditor({ photo, editor, hint }: { photo: LoadedPhoto; editor: Editor; hint: string }) {
  const find = useMutation({
    mutationFn: async () => decodeMask(await api.productMask(photo.dataUrl), photo.width, photo.height),
    onSuccess: (mask) => editor.setFound(mask),
  });
  const percent = Math.round(editor.share * 1000) / 10;
  return (
    <div className="mask-editor">
      <div className="mask-stage" style={{ aspectRatio: `${photo.width} / ${photo.height}`,
        maxWidth: `min(640px, calc(70vh * ${photo.width} / ${photo.height}))` }}>
        <img src={photo.dataUrl} alt={`The photo ${photo.name}`} className="mask-photo" draggable={false} />
        <canvas ref={editor.canvasRef} width={photo.width} height={photo.height} className={`mask-canvas tool-${editor.tool}`}
          aria-label={`Mask over the photo: paint with the ${editor.tool}`} data-testid="mask-canvas"
          {...editor.pointer} onPointerCancel={editor.pointer.onPointerUp} />
      </div>
      <p className="muted small" role="status" data-testid="mask-share">
        {editor.share > 0 ? `Marked: ${percent}% of the photo` : 'Nothing marked yet'}
        {editor.hasFound ? ' (product found, corrections included)' : ''}
      </p>
      <p className="field-hint">{hint}</p>
      <div className="mask-tools">
        <button type="button" className="btn btn-primary btn-small" onClick={() => find.mutate()} disabled={find.isPending}>
          {find.isPending ? 'Finding…' : 'Find product'}</button>
        <div className="tool-switch" role="radiogroup" aria-label="Painting tool">
          {TOOLS.map(({ tool, label }) => (
            <label key={tool} className={`radio chip-radio ${editor.tool === tool ? 'on' : ''}`}>
              <input type="radio" name="mask-tool" value={tool} checked={editor.tool === tool}
                onChange={() => editor.setTool(tool)} /> {label}
            </label>
          ))}
        </div>
        <label className="brush-size small">Brush size
          <input type="range" min={4} max={96} step={2} value={editor.brushSize} aria-label="Brush size"
            onChange={(e) => editor.setBrushSize(Number(e.target.value))} />
        </label>
        <button type="button" className="btn btn-small" onClick={editor.undo} disabled={!editor.canUndo}>Undo</button>
        <button type="button" className="btn btn-small" onClick={editor.reset}
          title={editor.hasFound ? 'Back to the product as found' : 'Remove all marks'}>Reset</button>
        <button type="button" className="btn btn-ghost btn-small" onClick={editor.clear} disabled={editor.share === 0}>
          Clear</button>
      </div>
      <ErrorNotice error={find.error ? toApiError(find.error) : null} onDismiss={() => find.reset()} />
    </div>
  );
}
