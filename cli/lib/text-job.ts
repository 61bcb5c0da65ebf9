import type { Props } from '../../core/api/props';
import { textJobKind, textJobProperties } from '../../core/jobfile/app';

/**
 * A config-file job (.yaml) or SQL script (.sql) brings properties: the framework defaults file's
 * (rlink-defaults.yaml, or standalone.yaml's checkpoint section) overridden by its own settings. Each
 * is set unless the command line set it. Code jobs are left alone.
 */
export function applyTextJobProperties(app: string, props: Props): void {
  if (!textJobKind(app)) return;
  const { properties } = textJobProperties(app);
  for (const [k, v] of Object.entries(properties)) if (!props.has(k)) props.set(k, v);
}
