import { z } from 'zod';
import { ROUTE_ACCESS, routeKey, type Access } from './access.js';
import { openApiPath, type RouteDef } from './http/route.js';
import { STREAM_SCHEMAS } from './http/views.js';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/**
 * A response schema whose named parts (`.meta({ id })`, http/views.ts) move to `components.schemas`
 * and are referenced from there, so every route that answers an `Approval` names the same one.
 */
function responseSchema(schema: z.ZodType, components: Record<string, JsonSchema>): JsonSchema {
  const { $defs, ...rest } = jsonSchema(schema, 'output') as JsonSchema & { $defs?: Record<string, JsonSchema> };
  const relink = (value: JsonSchema): JsonSchema => JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
  for (const [name, definition] of Object.entries($defs ?? {})) components[name] = relink(definition);
  const id = z.globalRegistry.get(schema)?.id;
  if (typeof id === 'string' && !('$ref' in rest)) {
    components[id] = relink(rest);
    return { $ref: `#/components/schemas/${id}` };
  }
  return relink(rest);
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query' | 'header'): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (object.required ?? []).includes(name),
    schema: property,
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
  }));
}

function security(access: Access): JsonSchema[] {
  if (access === 'public') return [];
  const schemes: JsonSchema[] = [];
  if (access.includes('agent')) schemes.push({ agentKey: [] });
  if (access.some((caller) => caller !== 'agent')) schemes.push({ sessionCookie: [] });
  return schemes;
}

/**
 * OpenAPI 3.1 generated from the routes themselves: the same zod schemas that validate requests,
 * and the access table that guards them.
 */
export function buildOpenApi(routes: readonly RouteDef[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const components: Record<string, JsonSchema> = {};
  for (const schema of STREAM_SCHEMAS) responseSchema(schema, components);
  for (const route of routes) {
    const access = ROUTE_ACCESS[routeKey(route.method, route.url)] ?? [];
    const path = openApiPath(route.url);
    const produces = route.produces ?? 'application/json';
    const operation: JsonSchema = {
      summary: route.summary,
      tags: [route.tag],
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query'), ...parameters(route.headers, 'header')],
      security: security(access),
      'x-airlock-access': access,
      responses: {
        '200': { description: 'Success', content: { [produces]: { schema: route.response ? responseSchema(route.response, components) : {} } } },
        default: { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
    if (route.body) operation.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } };
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Airlock control plane', version },
    paths,
    components: {
      securitySchemes: {
        agentKey: { type: 'http', scheme: 'bearer', description: 'Agent API key: ak_<keyId>_<secret>' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'airlock_session', description: 'State-changing requests also need the x-airlock-csrf header.' },
      },
      schemas: {
        ...Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
          },
        },
      },
    },
  };
}
