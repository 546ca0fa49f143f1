/**
 * jest-ustack/setup (setupFilesAfterEnv): registers the call-path matchers on Jest's `expect`
 * and the snapshot serializer (so snapshots print runs stably even without `snapshotSerializers`).
 */
import { matchers } from './matchers';
import serializer from './serializer';

interface ExpectLike {
  extend(matchers: Record<string, unknown>): void;
  addSnapshotSerializer?(plugin: unknown): void;
}

const expectGlobal = (globalThis as unknown as { expect?: ExpectLike }).expect;
if (!expectGlobal || typeof expectGlobal.extend !== 'function') {
  throw new Error('jest-ustack/setup must run as a Jest setup file (setupFilesAfterEnv), where `expect` is defined.');
}
expectGlobal.extend(matchers);
expectGlobal.addSnapshotSerializer?.(serializer);

export { matchers };
