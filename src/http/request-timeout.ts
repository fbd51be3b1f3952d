/** How long a request may take to arrive on either listener: a client that stalls gets 408 and is disconnected. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/**
 * Options for Node's server constructor. Node 20 applies `requestTimeout` only when given at construction
 * (fastify sets it on the server afterwards, which stalled bodies ignore), and checks connections against it
 * every `connectionsCheckingInterval`, whose 30 s default would let a short limit run far over.
 */
export const nodeServerTimeouts = (requestTimeoutMs: number) => ({
  requestTimeout: requestTimeoutMs,
  connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(requestTimeoutMs / 4))),
});
