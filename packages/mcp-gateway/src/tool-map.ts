import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * MCP tool name → policy tool name. A tool not in the map is decided under its own name: the
 * mapping is only needed where an MCP server's names differ from the policy's.
 */
export type ToolMap = Readonly<Record<string, string>>;

const toolName = z.string().min(1).max(256);
const toolMapSchema = z.record(toolName, toolName);

/** The policy tool an MCP tool is decided as. */
export function policyToolOf(map: ToolMap, mcpTool: string): string {
  return Object.hasOwn(map, mcpTool) ? (map[mcpTool] as string) : mcpTool;
}

/** `mcpName=policyTool` pairs, as given to `--map`. */
export function parseToolMapEntries(entries: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    const mcp = entry.slice(0, at);
    const policy = entry.slice(at + 1);
    if (at <= 0 || policy.length === 0) throw new Error(`--map expects mcpTool=policyTool, got '${entry}'`);
    map[mcp] = policy;
  }
  return toolMapSchema.parse(map);
}

/** A JSON or YAML file holding one object `{ mcpTool: policyTool, … }`. */
export function loadToolMapFile(file: string): Record<string, string> {
  const text = readFileSync(file, 'utf8');
  const parsed = toolMapSchema.safeParse(parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: a tool map is an object of MCP tool name → policy tool name${issue ? ` (${issue.path.join('.') || 'top level'}: ${issue.message})` : ''}`);
  }
  return parsed.data;
}
