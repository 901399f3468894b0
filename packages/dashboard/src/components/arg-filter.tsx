import { useState } from 'react';

/**
 * Argument search as typed: filters separated by spaces, each `path=value`, `path^=prefix`,
 * `path>=n`, `path>n`, `path<=n` or `path<n` (docs/search.md). The server validates them; the
 * dashboard only splits the text and sends each as one `arg` parameter.
 */
export function argFilters(text: string | null | undefined): string[] {
  return (text ?? '').split(/\s+/).filter((part) => part.length > 0);
}

const FILTER = /^([A-Za-z0-9_.-]+)(>=|<=|\^=|>|<|=)(.+)$/;

/** Whether a call's arguments meet the filters, as the server decides it (for rows that arrive live). */
export function argsMatch(args: Record<string, unknown>, filters: readonly string[]): boolean {
  return filters.every((text) => {
    const match = FILTER.exec(text);
    if (!match) return false;
    const [, path = '', op = '', value = ''] = match;
    let field: unknown = args;
    for (const key of path.split('.')) field = field !== null && typeof field === 'object' && !Array.isArray(field) ? (field as Record<string, unknown>)[key] : undefined;
    if (op === '=') return (typeof field === 'string' || typeof field === 'number' || typeof field === 'boolean') && String(field) === value;
    if (op === '^=') return typeof field === 'string' && field.startsWith(value);
    if (typeof field !== 'number') return false;
    const bound = Number(value);
    return op === '>=' ? field >= bound : op === '>' ? field > bound : op === '<=' ? field <= bound : field < bound;
  });
}

/** The "Arguments" search box: applies on Enter (or leaving the box), so each keystroke does not query. */
export function ArgFilterInput({ value, onApply }: { value: string; onApply: (text: string) => void }) {
  const [draft, setDraft] = useState(value);
  // A new value from outside (the URL, Clear) replaces what was typed.
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    setShown(value);
    setDraft(value);
  }
  return (
    <label className="grow">
      Arguments
      <input
        type="search"
        name="args"
        placeholder="account_id=C-42 amount>=100 payee^=ACME"
        title="Filters on the call's arguments, separated by spaces: field=value, field^=prefix, field>=n, field>n, field<=n, field<n (nested fields: payee.country)"
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            onApply(draft.trim());
          }
        }}
        onBlur={() => {
          if (draft.trim() !== value) onApply(draft.trim());
        }}
      />
    </label>
  );
}
