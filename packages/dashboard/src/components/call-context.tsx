/**
 * What came with a call besides its arguments: the session's attributes (set by the application,
 * part of the approved call) and the agent's stated intent (the model's own words: shown, never
 * trusted). Renders `<dt>`/`<dd>` pairs for a facts list; nothing when there is neither.
 */
export function CallContextFacts({ intent, sessionAttributes }: { intent?: string | null | undefined; sessionAttributes?: Record<string, unknown> | null | undefined }) {
  const attributes = Object.entries(sessionAttributes ?? {});
  return (
    <>
      {attributes.length > 0 ? (
        <>
          <dt>Session</dt>
          <dd data-testid="session-attributes">
            {attributes.map(([name, value], i) => (
              <span key={name}>
                {i > 0 ? ', ' : ''}
                <span className="mono">{name}</span> = <span className="mono">{JSON.stringify(value)}</span>
              </span>
            ))}
          </dd>
        </>
      ) : null}
      {intent ? (
        <>
          <dt>Stated intent</dt>
          <dd data-testid="stated-intent">
            <span className="intent">“{intent}”</span> <span className="muted small">(stated by the agent, not verified)</span>
          </dd>
        </>
      ) : null}
    </>
  );
}
