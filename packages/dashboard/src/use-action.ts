import { useState } from 'react';
import { asApiError, type ApiError } from './api/client';
import type { Outcome } from './components/states';

export interface Action<L extends string = string> {
  /** True while an action runs: disable whatever would start another. */
  busy: boolean;
  /** The label of the action under way (`run(work, label)`): which button says it is at work. */
  running: L | undefined;
  /** Why the last run failed, as the API's coded error (in the view's words, where it has them). */
  error: ApiError | undefined;
  /** What the last run ended with, for `<OutcomeNotice>`: the line its work returned, or its error. */
  outcome: Outcome;
  /**
   * Runs `work`, busy meanwhile; forgets the last outcome first. Resolves to the error it kept, or
   * to undefined when the work succeeded; never rejects.
   */
  run(work: () => Promise<string | void>, label?: L): Promise<ApiError | undefined>;
  /** Forgets the last error and success line. */
  reset(): void;
}

export interface ActionOptions {
  /** Rewords a refusal the person is expected to meet here; the code is kept. */
  words?: (error: ApiError) => ApiError;
  /** The error shown before any run (read once, on the first render). */
  initialError?: () => ApiError | undefined;
}

interface State<L> {
  running: L | undefined;
  busy: boolean;
  error: ApiError | undefined;
  ok: string | undefined;
}

const IDLE = { running: undefined, busy: false, error: undefined, ok: undefined } as const;

/**
 * What a form or an action button does with an API call: it is busy while the call runs, keeps the
 * refusal to show, and clears both when it runs again. Side effects of success (reload, clear the
 * form, tell the parent) go in `work`, after its request.
 */
export function useAction<L extends string = string>({ words, initialError }: ActionOptions = {}): Action<L> {
  const [state, setState] = useState<State<L>>(() => ({ ...IDLE, error: initialError?.() }));

  const run = async (work: () => Promise<string | void>, label?: L): Promise<ApiError | undefined> => {
    setState({ ...IDLE, busy: true, running: label });
    try {
      const line = await work();
      setState({ ...IDLE, ok: typeof line === 'string' ? line : undefined });
      return undefined;
    } catch (failure) {
      const coded = asApiError(failure);
      const error = words ? words(coded) : coded;
      setState({ ...IDLE, error });
      return error;
    }
  };
  const reset = (): void => setState((current) => ({ ...current, error: undefined, ok: undefined }));

  const outcome: Outcome = state.error ? { error: state.error } : state.ok !== undefined ? { ok: state.ok } : undefined;
  return { busy: state.busy, running: state.running, error: state.error, outcome, run, reset };
}
