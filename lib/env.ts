/**
 * Reading settings from the environment, for every layer (the server's config.ts, ingest's and analytics' own
 * settings): a bad value is a ConfigError naming the variable, which main.ts reports as a configuration error.
 */
export class ConfigError extends Error {}

/** A numeric setting from the environment: default when unset, ConfigError naming the variable when out of range. */
export function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a number between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}
