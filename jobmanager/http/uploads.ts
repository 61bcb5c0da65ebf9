import type { IncomingMessage } from 'node:http';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import busboy from 'busboy';
import { errorMessage } from '../../core/errors';
import { HttpError, contentLength } from './responses';

/**
 * Receives `multipart/form-data` with the bundle in the field `file`, streaming it to `tempPath`
 * while hashing it (sha256) and counting its bytes. Nothing is buffered in memory; on every failure
 * the partial file is removed before the error propagates.
 *
 *   no multipart content type ─────────▶ 415
 *   declared length far above the limit ▶ 413 before a byte is read
 *   file larger than limitBytes ────────▶ 413 as soon as the limit is crossed
 *   malformed multipart / no `file` ────▶ 400
 */
export interface ReceivedUpload {
  hash: string;
  bytes: number;
  /** The file name the client claimed (display only, never a path). */
  filename: string | null;
}

/** Room for the multipart framing and small fields around the file, in bytes. */
const MULTIPART_OVERHEAD = 64 * 1024;

export const UPLOAD_FIELD = 'file';

export async function receiveUpload(
  req: IncomingMessage,
  opts: { limitBytes: number; tempPath: string; readyForBody: () => void },
): Promise<ReceivedUpload> {
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\s*;/i.test(type)) {
    throw new HttpError(415, `expected a multipart/form-data body with the bundle in the field '${UPLOAD_FIELD}' (curl -F ${UPLOAD_FIELD}=@app.mjs …)`);
  }
  const declared = contentLength(req);
  if (declared !== undefined && declared > opts.limitBytes + MULTIPART_OVERHEAD) {
    throw new HttpError(413, tooLarge(opts.limitBytes, declared));
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      limits: { files: 1, fileSize: opts.limitBytes, fields: 16, fieldSize: 64 * 1024, parts: 32, headerPairs: 64 },
    });
  } catch (e) {
    throw new HttpError(400, `malformed multipart request: ${errorMessage(e)}`);
  }
  opts.readyForBody();
  try {
    return await receive(req, parser, opts);
  } catch (e) {
    await rm(opts.tempPath, { force: true });
    throw e;
  }
}

function receive(req: IncomingMessage, parser: busboy.Busboy, opts: { limitBytes: number; tempPath: string }): Promise<ReceivedUpload> {
  return new Promise<ReceivedUpload>((resolve, reject) => {
    let settled = false;
    let result: ReceivedUpload | undefined;
    let parsed = false;
    let written = false;
    let out: ReturnType<typeof createWriteStream> | undefined;

    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      parser.removeAllListeners();
      parser.on('error', () => {}); // late parser errors have nowhere to go
      out?.destroy();
      // Let the write stream release the file before the caller removes it.
      if (out && !out.closed) out.once('close', () => reject(err)); else reject(err);
    };
    const done = () => {
      if (settled || !parsed || (out !== undefined && !written)) return;
      settled = true;
      if (!result) { reject(new HttpError(400, `the multipart body has no field '${UPLOAD_FIELD}' with the bundle`)); return; }
      resolve(result);
    };

    parser.on('file', (name, stream, info) => {
      if (name !== UPLOAD_FIELD || out !== undefined) { stream.resume(); return; }
      const hash = createHash('sha256');
      let bytes = 0;
      const file = createWriteStream(opts.tempPath, { flags: 'wx', mode: 0o600 });
      out = file;
      stream.on('data', (c: Buffer) => { hash.update(c); bytes += c.length; });
      stream.on('limit', () => fail(new HttpError(413, tooLarge(opts.limitBytes))));
      // busboy fails the file stream too when the body ends inside the file.
      stream.on('error', (e: unknown) => fail(new HttpError(400, `malformed multipart body: ${errorMessage(e)}`)));
      file.on('error', (e) => fail(new Error(`cannot write the upload: ${errorMessage(e)}`)));
      file.on('finish', () => {
        if (settled) return;
        result = { hash: hash.digest('hex'), bytes, filename: cleanName(info.filename) };
        written = true;
        done();
      });
      stream.pipe(file);
    });
    parser.on('filesLimit', () => { /* a second file: ignored (its stream is drained) */ });
    parser.on('partsLimit', () => fail(new HttpError(400, 'too many parts in the multipart body')));
    parser.on('fieldsLimit', () => fail(new HttpError(400, 'too many fields in the multipart body')));
    parser.on('error', (e: unknown) => fail(new HttpError(400, `malformed multipart body: ${errorMessage(e)}`)));
    parser.on('close', () => { parsed = true; done(); });
    req.on('aborted', () => fail(new Error('the client aborted the upload')));
    req.on('error', fail);
    req.pipe(parser);
  });
}

function tooLarge(limit: number, declared?: number): string {
  const what = declared === undefined ? 'the uploaded bundle is' : `the request (${declared} bytes) is`;
  return `${what} larger than the upload limit of ${limit} bytes (${(limit / 1024 / 1024).toFixed(1)} MiB); raise the job manager's upload limit or make the bundle smaller`;
}

/** The claimed file name without any directory part, for display; null when none. */
function cleanName(name: string | undefined): string | null {
  if (!name) return null;
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 255);
  return clean === '' ? null : clean;
}
