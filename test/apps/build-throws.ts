/** Test app whose build throws: `rlink run` must exit non-zero with one line naming the app and the error. */
import { defineApp } from 'rlink';

export default defineApp({
  name: 'build-throws',
  build() {
    throw new Error('boom');
  },
});
