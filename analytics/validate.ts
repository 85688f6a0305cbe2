/**
 * Tiny strict validator shared by manifests, rules and engine config: every problem is reported with
 * the path of the offending field, and unknown keys are refused (a typo must never be silently ignored).
 */
export interface FieldError {
  field: string;
  message: string;
}

export class ValidationError extends Error {
  constructor(
    readonly what: string,
    readonly errors: FieldError[],
  ) {
    super(`${what}: ${errors.map((e) => `${e.field || '(root)'}: ${e.message}`).join('; ')}`);
    this.name = 'ValidationError';
  }
}

export class Checker {
  readonly errors: FieldError[] = [];

  fail(field: string, message: string): undefined {
    this.errors.push({ field, message });
    return undefined;
  }

  object(value: unknown, field: string, allowed: readonly string[]): Record<string, unknown> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return this.fail(field, 'must be an object');
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.fail(join(field, key), 'unknown key');
    }
    return obj;
  }

  string(value: unknown, field: string, opts: { optional?: boolean; pattern?: RegExp; maxLength?: number } = {}): string | undefined {
    if (value === undefined && opts.optional) return undefined;
    if (typeof value !== 'string' || value.length === 0) return this.fail(field, 'must be a non-empty string');
    if (opts.maxLength !== undefined && value.length > opts.maxLength) return this.fail(field, `must be at most ${opts.maxLength} characters`);
    if (opts.pattern && !opts.pattern.test(value)) return this.fail(field, `must match ${opts.pattern}`);
    return value;
  }

  number(
    value: unknown,
    field: string,
    opts: { optional?: boolean; min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean } = {},
  ): number | undefined {
    if (value === undefined && opts.optional) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.fail(field, 'must be a finite number');
    if (opts.integer && !Number.isInteger(value)) return this.fail(field, 'must be an integer');
    if (opts.min !== undefined && (opts.exclusiveMin ? value <= opts.min : value < opts.min)) {
      return this.fail(field, `must be ${opts.exclusiveMin ? '>' : '>='} ${opts.min}`);
    }
    if (opts.max !== undefined && value > opts.max) return this.fail(field, `must be <= ${opts.max}`);
    return value;
  }

  boolean(value: unknown, field: string, opts: { optional?: boolean } = {}): boolean | undefined {
    if (value === undefined && opts.optional) return undefined;
    if (typeof value !== 'boolean') return this.fail(field, 'must be a boolean');
    return value;
  }

  oneOf<T extends string>(value: unknown, field: string, options: readonly T[], opts: { optional?: boolean } = {}): T | undefined {
    if (value === undefined && opts.optional) return undefined;
    if (typeof value !== 'string' || !options.includes(value as T)) return this.fail(field, `must be one of ${options.join(', ')}`);
    return value as T;
  }

  array(value: unknown, field: string, opts: { optional?: boolean; minLength?: number; maxLength?: number } = {}): unknown[] | undefined {
    if (value === undefined && opts.optional) return undefined;
    if (!Array.isArray(value)) return this.fail(field, 'must be an array');
    if (opts.minLength !== undefined && value.length < opts.minLength) return this.fail(field, `must have at least ${opts.minLength} items`);
    if (opts.maxLength !== undefined && value.length > opts.maxLength) return this.fail(field, `must have at most ${opts.maxLength} items`);
    return value;
  }

  numberTuple(value: unknown, field: string, length: number, opts: { optional?: boolean; exclusiveMin?: number } = {}): number[] | undefined {
    const arr = this.array(value, field, { optional: opts.optional, minLength: length, maxLength: length });
    if (!arr) return undefined;
    const out: number[] = [];
    arr.forEach((v, i) => {
      const n = this.number(v, `${field}[${i}]`, opts.exclusiveMin !== undefined ? { min: opts.exclusiveMin, exclusiveMin: true } : {});
      if (n !== undefined) out.push(n);
    });
    return out.length === length ? out : undefined;
  }

  get ok(): boolean {
    return this.errors.length === 0;
  }
}

export function join(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}
