import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command';
import { writeImageContext, type ImageContext } from '../../../deploy/kubernetes';

export default class KubernetesImage extends BaseCommand {
  static override summary = 'Write the Docker build context of the image rlink\'s pods run: a Dockerfile and the runtime (rlink.mjs).';
  static override description = 'The image is Node.js plus one file, the rlink runtime (the job manager, the task manager and every dependency), as its entry point. Build and push it, then pass it to `rlink deploy kubernetes --image_path`.';
  static override examples = ['<%= config.bin %> kubernetes image ./rlink-image && docker build -t registry.example.com/rlink:0.9 ./rlink-image'];
  static override args = { dir: Args.string({ description: 'The directory to write (created when missing).', required: true }) };
  static override flags = { tag: Flags.string({ description: 'The tag the printed docker build command uses.', default: 'rlink:latest' }) };

  async run(): Promise<ImageContext> {
    const { args, flags } = await this.parse(KubernetesImage);
    const r = await writeImageContext(args.dir, flags.tag);
    if (!this.jsonEnabled()) this.log(`wrote ${r.files.join(', ')} to ${r.dir} (runtime ${r.runtimeVersion.slice(0, 12)})\nbuild it with: ${r.dockerBuild}`);
    return r;
  }
}
