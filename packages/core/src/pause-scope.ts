/** What a kill-switch pause names: the whole fleet, one agent, one role, or one tool. */
export type PauseScope = 'fleet' | 'agent' | 'role' | 'tool';

/**
 * Whether a pause covers a call of this agent: the fleet's, the agent's own, its role's, or (when
 * the tool is given) that tool's. Without a tool it answers whether the pause stops every call of
 * the agent. The server (its pause service) and an edge SDK (which follows the pauses) ask the same.
 */
export function pauseCovers(pause: { scope: string; target: string | null }, who: { agent: string; role: string }, tool?: string): boolean {
  switch (pause.scope) {
    case 'fleet':
      return true;
    case 'agent':
      return pause.target === who.agent;
    case 'role':
      return pause.target === who.role;
    case 'tool':
      return tool !== undefined && pause.target === tool;
    default:
      return false;
  }
}
