import { connect } from 'node:net';

/**
 * Sends one inline command to the Redis at `redisUrl` over a raw socket, and resolves with the
 * answer once `done` matches it: how the bench reads Redis's own figures without a client library.
 */
export async function redisInline(
  redisUrl: string,
  command: string,
  done: RegExp,
): Promise<string> {
  const { hostname, port } = new URL(redisUrl);
  const socket = connect({ host: hostname, port: Number(port) });
  try {
    socket.setEncoding('utf8');
    socket.write(`${command}\r\n`);
    let text = '';
    for await (const chunk of socket as AsyncIterable<string>) {
      text += chunk;
      if (done.test(text)) return text;
    }
    throw new Error(`no answer to ${command}`);
  } finally {
    socket.destroy();
  }
}

/** A numeric field of `INFO <section>`, e.g. `total_commands_processed` of `stats`. */
export async function redisInfo(redisUrl: string, section: string, field: string): Promise<number> {
  const found = new RegExp(`^${field}:(\\d+)`, 'm');
  const info = await redisInline(redisUrl, `INFO ${section}`, found);
  return Number(found.exec(info)?.[1]);
}

/** How many keys the Redis holds (`DBSIZE`). */
export async function redisKeys(redisUrl: string): Promise<number> {
  const found = /^:(\d+)\r\n/;
  return Number(found.exec(await redisInline(redisUrl, 'DBSIZE', found))?.[1]);
}
