import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Logger } from '../../core/logging';
import { RlinkError, errorMessage } from '../../core/errors';

/**
 * Uploaded job bundles on the job manager's disk:
 *
 *   <dataDir>/applications/
 *     app-0123456789abcdef/
 *       app.mjs        the bundle, byte for byte as uploaded
 *       meta.json      { id, hash, bytes, uploadedAt, filename }
 *     .upload-<random>.part    an upload in progress (removed on failure and at start)
 *
 * Paths are made only from ids this store generated (`app-<16 hex>`), never from a client's file
 * name. Identical content (same sha256) gets the same application while it is not being removed.
 * The store outlives the job manager's memory: applications found on disk at start are served again.
 */
export const APPLICATION_ID = /^app-[0-9a-f]{16}$/;
export const CONTENT_HASH = /^[0-9a-f]{64}$/;
const BUNDLE_FILE = 'app.mjs';
const META_FILE = 'meta.json';
const UPLOAD_PREFIX = '.upload-';

export interface StoredApplication {
  /** `app-<16 hex>`. */
  id: string;
  /** sha256 of the bundle, hex. */
  hash: string;
  bytes: number;
  /** Absolute path of the bundle. */
  path: string;
  uploadedAt: number;
  /** The file name the client claimed (display only). */
  filename: string | null;
  /** Shut down: no new jobs; the files go once its jobs ended. */
  removing: boolean;
  /** Jobs started from it, in order. */
  jobs: string[];
}

interface Meta { id: string; hash: string; bytes: number; uploadedAt: number; filename: string | null }

export class ApplicationStore {
  readonly root: string;
  private readonly apps = new Map<string, StoredApplication>();
  private readonly byContent = new Map<string, string>();
  /** Uploads being moved into place, by content hash: a concurrent upload of the same bytes waits for it. */
  private readonly inFlight = new Map<string, Promise<StoredApplication>>();
  private readonly log: Logger;

  /** Creates `<dataDir>/applications`, removes stale partial uploads and loads what is stored. */
  constructor(dataDir: string, logger: Logger) {
    this.root = resolve(dataDir, 'applications');
    this.log = logger.child({ component: 'jobmanager.applications' });
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    for (const e of readdirSync(this.root, { withFileTypes: true })) {
      if (e.name.startsWith(UPLOAD_PREFIX)) { rmSync(join(this.root, e.name), { force: true, recursive: true }); continue; }
      if (!e.isDirectory() || !APPLICATION_ID.test(e.name)) continue;
      const app = this.readStored(e.name);
      if (app) { this.apps.set(app.id, app); this.byContent.set(app.hash, app.id); }
    }
    if (this.apps.size > 0) this.log.info({ event: 'applications.loaded', count: this.apps.size }, `${this.apps.size} stored application(s) found in ${this.root}`);
  }

  private readStored(id: string): StoredApplication | undefined {
    const dir = join(this.root, id);
    try {
      const meta = JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as Partial<Meta>;
      if (meta.id !== id || typeof meta.hash !== 'string' || !CONTENT_HASH.test(meta.hash) || !existsSync(join(dir, BUNDLE_FILE))) return undefined;
      return {
        id, hash: meta.hash, bytes: Number(meta.bytes) || 0, path: join(dir, BUNDLE_FILE), uploadedAt: Number(meta.uploadedAt) || 0,
        filename: typeof meta.filename === 'string' ? meta.filename : null, removing: false, jobs: [],
      };
    } catch (e) {
      this.log.warn({ event: 'applications.unreadable', id, err: errorMessage(e) }, `ignoring stored application ${id}: ${errorMessage(e)}`);
      return undefined;
    }
  }

  /** The application with this id; undefined for unknown or malformed ids. */
  get(id: string): StoredApplication | undefined {
    return APPLICATION_ID.test(id) ? this.apps.get(id) : undefined;
  }

  /** The live (not removing) application holding this content. */
  byHash(hash: string): StoredApplication | undefined {
    if (!CONTENT_HASH.test(hash)) return undefined;
    const id = this.byContent.get(hash);
    const app = id === undefined ? undefined : this.apps.get(id);
    return app && !app.removing ? app : undefined;
  }

