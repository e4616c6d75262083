// @ts-check
'use strict';
/**
 * bench:webhooks' receiver, in a process of its own so the runner's peak RSS is the service's
 * (and the load's), not the receiver's. Answers 204; reports each delivery's arrival
 * ([Date.now(), webhook-id]) to the runner over IPC, in small batches.
 */
const http = require('node:http');

/** @type {Array<[number, string]>} */
let pending = [];
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const id = req.headers['webhook-id'];
    // the bare POST loop sends no webhook-id: only deliveries are reported
    if (typeof id === 'string') pending.push([Date.now(), id]);
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 30_000;

const flush = () => {
  if (pending.length === 0) return;
  process.send?.({ arrivals: pending });
  pending = [];
};
setInterval(flush, 10).unref();

process.on('message', (message) => {
  if (message !== 'close') return;
  flush();
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
server.listen(0, '127.0.0.1', () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.send?.({ port: address.port });
});
