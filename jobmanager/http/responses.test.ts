/** The REST API's errors derive from the error root (core/errors.ts) and take their status from its table. */
import { describe, it, expect } from 'vitest';
import { RlinkError } from '../../core/errors';
import { HttpError } from './responses';

describe('HTTP errors', () => {
  it('are RlinkErrors: a code from the status, or the one given; a precise status kept', () => {
    const e = new HttpError(404, 'no job x');
    expect(e).toBeInstanceOf(RlinkError);
    expect(e.code).toBe('RLINK_NOT_FOUND');
    expect(e.status).toBe(404);
    const m = new HttpError(405, 'use GET', { Allow: 'GET' }, 'RLINK_BAD_REQUEST');
    expect([m.code, m.status, m.headers]).toEqual(['RLINK_BAD_REQUEST', 405, { Allow: 'GET' }]);
    expect(HttpError.from(new RlinkError('RLINK_WRONG_STATE', 'not running')).status).toBe(409);
    const internal = HttpError.from(new TypeError('boom'));
    expect([internal.code, internal.status, internal.message]).toEqual(['RLINK_INTERNAL', 500, 'internal error: boom']);
  });
});

