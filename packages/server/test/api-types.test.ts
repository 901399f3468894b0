import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_TYPES_FILE, apiTypes } from '../scripts/api-types.js';

describe('generated API types', () => {
  it('packages/sdk/src/api/openapi.ts is what the server documents (run `npm run api:types` after changing routes or views)', async () => {
    expect(readFileSync(API_TYPES_FILE, 'utf8')).toBe(await apiTypes());
  });
});
