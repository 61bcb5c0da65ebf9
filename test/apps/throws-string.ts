/** Test app whose build throws a string (not an Error). */
import { defineApp } from 'rlink';

export default defineApp({
  name: 'throws-string',
  build() {
    // eslint-disable-next-line no-throw-literal
    throw 'kaput';
  },
});
