import type { Socket, TCPSocketListener } from "bun";

/** A TCP proxy on a loopback port that a test can cut and restore, to play a database or Redis going away. */
export interface TcpProxy {
  port: number;
  /** Close the listener and every open connection: clients now get "connection refused". */
  cut(): void;
  /** Listen again on the same port. */
  restore(): void;
  stop(): void;
}

/** Start a proxy from a free loopback port to target host:port. */
export function startTcpProxy(targetHost: string, targetPort: number): TcpProxy {
  const open = new Set<Socket<unknown>>();
  let listener: TCPSocketListener<{ upstream?: Socket<unknown>; buffered: Uint8Array[] }> | undefined;
  let port = 0;
  const listen = () => {
    listener = Bun.listen<{ upstream?: Socket<unknown>; buffered: Uint8Array[] }>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(client) {
          client.data = { buffered: [] };
          open.add(client);
          void Bun.connect({
            hostname: targetHost,
            port: targetPort,
            socket: {
              open(up) {
                open.add(up);
                client.data.upstream = up;
                for (const chunk of client.data.buffered) up.write(chunk);
                client.data.buffered = [];
              },
              data(_up, chunk) {
                client.write(chunk);
              },
              close(up) {
                open.delete(up);
                client.end();
              },
              error() {
                client.end();
              },
            },
          }).catch(() => client.end());
        },
        data(client, chunk) {
          if (client.data.upstream) client.data.upstream.write(chunk);
          else client.data.buffered.push(new Uint8Array(chunk));
        },
        close(client) {
          open.delete(client);
          client.data.upstream?.end();
        },
        error(client) {
          client.data.upstream?.end();
        },
      },
    });
    port = listener.port;
  };
  listen();
  return {
    get port() {
      return port;
    },
    cut() {
      listener?.stop(true);
      listener = undefined;
      for (const s of open) s.terminate();
      open.clear();
    },
    restore() {
      if (!listener) listen();
    },
    stop() {
      this.cut();
    },
  };
}
