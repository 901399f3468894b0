/** What completion offers from the bundle: each declared tool and its argument fields. */
export interface Vocabulary {
  tools: Map<string, { name: string; type: string }[]>;
}

/**
 * Reads the tool declarations (`tools:` → name → `args:` → field) of every file with a light line
 * scan, so completion works while the draft is still broken YAML elsewhere.
 */
export function vocabularyOf(files: readonly { text: string }[]): Vocabulary {
  const tools = new Map<string, { name: string; type: string }[]>();
  for (const { text } of files) {
    let inTools = false;
    let toolIndent = -1;
    let tool: string | undefined;
    let argsIndent = -1;
    let fieldIndent = -1;
    for (const line of text.split('\n')) {
      if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
      const indent = line.length - line.trimStart().length;
      const key = /^\s*([A-Za-z0-9_.-]+)\s*:(.*)$/.exec(line);
      if (indent === 0) {
        inTools = key?.[1] === 'tools';
        toolIndent = -1;
        tool = undefined;
        continue;
      }
      if (!inTools || !key) continue;
      const [, name = '', rest = ''] = key;
      if (toolIndent < 0) toolIndent = indent;
      if (indent === toolIndent) {
        tool = name;
        argsIndent = -1;
        fieldIndent = -1;
        if (!tools.has(name)) tools.set(name, []);
        continue;
      }
      if (!tool) continue;
      if (name === 'args' && indent === toolIndent + 2) {
        argsIndent = indent;
        fieldIndent = -1;
        continue;
      }
      if (argsIndent < 0 || indent <= argsIndent) {
        if (indent <= argsIndent) argsIndent = -1;
        continue;
      }
      if (fieldIndent < 0) fieldIndent = indent;
      if (indent !== fieldIndent) continue;
      const type = /type:\s*['"]?(\w+)/.exec(rest)?.[1] ?? 'value';
      const fields = tools.get(tool) as { name: string; type: string }[];
      if (!fields.some((f) => f.name === name)) fields.push({ name, type });
    }
  }
  return { tools };
}
