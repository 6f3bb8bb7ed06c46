import { readFileSync } from 'node:fs';
import net from 'node:net';
import { assertPortFree, findFreePort, PortInUseError } from '../../dev/free-port';

/** The kernel's first ephemeral port on this machine, when it says. */
function ephemeralFrom(): number | undefined {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return undefined;
  }
}

test('a free port comes from below the range outgoing connections take, and can be listened on', async () => {
  const from = ephemeralFrom();
  const ports = [];
  for (let i = 0; i < 10; i++) ports.push(await findFreePort());
  for (const port of ports) {
    if (from !== undefined && from >= 11_000) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(from);
    }
    await expect(assertPortFree(port, 'test', 'TEST_PORT')).resolves.toBeUndefined();
  }
});

test('a port something listens on is reported as in use, naming the setting to change', async () => {
  const server = net.createServer();
  const chosen = await findFreePort();
  await new Promise<void>((resolve) => server.listen({ port: chosen, host: '127.0.0.1' }, resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    await expect(assertPortFree(port, 'the API', 'API_PORT')).rejects.toThrow(PortInUseError);
    await expect(assertPortFree(port, 'the API', 'API_PORT')).rejects.toThrow(/API_PORT/);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
