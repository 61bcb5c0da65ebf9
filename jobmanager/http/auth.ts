import type { IncomingMessage } from 'node:http';
import { bearerMatches } from '../../core/security/token';
import { RlinkError } from '../../core/errors';
import { HttpError } from './responses';

/**
 * The REST API's authentication: mutating endpoints (and bundle downloads) take the cluster token
 * as `Authorization: Bearer <token>`; reads are open (the job manager listens on loopback unless
 * configured otherwise). A refused request is 401 before its body is read.
 */
const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="rlink"' };

/** Throws 401 unless the request carries the token. */
export function requireToken(req: IncomingMessage, token: string): void {
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '') {
    throw new HttpError(401, 'this endpoint requires the cluster token: send "Authorization: Bearer <token>" (the token from RLINK_TOKEN or --token-file)', CHALLENGE);
  }
  if (!/^Bearer\s/i.test(header)) {
    throw new HttpError(401, 'unsupported Authorization scheme: send "Authorization: Bearer <token>"', CHALLENGE);
  }
  // bearerMatches wants the exact "Bearer " prefix; accept any case of the scheme (RFC 7235).
  if (!bearerMatches(`Bearer ${header.slice(7).trim()}`, token)) {
    throw new HttpError(401, 'invalid token', CHALLENGE);
  }
}

/** An empty or short token would let anyone in: refuse to serve with it. */
export function checkServerToken(token: string): void {
  if (typeof token !== 'string' || token.trim().length < 16) {
    throw new RlinkError('RLINK_CONFIG', 'the job manager needs a cluster token of at least 16 characters');
  }
}
