import { useState } from 'react';

/**
 * A secret the server shows this once (an agent key, a personal token): the value, a Copy button,
 * and the warning that it cannot be shown again. Dismissed by the person, never kept in the URL.
 */
export function SecretOnce({ label, value, onDone }: { label: string; value: string; onDone: () => void }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | undefined>();
  const copy = (): void => {
    navigator.clipboard.writeText(value).then(
      () => setCopied('yes'),
      () => setCopied('failed'),
    );
  };
  return (
    <div className="notice warn secret-once" role="alert" data-testid="secret-once">
      <p>
        <strong>{label}</strong> Copy it now: it is shown this once and cannot be shown again (the server keeps only its hash). Whoever holds it acts with it.
      </p>
      <div className="toolbar">
        <input className="mono secret-value" readOnly value={value} aria-label={label} data-testid="secret-value" onFocus={(e) => e.currentTarget.select()} size={Math.min(value.length, 80)} />
        <button type="button" className="primary" onClick={copy}>
          Copy
        </button>
        <button type="button" onClick={onDone}>
          I have stored it
        </button>
        <span role="status" className="muted">
          {copied === 'yes' ? 'Copied.' : copied === 'failed' ? 'Copying was refused by the browser: select the text and copy it.' : ''}
        </span>
      </div>
    </div>
  );
}

/** A two-step button: the first click asks, the second (Confirm) acts. */
export function ConfirmButton({ label, question, confirmLabel, busy, onConfirm }: { label: string; question: string; confirmLabel: string; busy: boolean; onConfirm: () => void }) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" className="danger" disabled={busy} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span>{question}</span>{' '}
      <button
        type="button"
        className="danger"
        disabled={busy}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>{' '}
      <button type="button" disabled={busy} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
