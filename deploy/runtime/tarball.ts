/**
 * A minimal ustar writer: the runtime goes to a host as one gzipped tar (one SFTP upload and one
 * `tar -xzf` instead of a round trip per file). Regular files only; names ≤ 100 bytes.
 */
import { gzipSync } from 'node:zlib';

export interface TarEntry { name: string; data: Buffer; mode: number }

function header(e: TarEntry, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s, off, len, 'ascii');
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
  if (Buffer.byteLength(e.name) > 100) throw new Error(`tar: name too long: ${e.name}`);
  put(e.name, 0, 100);
  put(octal(e.mode & 0o7777, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(e.data.length, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put('        ', 148, 8); // the checksum counts its own field as spaces
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

export function tarGz(entries: TarEntry[], mtime = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e, mtime), e.data);
    const pad = (512 - (e.data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts), { level: 6 });
}
