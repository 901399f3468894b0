import { Environment } from '@marcbachmann/cel-js';
import type { JsonSchema } from '../policy/document.js';

/**
 * Builds the cel-js type environment a condition is checked against: the tool's argument schema
 * becomes the type of `args`; the request context variables are fixed.
 */

type CelSchema = string | { [field: string]: CelSchema };

/** Maps a JSON Schema to the cel-js schema notation (`'double'`, `'list<string>'`, nested objects). */
export function celTypeOf(schema: JsonSchema): CelSchema {
  const type = schema.type;
  switch (type) {
    case 'string':
      return 'string';
    case 'integer':
      return 'int';
    case 'number':
      return 'double';
    case 'boolean':
      return 'bool';
    case 'array': {
      const items = schema.items;
      if (items && typeof items === 'object' && !Array.isArray(items)) {
        const inner = celTypeOf(items as JsonSchema);
        return typeof inner === 'string' ? `list<${inner}>` : 'list';
      }
      return 'list';
    }
    case 'object': {
      const properties = schema.properties;
      if (properties && typeof properties === 'object') {
        return Object.fromEntries(
          Object.entries(properties as Record<string, JsonSchema>).map(([name, sub]) => [name, celTypeOf(sub)]),
        );
      }
      return 'map';
    }
    default:
      return 'dyn';
  }
}

/**
 * A base environment per bundle; `forArgs` derives the per-tool one. `novelty`: the ids of the
 * bundle's novelty signals, each a bool field of `novel` (no signals: no `novel` variable);
 * `hours`: the ids of its working-hours signals, each a bool field of `hours`.
 */
export function createBaseEnvironment(novelty: readonly string[] = [], hours: readonly string[] = []): Environment {
  const env = new Environment({ unlistedVariablesAreDyn: false, homogeneousAggregateLiterals: false })
    .registerVariable('agent', 'string')
    .registerVariable('role', 'string')
    .registerVariable('environment', 'string')
    .registerVariable('tool', 'string')
    .registerVariable('session', 'map')
    .registerVariable({
      name: 'time',
      schema: { hour: 'int', minute: 'int', weekday: 'int', date: 'string', unix: 'int' },
    });
  if (novelty.length > 0) env.registerVariable({ name: 'novel', schema: Object.fromEntries(novelty.map((id) => [id, 'bool'])) });
  if (hours.length > 0) env.registerVariable({ name: 'hours', schema: Object.fromEntries(hours.map((id) => [id, 'bool'])) });
  return env;
}

export function environmentForArgs(base: Environment, properties: Record<string, JsonSchema>): Environment {
  const fields = Object.fromEntries(Object.entries(properties).map(([name, sub]) => [name, celTypeOf(sub)]));
  const env = base.clone();
  if (Object.keys(fields).length === 0) return env.registerVariable('args', 'map');
  return env.registerVariable({ name: 'args', schema: fields as Record<string, string> });
}
