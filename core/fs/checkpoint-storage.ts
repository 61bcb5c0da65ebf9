import { link, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { RlinkError } from '../errors';
import { WebHdfsClient, WebHdfsRemoteError, parseHdfsUrl } from './webhdfs-client';

/**
 * Where checkpoint and savepoint files live: a local (or shared, mounted) directory, or HDFS through
 * WebHDFS. Paths are the storage's own: plain paths for the local disk, `hdfs://authority/path` URLs
 * for HDFS (so `_metadata` names its snapshot files in a form every host can read back). Writes are
 * atomic (temporary file, then rename): a reader sees the whole file or none of it.
 *
 * `checkpointStorageFor(dir)` picks one by the directory's scheme. For hdfs://, the WebHDFS address
 * comes from the job's `checkpoint.webhdfs` or RLINK_WEBHDFS, the user from `checkpoint.hdfs-user`
 * or HADOOP_USER_NAME (the job's properties win over the environment).
 */
export interface CheckpointStorage {
  /** Writes the whole file, creating its directory; atomic. */
  writeFile(path: string, data: Buffer | string): Promise<void>;
  /**
   * Creates the file only if it does not exist, atomically (two writers: exactly one wins); false
   * when it existed. The job manager's leader election rests on it.
   */
  createExclusive(path: string, data: Buffer | string): Promise<boolean>;
  /** The file's bytes, or null when there is no such file. */
  readFile(path: string): Promise<Buffer | null>;
  /** The names in a directory ([] when it does not exist). */
  list(dir: string): Promise<string[]>;
  mkdirs(dir: string): Promise<void>;
  /** Removes a file or directory; nothing to remove is fine. */
  remove(path: string, recursive: boolean): Promise<void>;
  join(...parts: string[]): string;
  /** For messages: "local directory", "HDFS hdfs://nn:8020 via WebHDFS http://nn:9870". */
  readonly describe: string;
}

/** Where WebHdfsCheckpointStorage writes a file before renaming it into place. */
const HDFS_TMP = '.tmp';
const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/** `checkpoint.dir` when a job sets none: `<os.tmpdir()>/rlink-checkpoints`. */
export function defaultCheckpointDir(): string { return join(tmpdir(), 'rlink-checkpoints'); }

/**
 * Makes the default checkpoint directory private (0700): it is shared by every job of the user on a
 * host, under a world-readable tmp directory. One created by an older rlink is tightened.
 */
export function ensurePrivateDefaultCheckpointDir(): string {
  const dir = defaultCheckpointDir();
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  const st = statSync(dir);
  if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) chmodSync(dir, PRIVATE_DIR);
  return dir;
}

/**
 * node:fs on a local or shared directory. Checkpoints hold the job's state (records, keys), so what
 * this storage creates is private to the user running rlink: directories 0700, files 0600.
 */
export class LocalCheckpointStorage implements CheckpointStorage {
  readonly describe = 'local directory';

  async writeFile(path: string, data: Buffer | string): Promise<void> {
    await mkdir(dirname(path), { recursive: true, mode: PRIVATE_DIR });
    const tmp = `${path}.tmp`;
    await writeFile(tmp, data, { mode: PRIVATE_FILE });
    await rename(tmp, path);
  }

