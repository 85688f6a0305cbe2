import { join } from 'node:path';
import pino from 'pino';

/** Paths used by the analytics tests: the committed weights (models/) and footage (test/fixtures/media). */
export const repoRoot = join(import.meta.dirname, '..');
export const modelsDir = join(repoRoot, 'models');
export const fixtureMedia = join(repoRoot, 'test', 'fixtures', 'media');
export const manifestsDir = join(repoRoot, 'models');
export const silentLogger = pino({ level: 'silent' });

/** The parked van in street-pedestrians-t20.jpg (768x576), as YOLOX-nano and NanoDet both box it. */
export const VAN_BOX = { x1: 650, y1: 43, x2: 724, y2: 101 };