  list(): StoredApplication[] { return [...this.apps.values()]; }

  /** A fresh path for an upload in progress (inside the store, never a client's name). */
  uploadPath(): string {
    return join(this.root, `${UPLOAD_PREFIX}${randomBytes(8).toString('hex')}.part`);
  }

  /**
   * Adopts a finished upload (`tempPath` from {@link uploadPath}): moves it to a new application's
   * directory, or drops it when the same content is stored already. Returns the application.
   */
  async adopt(tempPath: string, upload: { hash: string; bytes: number; filename: string | null }): Promise<{ app: StoredApplication; existed: boolean }> {
    this.assertInside(tempPath);
    const known = this.byHash(upload.hash) ?? await this.inFlight.get(upload.hash)?.catch(() => undefined);
    if (known && !known.removing) {
      await rm(tempPath, { force: true });
      return { app: known, existed: true };
    }
    const storing = this.store(tempPath, upload);
    this.inFlight.set(upload.hash, storing);
    try {
      return { app: await storing, existed: false };
    } finally {
      if (this.inFlight.get(upload.hash) === storing) this.inFlight.delete(upload.hash);
    }
  }

  private async store(tempPath: string, upload: { hash: string; bytes: number; filename: string | null }): Promise<StoredApplication> {
    let id: string;
    do id = `app-${randomBytes(8).toString('hex')}`; while (this.apps.has(id) || existsSync(join(this.root, id)));
    const dir = join(this.root, id);
    const app: StoredApplication = {
      id, hash: upload.hash, bytes: upload.bytes, path: join(dir, BUNDLE_FILE), uploadedAt: Date.now(),
      filename: upload.filename, removing: false, jobs: [],
    };
    try {
      await mkdir(dir, { mode: 0o700 });
      await rename(tempPath, app.path);
      const meta: Meta = { id, hash: app.hash, bytes: app.bytes, uploadedAt: app.uploadedAt, filename: app.filename };
      await writeFile(join(dir, META_FILE), `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 });
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      await rm(tempPath, { force: true });
      throw new RlinkError('RLINK_INTERNAL', `cannot store application ${id}: ${errorMessage(e)}`, { cause: e });
    }
    this.apps.set(id, app);
    this.byContent.set(app.hash, id);
    this.log.debug({ event: 'application.stored', id, hash: app.hash, bytes: app.bytes }, `application ${id} stored (${app.bytes} bytes)`);
    return app;
  }

  /**
   * The application holding the bundle with this content hash; when this job manager has none, the
   * bytes `load` gives (a recovering job manager reads them from the metadata storage) are checked
   * against the hash and stored.
   */
  async ensureBundle(hash: string, load: () => Promise<Buffer | null>): Promise<StoredApplication> {
    const known = this.byHash(hash);
    if (known) return known;
    const bytes = await load();
    if (!bytes) throw new RlinkError('RLINK_NOT_FOUND', `bundle ${hash} is neither on this job manager nor in the metadata storage`);
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== hash) throw new RlinkError('RLINK_INTERNAL', `bundle ${hash} from the metadata storage is damaged (its content hash is ${got})`);
    const temp = this.uploadPath();
    await writeFile(temp, bytes, { mode: 0o600 });
    return (await this.adopt(temp, { hash, bytes: bytes.length, filename: null })).app;
  }

  /** Removes an application and its files. */
  async remove(id: string): Promise<void> {
    const app = this.get(id);
    if (!app) return;
    this.forget(app);
    const dir = join(this.root, app.id);
    this.assertInside(dir);
    await rm(dir, { recursive: true, force: true });
    this.log.info({ event: 'application.removed', id }, `application ${id} removed`);
  }

  private forget(app: StoredApplication): void {
    this.apps.delete(app.id);
    if (this.byContent.get(app.hash) === app.id) this.byContent.delete(app.hash);
  }

  /** Defence in depth: every path this store touches lies inside its root. */
  private assertInside(p: string): void {
    const abs = resolve(p);
    if (!abs.startsWith(this.root + sep)) throw new RlinkError('RLINK_INTERNAL', `refusing to touch ${abs}: outside ${this.root}`);
  }
}
