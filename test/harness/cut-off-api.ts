import { Client, Connection } from '@temporalio/client';
import { createServer, type Socket } from 'node:net';
import { buildApp } from '../../api/app';
import type { TestStack } from './stack';
import { apiDepsWith, unreachableTemporalClient } from './stack-env';

/** A second API on the stack's store whose Temporal is unreachable: what a webhook meets while Temporal is down. */
export interface CutOffApi {
  url: string;
  close(): Promise<void>;
}

/**
 * A Temporal client whose server takes the connection and never answers: every call hangs, as on a
 * server too busy to reply, instead of failing at once as unreachableTemporalClient's do.
 */
async function hangingTemporalClient(stack: TestStack): Promise<{ client: Client; close(): Promise<void> }> {
  const held = new Set<Socket>();
  const silent = createServer((socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as { port: number };
  const connection = Connection.lazy({ address: `127.0.0.1:${port}`, interceptors: [] });
  return {
    client: new Client({ connection, namespace: stack.client.options.namespace }),
    close: async () => {
      for (const socket of held) socket.destroy();
      await connection.close().catch(() => undefined);
      await new Promise((resolve) => silent.close(resolve));
    },
  };
}

/** `hang`: Temporal accepts connections and never answers, rather than refusing them. */
export async function startCutOffApi(stack: TestStack, opts: { hang?: boolean } = {}): Promise<CutOffApi> {
  const temporal = opts.hang ? await hangingTemporalClient(stack) : await unreachableTemporalClient(stack).then((client) => ({ client, close: () => client.connection.close() }));
  const app = await buildApp(apiDepsWith(stack, temporal.client));
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (err) {
    await app.close();
    await temporal.close();
    throw err;
  }
  const { port } = app.server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await temporal.close();
    },
  };
}
