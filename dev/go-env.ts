import { availableParallelism } from 'node:os';

/**
 * The runtime settings the two embedded Go servers (Temporal's dev server, FerretDB) start with. They
 * share the machine with the worker and the API, so they are tuned for that; the cluster profile's
 * servers keep Go's defaults, tuned by whoever runs them.
 */

/**
 * The Go garbage collector's target (GOGC): EMBEDDED_GOGC, else a GOGC already in the environment,
 * else 200. Against Go's default of 100, 200 cut FerretDB's CPU under `bench:journeys` by about 13 %
 * and the dev server's by about 5 %, for about 120 MiB more at the dev server's peak
 * (docs/performance.md).
 */
export function embeddedGoGc(env: NodeJS.ProcessEnv): string {
  if (env.EMBEDDED_GOGC === undefined || env.EMBEDDED_GOGC === '') return env.GOGC || '200';
  const v = env.EMBEDDED_GOGC;
  if (!/^\d+$/.test(v) || Number(v) < 50 || Number(v) > 1000) throw new Error(`EMBEDDED_GOGC must be a whole number from 50 to 1000 (got "${v}")`);
  return v;
}

/**
 * How many threads each server runs Go code on at once (GOMAXPROCS): EMBEDDED_GOMAXPROCS, else a
 * GOMAXPROCS already in the environment, else half the machine's cores (at least one). Go's default,
 * every core, lets each server's idle threads spin looking for work and its collector take a share of
 * every core, against Node processes that need those cores: on two cores one thread each cut the two
 * servers' CPU under `bench:journeys` by about a quarter (docs/performance.md).
 */
export function embeddedGoMaxProcs(env: NodeJS.ProcessEnv, cores = availableParallelism()): string {
  if (env.EMBEDDED_GOMAXPROCS === undefined || env.EMBEDDED_GOMAXPROCS === '') return env.GOMAXPROCS || String(Math.max(1, Math.floor(cores / 2)));
  const v = env.EMBEDDED_GOMAXPROCS;
  if (!/^[1-9]\d{0,3}$/.test(v)) throw new Error(`EMBEDDED_GOMAXPROCS must be a whole number from 1 to 9999 (got "${v}")`);
  return v;
}

/** The environment an embedded Go server starts with. */
export function goServerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, GOGC: embeddedGoGc(env), GOMAXPROCS: embeddedGoMaxProcs(env) };
}
