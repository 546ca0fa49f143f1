/**
 * A kernel-build stub for `stap -r STUB -p2/-p3`: lets the translator check a script against a
 * binary's real DWARF on hosts without kernel headers. It holds `.config`
 * (from /proc/config.gz or /boot/config-RELEASE), an empty `Module.symvers` and
 * `include/config/kernel.release`. It cannot build or load a module (passes 4-5).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { UstackError } from '../errors';

/** The running kernel's configuration text, or null when neither /proc/config.gz nor /boot/config-* exists. */
export function readKernelConfig(release = os.release()): string | null {
  try {
    return zlib.gunzipSync(fs.readFileSync('/proc/config.gz')).toString('utf8');
  } catch {
    try {
      return fs.readFileSync(`/boot/config-${release}`, 'utf8');
    } catch {
      return null;
    }
  }
}

/** Creates (or reuses) the stub folder and returns its absolute path. */
export function createKernelBuildStub(dir?: string): string {
  const release = os.release();
  const stub = dir ?? path.join(os.tmpdir(), `jest-ustack-kbuild-stub-${release}`);
  const config = readKernelConfig(release);
  if (config === null) {
    throw new UstackError(
      'USTACK_NO_KERNEL_CONFIG',
      `Cannot make a kernel-build stub: neither /proc/config.gz nor /boot/config-${release} exists. Install the kernel headers for ${release} instead.`,
    );
  }
  fs.mkdirSync(path.join(stub, 'include', 'config'), { recursive: true });
  fs.writeFileSync(path.join(stub, '.config'), config);
  fs.writeFileSync(path.join(stub, 'Module.symvers'), '');
  fs.writeFileSync(path.join(stub, 'include', 'config', 'kernel.release'), release + '\n');
  return stub;
}
