import { build, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RlinkError } from '../errors';
import { API_GLOBAL } from './load';
import { textJobKind, textJobModule } from '../jobfile/app';

/** Resolves `import … from 'rlink'` to the API of the rlink that loads the bundle. */
const rlinkApiPlugin: Plugin = {
  name: 'rlink-api',
  setup(b) {
    b.onResolve({ filter: /^rlink$/ }, () => ({ path: 'rlink', namespace: 'rlink-api' }));
    b.onLoad({ filter: /.*/, namespace: 'rlink-api' }, () => ({ contents: `module.exports = globalThis.${API_GLOBAL};`, loader: 'js' }));
  },
};

export interface Bundle { path: string; hash: string; bytes: number }

/**
 * Bundles a job file (TypeScript or JavaScript, anywhere on disk) and everything it imports into one
 * ESM file. 'rlink' is not bundled: it is the running rlink's own API. CommonJS dependencies get a
 * `require` through createRequire.
 */
export async function bundleApp(entry: string, outFile: string): Promise<Bundle> {
  const abs = resolve(entry);
  if (!existsSync(abs)) throw new RlinkError('RLINK_APP_BUNDLE', `app ${entry}: no such file`);
  await mkdir(dirname(outFile), { recursive: true });
  // A config-file job (.yaml) or a SQL script (.sql): checked here, bundled as a module that builds it from its text.
  const text = textJobKind(abs) ? textJobModule(abs, entry) : undefined;
  try {
    await build({
      ...(text !== undefined ? { stdin: { contents: text, resolveDir: dirname(abs), sourcefile: `${entry}.mjs`, loader: 'js' as const } } : { entryPoints: [abs] }),
      outfile: outFile, bundle: true, platform: 'node', format: 'esm', target: 'node20',
      plugins: [rlinkApiPlugin], logLevel: 'silent', sourcemap: 'inline', write: true,
      banner: { js: "import { createRequire as __rlinkCreateRequire } from 'node:module'; const require = __rlinkCreateRequire(import.meta.url);" },
    });
  } catch (e) {
    const errs = (e as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }).errors;
    const first = errs?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
    throw new RlinkError('RLINK_APP_BUNDLE', `app ${entry} cannot be bundled: ${where}${first?.text ?? String(e)}`, { cause: e });
  }
  const bytes = await readFile(outFile);
  return { path: outFile, hash: createHash('sha256').update(bytes).digest('hex').slice(0, 16), bytes: bytes.length };
}
