import { pathToFileURL } from 'node:url';
import { isApp, type AppDefinition } from '../api/app';
import { RlinkError, errorMessage } from '../errors';

/**
 * Loading a bundled app. Bundles import 'rlink' through a stub that reads this global (see bundle.ts),
 * so the app uses the API of the rlink that loads it, whatever directory the bundle sits in.
 */
export const API_GLOBAL = '__rlink_api__';

export function installApi(api: object): void {
  (globalThis as Record<string, unknown>)[API_GLOBAL] = api;
}

/** Imports a bundle and returns its app; every failure is RLINK_APP_BUILD naming the bundle. */
export async function loadAppBundle(path: string, displayName = path): Promise<AppDefinition> {
  if (!(globalThis as Record<string, unknown>)[API_GLOBAL]) {
    throw new RlinkError('RLINK_INTERNAL', 'installApi() must run before an app bundle is loaded');
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(path).href) as Record<string, unknown>;
  } catch (e) {
    throw new RlinkError('RLINK_APP_BUILD', `app ${displayName} failed to load: ${errorMessage(e)}`, { cause: e });
  }
  const app = mod.default ?? mod.app;
  if (!isApp(app)) {
    throw new RlinkError('RLINK_APP_BUILD', `app ${displayName} does not export an app: use \`export default defineApp({ name, build })\``);
  }
  return app;
}
