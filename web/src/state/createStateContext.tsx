// One piece of client state shared through context, read and written through separate contexts: components
// that only change it (a button that opens a dialog) do not re-render when it changes.
import { createContext, useContext, useState, type Dispatch, type ReactNode, type SetStateAction } from 'react';

const MISSING = Symbol('outside its provider');

export function createStateContext<T>(name: string, initial: T) {
  const ValueContext = createContext<T | typeof MISSING>(MISSING);
  const SetterContext = createContext<Dispatch<SetStateAction<T>> | null>(null);

  function Provider({ children }: { children: ReactNode }) {
    const [value, setValue] = useState(initial);
    return (
      <SetterContext.Provider value={setValue}>
        <ValueContext.Provider value={value}>{children}</ValueContext.Provider>
      </SetterContext.Provider>
    );
  }

  function useValue(): T {
    const value = useContext(ValueContext);
    if (value === MISSING) throw new Error(`${name} is read outside its provider`);
    return value;
  }

  function useSetter(): Dispatch<SetStateAction<T>> {
    const setter = useContext(SetterContext);
    if (!setter) throw new Error(`${name} is set outside its provider`);
    return setter;
  }

  return { Provider, useValue, useSetter };
}
