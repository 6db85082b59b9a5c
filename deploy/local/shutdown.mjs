// Graceful close on SIGTERM/SIGINT for the local stack's HTTPS servers (server.mjs, the ranges
// layer): stop accepting, drop idle keep-alive sockets (they would hold close() open), let busy
// ones finish, and exit after 5 s at most so a client that keeps a request going cannot block it.
export function closeOnSignals(server, name, beforeClose = () => {}) {
  let closing = false;
  const shutdown = (signal) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`${name}: ${signal}, closing\n`);
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    beforeClose();
    setTimeout(() => {
      server.closeAllConnections();
      process.exit(0);
    }, 5_000).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}
