import { join } from 'node:path';
import pino from 'pino';

/** Paths shared by the analytics tests: weights and footage live outside the repository. */
export const repoRoot = join(import.meta.dirname, '..');
export const sharedModels = join(repoRoot, '..', 'shared', 'models');
export const sharedMedia = join(repoRoot, '..', 'shared', 'media');
export const manifestsDir = join(repoRoot, 'models');
export const silentLogger = pino({ level: 'silent' });

/** The parked van in street-pedestrians-t20.jpg (768x576), as YOLOX-nano and NanoDet both box it. */
export const VAN_BOX = { x1: 650, y1: 43, x2: 724, y2: 101 };
