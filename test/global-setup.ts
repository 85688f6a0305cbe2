// Prepared once per `vitest run`: shared fixtures that are slow to build (see test/db.ts).
export default async function setup(): Promise<void> {}
