/**
 * Entry point of a slot's worker thread (built to dist/worker.js). Installs rlink's API for the
 * bundles it loads, then runs a {@link SlotRunner} on the messages of its task manager.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as api from '../index';
import { installApi, loadAppBundle } from '../core/app/load';
import { createLogger } from '../core/logging';
import { RlinkError } from '../core/errors';
import type { AppDefinition } from '../core/api/app';
import { SlotRunner } from './slot-runner';
import type { MainToSlot, SlotToMain } from './slot-protocol';

installApi(api);
const { slot, taskManagerId, logLevel } = workerData as { slot: number; taskManagerId: string; logLevel?: string };
const logger = createLogger({ level: logLevel }).child({ component: 'slot', taskManager: taskManagerId, slot });
const apps = new Map<string, Promise<AppDefinition>>();

const runner = new SlotRunner(logger, (m: SlotToMain) => parentPort!.postMessage(m), async (ref) => {
  if (ref.kind !== 'bundle') throw new RlinkError('RLINK_INTERNAL', 'a worker thread can only load bundled apps');
  let p = apps.get(ref.hash);
  if (!p) { p = loadAppBundle(ref.path); apps.set(ref.hash, p); }
  return p;
});
parentPort!.on('message', (m: MainToSlot) => runner.handle(m));
