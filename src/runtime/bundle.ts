// Reading a bundle's config.json: parse, apply per-container overrides (CLI
// flags), validate.  The bundle's file itself is never written.
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../errors';
import type { Spec } from '../spec/types';
import { validateSpec } from '../spec/validate';

export function loadBundleSpec(bundle: string, override?: (spec: Spec) => void): Spec {
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError([`${file}: no such file (is "${bundle}" a bundle? "tsrun spec" writes a config.json)`]);
    }
    throw new ConfigError([`${file}: ${(e as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`config.json: invalid JSON: ${(e as Error).message}`]);
  }
  if (override && raw && typeof raw === 'object' && !Array.isArray(raw)) override(raw as Spec);
  return validateSpec(raw, bundle);
}
