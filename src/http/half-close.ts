/**
 * A client may half-close its connection once its request is sent (shutdown(SHUT_WR); embedded HTTP stacks
 * and OCSP clients do). Node's HTTP server, by default, ends its side of the socket when the client's FIN
 * arrives, so a request still being handled (an OCSP lookup, an EST enrollment) loses its answer. With
 * `httpAllowHalfOpen` (a property of Node's http and https servers, read when the FIN arrives) the server
 * answers what it has read, then closes.
 */
import type { Server } from 'node:http';

export function answerHalfClosedClients(server: Server): void {
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
}
