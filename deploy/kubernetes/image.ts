/**
 * The container image rlink's pods run: Node.js and the runtime bundle (one file with the job
 * manager, the task manager and every dependency), whose entry point takes the daemons' command
 * lines (`jobmanager start …`, `taskmanager start …`). `rlink kubernetes image <dir>` writes the
 * build context; any image laid out the same way works.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureRuntimeBundle } from '../runtime/runtime-bundle';
import { WORKING_DIR } from './application';

/** The image's Dockerfile: the runtime at /opt/rlink/rlink.mjs, the working directory the pods use. */
export function dockerfile(nodeImage = 'node:20-bookworm-slim'): string {
  return [
    '# rlink runtime image: Node.js and rlink.mjs (the job manager, the task manager and every dependency).',
    '# The pods of `rlink deploy kubernetes` pass the daemon\'s command line as arguments.',
    `FROM ${nodeImage}`,
    'COPY rlink.mjs /opt/rlink/rlink.mjs',
    `RUN mkdir -p ${WORKING_DIR} && chown node:node ${WORKING_DIR}`,
    `WORKDIR ${WORKING_DIR}`,
    'USER node',
    'ENTRYPOINT ["node", "/opt/rlink/rlink.mjs"]',
    '',
  ].join('\n');
}

export interface ImageContext { dir: string; files: string[]; runtimeVersion: string; dockerBuild: string }

/** Writes a Docker build context (Dockerfile, rlink.mjs, .dockerignore) into `dir`. */
export async function writeImageContext(dir: string, tag: string): Promise<ImageContext> {
  const out = resolve(dir);
  mkdirSync(out, { recursive: true });
  const runtime = await ensureRuntimeBundle();
  copyFileSync(runtime.path, join(out, 'rlink.mjs'));
  writeFileSync(join(out, 'Dockerfile'), dockerfile());
  writeFileSync(join(out, '.dockerignore'), '*\n!rlink.mjs\n');
  return { dir: out, files: ['Dockerfile', 'rlink.mjs', '.dockerignore'], runtimeVersion: runtime.version, dockerBuild: `docker build -t ${tag} ${out}` };
}
