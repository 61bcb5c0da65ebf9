#!/usr/bin/env node
// rlink's command line: builds dist/ when the sources changed, then hands over to oclif.
import { ensureBuilt } from '../tools/build.mjs';

await ensureBuilt();
const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
