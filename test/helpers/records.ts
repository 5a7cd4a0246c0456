// A container record (src/runtime/record.ts) to build test inputs from: the
// front record's and the replay record's unit tests start from the same one.
import type { ContainerRecord } from '../../src/runtime/record';

export function sampleRecord(over: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    ociVersion: '1.2.0',
    id: 'c1',
    pid: 4242,
    pidStartTime: 987654,
    bundle: '/b',
    rootfs: '/b/rootfs',
    created: '2026-11-23T10:05:02.538123456Z',
    owner: '',
    annotations: {},
    hooks: {},
    ...over,
  };
}
