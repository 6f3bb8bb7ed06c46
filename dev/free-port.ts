import { readFileSync } from 'node:fs';
import net from 'node:net';

/** Ports for the local stack's servers: finding a free one, checking one is free, waiting for one to answer. */

/** Whether host:port can be listened on right now. */
function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(false) : reject(err)));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The lowest port the kernel hands to outgoing connections (Linux); undefined where it does not say. */
function ephemeralPortsFrom(): number | undefined {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A port that was free a moment ago, the usual small race accepted for local tools and tests. It comes
 * from below the kernel's ephemeral range where there is room: a port the kernel picks (listen on 0)
 * lies inside that range, and any outgoing connection of a busy machine (a test suite's hundreds of
 * them) can take it before the server it was meant for binds it.
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const ephemeralFrom = ephemeralPortsFrom();
  const lowest = 10_000;
  if (ephemeralFrom !== undefined && ephemeralFrom - lowest >= 1_000) {
    for (let i = 0; i < 50; i++) {
      const port = lowest + Math.floor(Math.random() * (ephemeralFrom - lowest));
      if (await canListen(port, host)) return port;
    }
  }
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class PortInUseError extends Error {}

/**
 * Fails with a message that says how to get out of the conflict, rather than letting a child
 * crash later with an obscure bind error.
 */
export async function assertPortFree(port: number, name: string, envVar: string, host = '127.0.0.1'): Promise<void> {
  if (!(await canListen(port, host))) throw new PortInUseError(`port ${port} (${name}) is already in use: stop what uses it or set ${envVar}`);
}

export function canConnect(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
