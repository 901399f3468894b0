import { describe, expect, expectTypeOf, it } from 'vitest';
import { apiPath, type ApiBody, type ApiParams, type ApiResponse, type components } from '@airlock/sdk/api';

describe('@airlock/sdk/api', () => {
  it('fills a path template in, percent-encoding each parameter, and appends the defined query values', () => {
    expect(apiPath('/v1/approvals/{id}/wait', { id: 'ap 1/../x?y' }, { timeout: 30, skip: undefined })).toBe('/v1/approvals/ap%201%2F..%2Fx%3Fy/wait?timeout=30');
    expect(apiPath('/v1/approvals', undefined, { status: 'pending', agent: undefined, limit: 5 })).toBe('/v1/approvals?status=pending&limit=5');
    expect(apiPath('/v1/approvals', undefined, {})).toBe('/v1/approvals');
    expect(apiPath('/v1/decide')).toBe('/v1/decide');
  });

  it('refuses a template whose parameter is missing instead of sending `undefined`', () => {
    expect(() => apiPath('/v1/approvals/{id}', {})).toThrow(/needs the parameter id/);
  });

  it("types each route's answer, body and parameters from the server's document", () => {
    expectTypeOf<ApiResponse<'POST', '/v1/decide'>>().toEqualTypeOf<components['schemas']['DecisionResponse']>();
    expectTypeOf<ApiResponse<'GET', '/v1/approvals/{id}/wait'>>().toEqualTypeOf<components['schemas']['Approval']>();
    expectTypeOf<ApiParams<'POST', '/v1/approvals/{id}/approve'>>().toEqualTypeOf<{ id: string }>();
    expectTypeOf<ApiBody<'POST', '/v1/approvals/{id}/deny'>>().toEqualTypeOf<{ reason: string }>();
    expectTypeOf<ApiBody<'GET', '/v1/agents'>>().toEqualTypeOf<undefined>();
  });
});
