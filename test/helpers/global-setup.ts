// Builds dist/ once before the tests (integration tests run the real `rlink` binary and worker threads).
export default async function setup(): Promise<void> {
  // @ts-expect-error: a plain .mjs build script without type declarations
  const { ensureBuilt } = await import('../../tools/build.mjs');
  await (ensureBuilt as () => Promise<void>)();
}
