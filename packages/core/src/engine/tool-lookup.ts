/**
 * Looks a call's tool up in the engine's index (tool name → its plan sets). With few tools, a
 * generated function compares the name with each declared name of the same length: one string
 * comparison for the usual call, where `Map.get` costs a hash table walk (~7 ns, more than the
 * comparison, on the engine's hot path). With many, the Map itself. Either answers exactly what
 * `index.get(tool)` answers, and undefined for a value that is no string.
 *
 * Tool names come from policy text: they reach the generated source only as JSON string literals
 * (JSON.stringify escapes quotes, backslashes, control and line-separator characters and lone
 * surrogates), the values only through the `V` array.
 */
export const MAX_GENERATED_TOOLS = 32;

export function toolLookup<T>(index: ReadonlyMap<string, T>): (tool: string) => T | undefined {
  if (index.size > MAX_GENERATED_TOOLS) return (tool) => index.get(tool);
  const values: T[] = [];
  const byLength = new Map<number, string[]>();
  for (const [tool, value] of index) {
    const test = `if (tool === ${JSON.stringify(tool)}) return v${values.push(value) - 1};`;
    const tests = byLength.get(tool.length);
    if (tests) tests.push(test);
    else byLength.set(tool.length, [test]);
  }
  const cases = [...byLength].map(([length, tests]) => `case ${length}: ${tests.join(' ')} return undefined;`);
  const bindings = values.map((_, i) => `const v${i} = V[${i}];`).join(' ');
  const source = `'use strict'; ${bindings}
return function toolSets(tool) {
  if (typeof tool !== 'string') return undefined;
  switch (tool.length) {
    ${cases.join('\n    ')}
    default: return undefined;
  }
};`;
  return (new Function('V', source) as (V: T[]) => (tool: string) => T | undefined)(values);
}
