import { useStudio } from '../state/studio';

export function Toasts() {
  const { toasts } = useStudio();
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => <div key={t.id} className={`toast toast-${t.tone}`}>{t.text}</div>)}
    </div>
  );
}
