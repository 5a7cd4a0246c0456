// PLACEHOLDER until the cgroups branch lands (it replaces this file).
import type { Resources } from '../spec/types';
export type CgroupMode = 'v1' | 'v2' | 'hybrid';
export interface CgroupRecord {
  mode: CgroupMode;
  paths: Record<string, string>;
}
export interface SetupOptions { id: string; cgroupsPath?: string; resources?: Resources; systemd?: boolean; root?: string }
export function setupCgroup(_o: SetupOptions): CgroupRecord | undefined {
  return undefined;
}
export function procsFiles(rec: CgroupRecord): string[] {
  return Object.values(rec.paths).map((p) => `${p}/cgroup.procs`);
}
export function destroyCgroup(_rec: CgroupRecord): void {}
export function cgroupPids(_rec: CgroupRecord): number[] {
  return [];
}
export function isFrozen(_rec: CgroupRecord): boolean {
  return false;
}
export function freeze(_rec: CgroupRecord): void {}
export function thaw(_rec: CgroupRecord): void {}
