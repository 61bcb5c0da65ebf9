/**
 * Bootstrap of a daemon in a YARN container (`--yarn-app <HDFS dir>`): the token and the job
 * manager's address come from the application's HDFS directory, the advertised host is YARN's
 * NM_HOST, a task manager is named after its container; a job manager publishes its address there
 * and runs the application's job once its task managers registered (deploy/yarn/container-bootstrap.ts).
 */
import type { Logger } from '../../core/logging';
import { discoverJobManager, fetchToken, publishJobManager, runApplication, yarnContainer, type YarnContainer } from '../yarn/container-bootstrap';
import type { ClusterBootstrap, JobManagerStarted } from './bootstrap';

export class YarnBootstrap implements ClusterBootstrap {
  readonly kind = 'yarn' as const;
  private readonly container: YarnContainer;

  constructor(appDir: string, webhdfs: string | undefined, env: NodeJS.ProcessEnv = process.env) {
    this.container = yarnContainer(appDir, webhdfs, env);
  }

  token(): Promise<string> { return fetchToken(this.container); }

  advertisedHost(): string { return this.container.host; }

  taskManagerId(): string | undefined { return this.container.containerId ? `tm-${this.container.containerId}` : undefined; }

  jobManagerUrls(): Promise<string> { return discoverJobManager(this.container); }

  async jobManagerStarted(s: JobManagerStarted): Promise<string> {
    const url = await publishJobManager(this.container, Number(new URL(s.url).port));
    void runApplication(this.container, url, s.token, s.logger.child({ component: 'yarn' }) as Logger);
    return url;
  }
}