  async createExclusive(path: string, data: Buffer | string): Promise<boolean> {
    await mkdir(dirname(path), { recursive: true, mode: PRIVATE_DIR });
    // Written aside first, then linked into place: link() fails when the name exists, and a reader
    // never sees a half-written file.
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, data, { mode: PRIVATE_FILE });
    try {
      await link(tmp, path);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async readFile(path: string): Promise<Buffer | null> {
    try { return await readFile(path); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async list(dir: string): Promise<string[]> {
    try { return (await readdir(dir)).sort(); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  async mkdirs(dir: string): Promise<void> { await mkdir(dir, { recursive: true, mode: PRIVATE_DIR }); }

  async remove(path: string, recursive: boolean): Promise<void> { await rm(path, { recursive, force: true }); }

  join(...parts: string[]): string { return join(...parts); }
}

/**
 * HDFS through WebHDFS; paths are hdfs://authority/path URLs (a plain absolute path is taken as on this authority).
 *
 * HDFS's RENAME does not replace an existing file, so rewriting one is: CREATE `<path>.tmp`, DELETE
 * `<path>`, RENAME. Between the last two (and forever, if the writer dies there) only the complete
 * `<path>.tmp` holds the file: reads fall back to it and listings show it under the file's name, so
 * a reader sees the old version or the new one, never none (a job manager taking over must not miss
 * a job record that was being rewritten).
 */
export class WebHdfsCheckpointStorage implements CheckpointStorage {
  readonly describe: string;

  constructor(private readonly client: WebHdfsClient, private readonly authority: string, webhdfsUrl: string) {
    this.describe = `HDFS hdfs://${authority} via WebHDFS ${webhdfsUrl}`;
  }

  async writeFile(path: string, data: Buffer | string): Promise<void> {
    const target = this.pathOf(path);
    const tmp = `${target}${HDFS_TMP}`;
    await this.client.create(tmp, data, { overwrite: true }); // CREATE makes the missing parents
    if (await this.client.rename(tmp, target)) return;
    // HDFS's rename does not replace an existing file
    await this.client.delete(target, false);
    if (!(await this.client.rename(tmp, target))) throw new RlinkError('RLINK_HDFS', `WebHDFS RENAME ${tmp} → ${target}: refused`);
  }

  /** CREATE with overwrite=false: the namenode refuses an existing path (FileAlreadyExistsException). */
  async createExclusive(path: string, data: Buffer | string): Promise<boolean> {
    try {
      await this.client.create(this.pathOf(path), data, { overwrite: false });
      return true;
    } catch (e) {
      if (e instanceof WebHdfsRemoteError && e.exception === 'FileAlreadyExistsException') return false;
      throw e;
    }
  }

  /** The file, or its complete rewrite while (or if) it waits in `<path>.tmp` to be renamed. */
  async readFile(path: string): Promise<Buffer | null> {
    const p = this.pathOf(path);
    return (await this.client.tryOpen(p)) ?? (await this.client.tryOpen(`${p}${HDFS_TMP}`)) ?? (await this.client.tryOpen(p)); // renamed in between
  }

  async list(dir: string): Promise<string[]> {
    const p = this.pathOf(dir);
    if (!(await this.client.getFileStatus(p))) return [];
    const names = new Set((await this.client.listStatus(p)).map((s) => s.pathSuffix));
    for (const n of [...names]) {
      if (!n.endsWith(HDFS_TMP)) continue;
      names.delete(n);
      names.add(n.slice(0, -HDFS_TMP.length)); // a rewrite between DELETE and RENAME
    }
    return [...names].sort();
  }

  mkdirs(dir: string): Promise<void> { return this.client.mkdirs(this.pathOf(dir)); }

  async remove(path: string, recursive: boolean): Promise<void> {
    const p = this.pathOf(path);
    await this.client.delete(p, recursive);
    await this.client.delete(`${p}${HDFS_TMP}`, false); // a rewrite a dead writer left, which reads would take for the file
  }

  join(...parts: string[]): string {
    const [first = '', ...rest] = parts;
    const base = /^hdfs:\/\//i.test(first) ? parseHdfsUrl(first) : { authority: this.authority, path: first };
    return `hdfs://${base.authority}${posix.join(base.path, ...rest)}`;
  }

  private pathOf(p: string): string { return /^hdfs:\/\//i.test(p) ? parseHdfsUrl(p).path : p; }
}

/** Property or environment lookups for {@link checkpointStorageFor}. */
export type Settings = Readonly<Record<string, string | undefined>>;

const LOCAL = new LocalCheckpointStorage();

/**
 * The storage of a checkpoint directory (or any path inside one): local for plain paths, WebHDFS for
 * hdfs://. `props` are the job's properties (`checkpoint.webhdfs`, `checkpoint.hdfs-user`).
 */
export function checkpointStorageFor(dir: string, env: Settings = process.env, props: Settings = {}): CheckpointStorage {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(dir)?.[1]?.toLowerCase();
  if (scheme === undefined) return LOCAL;
  if (scheme !== 'hdfs') {
    throw new RlinkError('RLINK_CONFIG', `checkpoint.dir ${dir}: ${scheme}:// is not supported (a local or shared directory, or hdfs://namenode:8020/path)`, { context: { key: 'checkpoint.dir' } });
  }
  const { authority } = parseHdfsUrl(dir);
  const baseUrl = nonEmpty(props['checkpoint.webhdfs']) ?? nonEmpty(env.RLINK_WEBHDFS);
  if (!baseUrl) {
    throw new RlinkError('RLINK_CONFIG', `checkpoint.dir ${dir} needs the WebHDFS address: set checkpoint.webhdfs=http://namenode:9870 or RLINK_WEBHDFS`, { context: { key: 'checkpoint.webhdfs' } });
  }
  const user = nonEmpty(props['checkpoint.hdfs-user']) ?? nonEmpty(env.HADOOP_USER_NAME);
  const client = new WebHdfsClient({ baseUrl, ...(user ? { user } : {}) });
  return new WebHdfsCheckpointStorage(client, authority, baseUrl);
}

function nonEmpty(s: string | undefined): string | undefined { return s === undefined || s.trim() === '' ? undefined : s.trim(); }
