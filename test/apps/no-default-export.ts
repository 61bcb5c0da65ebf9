/** Test app that forgets `export default`: the CLI says what the file must export. */
import { defineApp } from 'rlink';

export const job = defineApp({ name: 'no-default-export', build() {} });
