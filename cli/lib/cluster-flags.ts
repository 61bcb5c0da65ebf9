import { Flags } from '@oclif/core';
import { existsSync } from 'node:fs';
import { DEFAULT_TOKEN_FILE, expandHome, readTokenFile, resolveToken } from '../../core/security/token';
import { JobManagerClient } from '../../core/client/jobmanager-client';

/** Flags of every command that talks to a running cluster. */
export const clusterFlags = {
  jm: Flags.string({ description: 'The job manager\'s URL; with high availability the job managers\' URLs, comma-separated, tried in order.', default: 'http://127.0.0.1:8770', helpGroup: 'CLUSTER' }),
  'token-file': Flags.string({ description: `File holding the cluster token (default: $RLINK_TOKEN, else ${DEFAULT_TOKEN_FILE} when it exists).`, helpGroup: 'CLUSTER' }),
};

/** The token from --token-file, RLINK_TOKEN, or the default token file when there is one. */
export function clusterToken(tokenFile: string | undefined): string | undefined {
  const t = resolveToken({ tokenFile });
  if (t) return t;
  return existsSync(expandHome(DEFAULT_TOKEN_FILE)) ? readTokenFile(DEFAULT_TOKEN_FILE) : undefined;
}

export function clientFor(flags: { jm: string; 'token-file'?: string | undefined }): JobManagerClient {
  return new JobManagerClient(flags.jm, clusterToken(flags['token-file']));
}
