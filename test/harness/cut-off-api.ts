import { buildApp } from '../../api/app';
import { apiDepsWith, unreachableTemporalClient, type TestStack } from './stack';

/** A second API on the stack's store whose Temporal is unreachable: what a webhook meets while Temporal is down. */
export interface CutOffApi {
  url: string;
  close(): Promise<void>;
}

export async function startCutOffApi(stack: TestStack): Promise<CutOffApi> {
  const deadClient = await unreachableTemporalClient(stack);
  const app = await buildApp(apiDepsWith(stack, deadClient));
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (err) {
    await app.close();
    await deadClient.connection.close();
    throw err;
  }
  const { port } = app.server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await deadClient.connection.close();
    },
  };
}
