// One piece of client state shared through context, read and written through separate contexts: components
// that only change it (a button that opens a dialog) do not re-render when it changes.
import {
  createContext, useContext, useState, type Context, type Dispatch, type ReactNode, type SetStateAction,
} from 'react';

/** A context's value, or an error saying which hook was used outside its provider (`message`). */
export function useProvided<T>(context: Context<T | null>, message: string): T {
  const value = useContext(context);
  if (value === null) throw new Error(message);
  return value;
}

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
    return useProvided(SetterContext, `${name} is set outside its provider`);
  }

  return { Provider, useValue, useSetter };
}
