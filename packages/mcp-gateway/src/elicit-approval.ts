import type { ApprovalRequest, ApprovalResolution } from '@airlock/sdk';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';

const NO_ELICITATION = 'this MCP client cannot ask its user (it does not support elicitation), and local mode has no other approver';

/**
 * Local mode's approver: asks the person at the MCP client, through an elicitation form, whether
 * the call may run. A client without elicitation cannot be asked, so the approval is denied at
 * once (the call is refused with that reason, never left hanging).
 */
export function askClientUser(server: () => Server | undefined, timeoutMs: number): (request: ApprovalRequest) => Promise<ApprovalResolution> {
  return async (request) => {
    const current = server();
    if (!current?.getClientCapabilities()?.elicitation?.form) return { approved: false, by: 'airlock-mcp-proxy', reason: NO_ELICITATION };
    const client = current.getClientVersion()?.name ?? 'the MCP client';
    const result = await current.elicitInput(
      {
        mode: 'form',
        message: `Airlock: ${request.agent} wants to call ${request.call.tool} with ${JSON.stringify(request.call.args)}. ${request.reason}. Allow it to run once?`,
        requestedSchema: {
          type: 'object',
          properties: {
            approve: { type: 'boolean', title: 'Approve', description: `Run ${request.call.tool} once with exactly these arguments` },
            reason: { type: 'string', title: 'Reason', description: 'Recorded in the audit trail' },
          },
          required: ['approve'],
        },
      },
      { timeout: timeoutMs },
    );
    const by = `user of ${client}`;
    const reason = typeof result.content?.reason === 'string' && result.content.reason.trim() !== '' ? result.content.reason : undefined;
    if (result.action === 'accept' && result.content?.approve === true) return { approved: true, by, ...(reason ? { reason } : {}) };
    return { approved: false, by, reason: reason ?? (result.action === 'accept' ? 'not approved' : `the user chose ${result.action}`) };
  };
}
