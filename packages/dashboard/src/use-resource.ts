import { useCallback, useEffect, useEffectEvent, useState, type SetStateAction } from 'react';
import { asApiError, type ApiError } from './api/client';

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  /** True until the first answer (or error) for the current key. */
  loading: boolean;
  reload(): void;
  setData(update: SetStateAction<T | undefined>): void;
}

interface State<T> {
  key: string;
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
}

/**
 * Loads what `load` fetches whenever `key` changes; answers for an earlier key are dropped.
 * `reload` fetches again and keeps showing what is there meanwhile.
 */
export function useResource<T>(load: () => Promise<T>, key: string): Resource<T> {
  const [state, setState] = useState<State<T>>({ key, data: undefined, error: undefined, loading: true });
  const [reloads, setReloads] = useState(0);
  const fetchNow = useEffectEvent(() => load());

  useEffect(() => {
    let current = true;
    fetchNow().then(
      (data) => current && setState({ key, data, error: undefined, loading: false }),
      (reason: unknown) =>
        current &&
        setState((previous) => ({
          key,
          data: previous.key === key ? previous.data : undefined,
          error: asApiError(reason),
          loading: false,
        })),
    );
    return () => {
      current = false;
    };
  }, [key, reloads]);

  const reload = useCallback(() => setReloads((n) => n + 1), []);
  const setData = useCallback(
    (update: SetStateAction<T | undefined>) =>
      setState((previous) => ({ ...previous, data: typeof update === 'function' ? (update as (value: T | undefined) => T | undefined)(previous.data) : update })),
    [],
  );
  // A new key shows nothing of the previous one while it loads.
  const fresh = state.key === key;
  return { data: fresh ? state.data : undefined, error: fresh ? state.error : undefined, loading: fresh ? state.loading : true, reload, setData };
}
