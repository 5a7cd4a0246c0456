// PLACEHOLDER until the spec branch lands (it replaces this file).
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../errors';
import type { Spec } from './types';
export function validateSpec(raw: unknown, bundle: string): Spec {
  const s = raw as Spec;
  const problems: string[] = [];
  if (!s.process?.args?.length) problems.push('config.json: /process/args: must not be empty');
  const root = path.resolve(bundle, s.root?.path ?? 'rootfs');
  if (!fs.existsSync(root)) problems.push(`config.json: /root/path: rootfs "${root}" does not exist`);
  if (problems.length) throw new ConfigError(problems);
  return s;
}
