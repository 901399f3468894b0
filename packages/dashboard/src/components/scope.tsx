import { useMemo } from 'react';
import { api } from '../api/client';
import type { Agent } from '../api/types';
import { navigate, useLocation } from '../router';
import { useResource } from '../use-resource';
import { Field } from './field';

/**
 * Which agents, roles, tools and environments a page shows. Kept in the page URL (`?agent=…`), so a
 * view can be shared, reloaded, and linked to from another view's chart.
 */
export const SCOPE_KEYS = ['agent', 'role', 'tool', 'environment'] as const;
export type ScopeKey = (typeof SCOPE_KEYS)[number];
export type Scope = Partial<Record<ScopeKey, string>>;

export function scopeFromSearch(search: URLSearchParams): Scope {
  const scope: Scope = {};
  for (const key of SCOPE_KEYS) {
    const value = search.get(key);
    if (value) scope[key] = value;
  }
  return scope;
}

/** A path with these query parameters (empty values left out). */
export function href(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(key, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** Changes some parameters of the current URL in place (no new history entry). */
export function setSearch(patch: Record<string, string | undefined>): void {
  const query = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined || value === '') query.delete(key);
    else query.set(key, value);
  }
  const text = query.toString();
  navigate(text ? `${location.pathname}?${text}` : location.pathname, { replace: true });
}

/** The page's scope from its URL, and a setter that writes it back. */
export function useScope(): [Scope, (patch: Scope) => void] {
  const { search } = useLocation();
  const key = search.toString();
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the query string is the identity
  const scope = useMemo(() => scopeFromSearch(search), [key]);
  return [scope, (patch) => setSearch(patch)];
}

/** The registered agents, for the scope choices (every signed-in role may list them). */
export function useAgents() {
  return useResource(async () => (await api.get<{ agents: Agent[] }>('/v1/agents')).agents, 'agents');
}

/** Agent, role, environment and tool choices; what is chosen is in the URL. */
export function ScopeFilters({ scope, onChange, tools = [], only = SCOPE_KEYS }: { scope: Scope; onChange: (patch: Scope) => void; tools?: readonly string[]; only?: readonly ScopeKey[] }) {
  const agents = useAgents();
  const list = agents.data ?? [];
  const options: Record<Exclude<ScopeKey, 'tool'>, string[]> = {
    agent: [...new Set(list.map((a) => a.id))].sort(),
    role: [...new Set(list.map((a) => a.role))].sort(),
    environment: [...new Set(list.map((a) => a.environment))].sort(),
  };
  const toolList = [...new Set([...tools, ...(scope.tool ? [scope.tool] : [])])].sort();
  return (
    <>
      {only.map((key) =>
        key === 'tool' ? (
          <Field key={key} label="Tool">
            {(id) => (
              <>
                <input
                  id={id}
                  list={`${id}-tools`}
                  defaultValue={scope.tool ?? ''}
                  key={scope.tool ?? ''}
                  placeholder="any tool"
                  size={14}
                  onBlur={(e) => e.target.value.trim() !== (scope.tool ?? '') && onChange({ tool: e.target.value.trim() || undefined })}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') {
                      e.preventDefault();
                      onChange({ tool: e.currentTarget.value.trim() || undefined });
                    }
                  }}
                />
                <datalist id={`${id}-tools`}>
                  {toolList.map((tool) => (
                    <option key={tool} value={tool} />
                  ))}
                </datalist>
              </>
            )}
          </Field>
        ) : (
          <Field key={key} label={key === 'environment' ? 'Environment' : key === 'role' ? 'Role' : 'Agent'}>
            {(id) => (
              <select id={id} value={scope[key] ?? ''} onChange={(e) => onChange({ [key]: e.target.value || undefined })}>
                <option value="">all</option>
                {[...new Set([...options[key], ...(scope[key] ? [scope[key]] : [])])].map((value) => (
                  <option key={value}>{value}</option>
                ))}
              </select>
            )}
          </Field>
        ),
      )}
    </>
  );
}
