// Short notices at the bottom of the screen. `useToast` gives a function that never changes, so the
// components that post notices do not re-render when one appears.
import { createContext, useCallback, useContext, useState, type ReactNode } from 'react';
import { useProvided } from './createStateContext';

export interface Toast {
  id: number;
  text: string;
  tone: 'info' | 'error';
}

type PostToast = (text: string, tone?: Toast['tone']) => void;

const ToastListContext = createContext<Toast[]>([]);
const PostToastContext = createContext<PostToast | null>(null);

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const toast = useCallback<PostToast>((text, tone = 'info') => {
    const id = Date.now() + Math.random();
    setToasts((list) => [...list.slice(-3), { id, text, tone }]);
    setTimeout(() => setToasts((list) => list.filter((t) => t.id !== id)), tone === 'error' ? 8000 : 4000);
  }, []);
  return (
    <PostToastContext.Provider value={toast}>
      <ToastListContext.Provider value={toasts}>{children}</ToastListContext.Provider>
    </PostToastContext.Provider>
  );
}

export function useToast(): PostToast {
  return useProvided(PostToastContext, 'useToast outside ToastProvider');
}

export function useToastList(): Toast[] {
  return useContext(ToastListContext);
}
