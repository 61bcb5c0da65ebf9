/**
 * The deploy seam: what a job manager or task manager daemon learns from the environment it was
 * started in, behind one interface. The daemons themselves (jobmanager/daemon.ts,
 * taskmanager/daemon.ts) know nothing about hosts, YARN or Kubernetes; deploy/daemons/ asks a
 * bootstrap for the three things that differ and starts them:
 *
 *   environment    token                     advertised address        the job manager
 *   standalone     --token-file, RLINK_TOKEN  --advertised-host         --jm (URLs, HA order)
 *   YARN           token in the app's HDFS    NM_HOST                   jobmanager.json in the app's HDFS dir
 *   Kubernetes     RLINK_TOKEN (a Secret)     POD_IP                    the Service's environment variables
 *
 * and, once a job manager listens, what the environment does with it (`jobManagerStarted`): nothing
 * standalone; on YARN publish its address and run the application's job; on Kubernetes run the
 * application's job from the mounted ConfigMap.
 */
import type { Logger } from '../../core/logging';

export type BootstrapKind = 'standalone' | 'yarn' | 'kubernetes';

export interface JobManagerStarted {
  /** The URL the job manager listens at (http://bind:port). */
  url: string;
  token: string;
  logger: Logger;
  /** Ends the daemon with this error (a failure only noticed after start, e.g. an application that cannot run). */
  fatal(e: Error): void;
}

export interface ClusterBootstrap {
  readonly kind: BootstrapKind;
  /** The cluster token, or undefined when the environment has none (standalone: the job manager then generates one). */
  token(): Promise<string | undefined>;
  /** The host other processes reach this one at; undefined: what the daemon's bind address implies. */
  advertisedHost(): string | undefined;
  /** This task manager's id when the environment names it (a YARN container, a pod); undefined: the daemon picks one. */
  taskManagerId(): string | undefined;
  /** Where a task manager finds the job manager: one URL, or several (high availability) in the order to try. */
  jobManagerUrls(): Promise<string | readonly string[]>;
  /**
   * Called once a job manager listens: publishes it where task managers and clients look, starts the
   * environment's application if it carries one. Returns the URL to announce on the ready line.
   */
  jobManagerStarted(started: JobManagerStarted): Promise<string>;
}
