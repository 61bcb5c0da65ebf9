/**
 * Entry point of a slot's worker thread (built to dist/worker.js). Installs rlink's API for the
 * bundles it loads, then runs a {@link SlotRunner} on the messages of its task manager.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as api from '../index';
import { installApi, loadAppBundle } from '../core/app/load';
import { createLogger } from '../core/logging';
import { RlinkError, errorMessage } from '../core/errors';
import type { AppDefinition } from '../core/api/app';
import { SlotRunner } from './slot-runner';
import type { MainToSlot, SlotNetworkConfig, SlotToMain } from './slot-protocol';

installApi(api);
const { slot, taskManagerId, logLevel, network } = workerData as { slot: number; taskManagerId: string; logLevel?: string; network?: SlotNetworkConfig };
const logger = createLogger({ level: logLevel }).child({ component: 'slot', taskManager: taskManagerId, slot });
const apps = new Map<string, Promise<AppDefinition>>();
const report = (m: SlotToMain) => parentPort!.postMessage(m);

// The slot's own data plane: its channels to other task managers never pass the main thread. Loaded
// only when the task manager has a network (the embedded cluster's slots start faster without it).
const plane = network ? new (await import('./data-plane/data-plane')).DataPlane({
  taskManagerId, token: network.token, bind: network.bind, advertisedHost: network.advertisedHost, logger,
  onPeerLost: (address, error, info) => runner.channelsLost(info.channels, `lost the data connection to ${address}: ${error.message}`),
}) : undefined;

const runner = new SlotRunner(logger, report, async (ref) => {
  if (ref.kind !== 'bundle') throw new RlinkError('RLINK_INTERNAL', 'a worker thread can only load bundled apps');
  let p = apps.get(ref.hash);
  if (!p) { p = loadAppBundle(ref.path); apps.set(ref.hash, p); }
  return p;
}, undefined, plane);
parentPort!.on('message', (m: MainToSlot) => runner.handle(m));
report({ type: 'slot-ready' });
if (plane) {
  plane.start().then((address) => report({ type: 'data-address', address }), (e: unknown) => {
    logger.error({ event: 'data.start-failed', err: errorMessage(e) }, `slot ${slot}: its data server could not start: ${errorMessage(e)}`);
  });
}
