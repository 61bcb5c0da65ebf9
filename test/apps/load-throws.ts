/** Test app that throws while its module loads (before defineApp): the CLI names the app and the error. */
import { defineApp } from 'rlink';

const config: Record<string, string> = {};
if (!config.region) throw new Error('region not configured');

export default defineApp({ name: 'load-throws', build() {} });
