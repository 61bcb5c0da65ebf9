/** The error root: one code table (statuses, docs), one wire format; HTTP errors: jobmanager/http/responses.test.ts. */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { ERROR_CODES, RlinkError, codeOfStatus, deserializeError, errorMessage, serializeError, type ErrorCode } from './errors';
import { JobManagerClient } from './client/jobmanager-client';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

describe('the error code table', () => {
  it('docs/errors.md lists every code with its HTTP status, and no other', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'errors.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `(RLINK_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(CODES.map((c) => [c, ERROR_CODES[c].status])));
  });

  it('gives every RlinkError the status of its code', () => {
    for (const c of CODES) expect(new RlinkError(c, 'x').status).toBe(ERROR_CODES[c].status);
    expect(new RlinkError('RLINK_NOT_FOUND', 'x').status).toBe(404);
    expect(new RlinkError('RLINK_WRONG_STATE', 'x').status).toBe(409);
    expect(new RlinkError('RLINK_NETWORK', 'x').status).toBe(503);
  });

  it('maps a status without a code back to the code of that status', () => {
    for (const c of CODES) {
      const back = codeOfStatus(ERROR_CODES[c].status);
      // A bare 502 comes from a gateway, not from rlink's deploy steps: a network problem.
      if (ERROR_CODES[c].status === 502) expect(back).toBe('RLINK_NETWORK');
      else expect(ERROR_CODES[back].status, c).toBe(ERROR_CODES[c].status);
    }
    expect(codeOfStatus(418)).toBe('RLINK_BAD_REQUEST');
    expect(codeOfStatus(507)).toBe('RLINK_INTERNAL');
  });
});

describe('errors on the wire', () => {
  it('round-trip through serializeError / deserializeError for any code, message, flag and context', () => {
    fc.assert(fc.property(
      fc.constantFrom(...CODES), fc.string(), fc.boolean(),
      fc.record({ job: fc.string(), host: fc.string(), line: fc.nat() }, { requiredKeys: [] }),
      (code, message, retriable, context) => {
        const e = new RlinkError(code, message, { retriable, context });
        const back = deserializeError(JSON.parse(JSON.stringify(serializeError(e))));
        expect(back).toBeInstanceOf(RlinkError);
        expect([back.code, back.message, back.retriable, back.context]).toEqual([code, errorMessage(e), retriable, context]);
      },
    ));
  });

  it('turns anything else into the fallback code, never throwing', () => {
    expect(serializeError(new TypeError('x'))).toEqual({ code: 'RLINK_INTERNAL', message: 'x' });
    expect(serializeError('plain', 'RLINK_TASK_FAILED')).toEqual({ code: 'RLINK_TASK_FAILED', message: 'plain' });
    fc.assert(fc.property(fc.anything(), (v) => {
      const e = deserializeError(v, 'RLINK_PROTOCOL');
      expect(e).toBeInstanceOf(RlinkError);
      expect(CODES).toContain(e.code);
    }));
    expect(deserializeError({ code: 'NOT_A_CODE', message: 'm' }).code).toBe('RLINK_INTERNAL');
  });
});

describe('the REST client', () => {
  it('reports a job manager that cannot be reached as RLINK_NETWORK naming the host, retriable', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r())); // now nothing listens there
    const err = await new JobManagerClient(`http://127.0.0.1:${port}`, undefined).jobs().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RlinkError);
    expect((err as RlinkError).code).toBe('RLINK_NETWORK');
    expect((err as RlinkError).retriable).toBe(true);
    expect((err as RlinkError).context.host).toBe(`127.0.0.1:${port}`);
    expect((err as RlinkError).message).toBe(`job manager http://127.0.0.1:${port} is unreachable (ECONNREFUSED)`);
  });

  it('keeps the code a job manager answers with, else the code of the status', async () => {
    const answers: Record<string, [number, unknown]> = {
      '/jobs/a': [404, { errors: ['job a not found'], code: 'RLINK_NOT_FOUND' }],
      '/jobs/b': [409, { errors: ['job b is not running'], code: 'RLINK_WRONG_STATE' }],
      '/jobs/c': [404, { errors: ['nope'] }],
      '/jobs/d': [503, { errors: ['standby'], code: 'RLINK_NOT_LEADER' }],
    };
    const srv = createServer((req, res) => {
      const [status, body] = answers[req.url ?? ''] ?? [500, {}];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const client = new JobManagerClient(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`, undefined);
    try {
      const codes = await Promise.all(['a', 'b', 'c', 'd'].map((j) => client.job(j).catch((e: RlinkError) => e.code)));
      expect(codes).toEqual(['RLINK_NOT_FOUND', 'RLINK_WRONG_STATE', 'RLINK_NOT_FOUND', 'RLINK_NOT_LEADER']);
    } finally { await new Promise<void>((r) => srv.close(() => r())); }
  });
});
