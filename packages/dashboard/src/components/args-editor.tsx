import { useId } from 'react';

/** How one top-level argument is edited: as its JSON type, so numbers stay numbers. */
type Kind = 'number' | 'boolean' | 'string' | 'json';

function kindOf(value: unknown): Kind {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  return 'json';
}

/** The text each field starts with. */
export function argsDraft(args: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(args).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
}

export type ParsedArgs = { ok: true; args: Record<string, unknown> } | { ok: false; errors: Record<string, string> };

/** The edited arguments, each of the type of the original; errors by argument when one does not parse. */
export function parseArgs(original: Record<string, unknown>, draft: Record<string, string>): ParsedArgs {
  const args: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const [key, value] of Object.entries(original)) {
    const text = draft[key] ?? '';
    switch (kindOf(value)) {
      case 'string':
        args[key] = text;
        break;
      case 'number': {
        const number = Number(text);
        if (text.trim() === '' || !Number.isFinite(number)) errors[key] = 'must be a number';
        else args[key] = number;
        break;
      }
      case 'boolean':
        args[key] = text === 'true';
        break;
      case 'json':
        try {
          args[key] = JSON.parse(text) as unknown;
        } catch {
          errors[key] = 'must be JSON (e.g. ["a", "b"] or {"k": 1})';
        }
        break;
    }
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, args };
}

/** One labelled control per top-level argument of the call. */
export function ArgsEditor({
  original,
  draft,
  errors,
  onChange,
}: {
  original: Record<string, unknown>;
  draft: Record<string, string>;
  errors: Record<string, string>;
  onChange(key: string, text: string): void;
}) {
  const base = useId();
  return (
    <fieldset className="args-editor">
      <legend>Arguments to approve</legend>
      {Object.entries(original).map(([key, value], index) => {
        const id = `${base}-${index}`;
        const kind = kindOf(value);
        const error = errors[key];
        const common = {
          id,
          'aria-invalid': error !== undefined,
          'aria-describedby': error ? `${id}-error` : undefined,
        };
        return (
          <div className="field arg-field" key={key}>
            <label htmlFor={id}>
              <span className="mono">{key}</span> <span className="muted small">({kind})</span>
            </label>
            {kind === 'boolean' ? (
              <select {...common} value={draft[key] ?? 'false'} onChange={(e) => onChange(key, e.target.value)}>
                <option value="true">true</option>
                <option value="false">false</option>
              </select>
            ) : (
              <input
                {...common}
                className={kind === 'string' ? undefined : 'mono'}
                type={kind === 'number' ? 'number' : 'text'}
                step={kind === 'number' ? 'any' : undefined}
                value={draft[key] ?? ''}
                onChange={(e) => onChange(key, e.target.value)}
              />
            )}
            {error ? (
              <p id={`${id}-error`} className="field-error">
                {key} {error}
              </p>
            ) : null}
          </div>
        );
      })}
    </fieldset>
  );
}
