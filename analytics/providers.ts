import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import ort from 'onnxruntime-node';

export type DevicePreference = 'cpu' | 'cuda';

export interface ProviderChoice {
  providers: string[];
  device: DevicePreference;
  /** Why this choice was made (logged at start, shown in the analytics state). */
  reason: string;
}

/**
 * onnxruntime-node throws when asked for ['cuda', 'cpu'] and CUDA is absent instead of falling back,
 * so providers are chosen explicitly: CPU unless CUDA was asked for AND its provider library is present.
 */
export function chooseProviders(preference: DevicePreference, probe: () => boolean = cudaAvailable): ProviderChoice {
  if (preference === 'cpu') return { providers: ['cpu'], device: 'cpu', reason: 'cpu configured' };
  if (probe()) return { providers: ['cuda', 'cpu'], device: 'cuda', reason: 'cuda configured and its provider library is present' };
  return { providers: ['cpu'], device: 'cpu', reason: 'cuda configured but not available here (no CUDA provider library); using cpu' };
}

/** True when this onnxruntime-node build lists CUDA and its provider shared library can be found. */
export function cudaAvailable(): boolean {
  const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
  if (!cuda) return false;
  if (cuda.bundled) return true;
  try {
    const require = createRequire(import.meta.url);
    const pkgDir = dirname(require.resolve('onnxruntime-node/package.json'));
    const binDir = join(pkgDir, 'bin', `napi-v6`, process.platform, process.arch);
    return existsSync(join(binDir, 'libonnxruntime_providers_cuda.so')) || existsSync(join(binDir, 'onnxruntime_providers_cuda.dll'));
  } catch {
    return false;
  }
}
