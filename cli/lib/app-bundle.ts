import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as api from '../../index';
import { bundleApp, type Bundle } from '../../core/app/bundle';
import { installApi, loadAppBundle } from '../../core/app/load';
import type { AppDefinition } from '../../core/api/app';

/** Bundles an app file into a temporary directory and loads it here; `dispose` removes the bundle. */
export async function prepareApp(file: string): Promise<{ app: AppDefinition; bundle: Bundle; dispose: () => Promise<void> }> {
  installApi(api);
  const dir = await mkdtemp(join(tmpdir(), 'rlink-app-'));
  try {
    const bundle = await bundleApp(file, join(dir, `${basename(file).replace(/\.[^.]+$/, '')}.mjs`));
    const app = await loadAppBundle(bundle.path, file);
    return { app, bundle, dispose: () => rm(dir, { recursive: true, force: true }) };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
