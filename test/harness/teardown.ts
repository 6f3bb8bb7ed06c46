/**
 * Teardown steps with a bound each. A file whose tests passed must not fail because, on a loaded
 * machine, one server or worker is slow to let go; the step that overran is named on stderr so a slow
 * shutdown stays visible, and the remaining steps still run.
 */
export async function boundedStep(name: string, step: () => Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const overran = new Promise<'overran'>((resolve) => {
    timer = setTimeout(() => resolve('overran'), ms);
  });
  try {
    const outcome = await Promise.race([step().then(() => 'done' as const), overran]);
    if (outcome === 'overran') process.stderr.write(`[harness] teardown step "${name}" still running after ${ms} ms; going on\n`);
  } catch (err) {
    process.stderr.write(`[harness] teardown step "${name}" failed: ${(err as Error).message}\n`);
  } finally {
    clearTimeout(timer);
  }
}
