import { useToastList } from '../state/toasts';

export function Toasts() {
  const toasts = useToastList();
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => <div key={t.id} className={`toast toast-${t.tone}`}>{t.text}</div>)}
    </div>
  );
}
