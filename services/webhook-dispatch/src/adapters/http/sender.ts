// One webhook attempt: a signed POST to the endpoint, made safely. The host is resolved and every
// address checked again at send time (DNS may have changed since the URL was registered), then
// the connection goes to a checked address: the socket's lookup is answered with it, so there is
// no second resolution and no DNS-rebinding window, while SNI and Host keep the host name (the
// certificate is verified against it). No redirect is followed, the whole attempt has one
// deadline, and at most `maxResponseBytes` of the answer are read.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { WebhookContext } from '../../app/context';
import { signingSecrets, type EndpointRow } from '../../app/endpoints';
import { signatureHeaders } from '../../domain/signing';
import { checkEndpointUrl, checkResolvedAddresses } from '../../domain/url-safety';

/** What the sender needs of a delivery: its id (the webhook-id) and the stored bytes. */
export interface Sendable {
  id: string;
  payload: string;
}

/** The outcome of one attempt; success is any 2xx. */
export interface AttemptResult {
  /** The response status, or null when none came (refused, unreachable, timed out). */
  statusCode: number | null;
  latencyMs: number;
  /** Why the attempt failed, when there is more to say than the status; never a secret. */
  error: string | null;
}

/** Sends one attempt. The dispatcher takes it as an argument, so tests can stand in for the network. */
export type Sender = (ctx: WebhookContext, endpoint: EndpointRow, delivery: Sendable) => Promise<AttemptResult>;

/** `User-Agent` of every webhook request. */
export const USER_AGENT = 'UsageFlow-Webhooks/1';

/** Whether an attempt counts as delivered. */
export const isSuccess = (result: AttemptResult): boolean =>
  result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;

/** Makes one signed POST of `delivery` to `endpoint`; never throws. */
export const sendWebhook: Sender = async (ctx, endpoint, delivery) => {
  const started = Date.now();
  const failed = (error: string): AttemptResult => ({ statusCode: null, latencyMs: Date.now() - started, error });

  // The URL was checked when it was registered; settings may have changed since (allowHttp).
  const form = checkEndpointUrl(endpoint.url, { allowHttp: ctx.settings.allowHttp });
  if (!form.ok) return failed(`URL refused: ${form.detail}`);
  let addresses: string[];
  try {
    // An IP literal is its own answer: what is checked is then exactly what is connected to.
    // The lookup counts against the attempt's deadline too: a hanging resolver must not hold a slot.
    addresses = isIP(form.hostname)
      ? [form.hostname]
      : await withDeadline(ctx.resolve(form.hostname), ctx.settings.timeoutMs);
  } catch (err) {
    return failed(`DNS lookup of ${form.hostname} failed: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const check = checkResolvedAddresses(addresses, ctx.settings.allowedAddresses);
  if (!check.ok) {
    return failed(
      check.reason === 'NO_ADDRESSES'
        ? `${form.hostname} has no address`
        : `address refused: ${form.hostname} resolves to ${check.address} (${check.kind})`,
    );
  }

  const now = ctx.clock();
  const headers = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'content-length': String(Buffer.byteLength(delivery.payload, 'utf8')),
    ...signatureHeaders({
      id: delivery.id,
      timestamp: now,
      body: delivery.payload,
      secrets: signingSecrets(endpoint, now),
    }),
  };
  const url = new URL(form.url);
  const options: RequestOptions = {
    method: 'POST',
    headers,
    // Only ever the checked addresses: the socket never resolves the name itself.
    lookup: pinnedLookup(addresses),
    // One connection per attempt: no pooled socket to an address checked for another request.
    agent: false,
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;

  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const finish = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      resolve(result);
    };
    const req = request(url, options, (res: IncomingMessage) => {
      const statusCode = res.statusCode ?? null;
      const done = () =>
        finish({
          statusCode,
          latencyMs: Date.now() - started,
          // NOTE: a redirect is a failure by design: following it could lead to an unchecked address.
          error: statusCode !== null && statusCode >= 300 && statusCode < 400 ? 'redirect not followed' : null,
        });
      // Read (and drop) at most maxResponseBytes of the body, then hang up: a receiver cannot
      // make the dispatcher hold a large or endless answer.
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= ctx.settings.maxResponseBytes) done();
      });
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    // One deadline for lookup, connect, request and response, not per socket event.
    const deadline = setTimeout(
      () => finish(failed(`timed out after ${ctx.settings.timeoutMs} ms`)),
      Math.max(0, started + ctx.settings.timeoutMs - Date.now()),
    );
    req.on('error', (err: NodeJS.ErrnoException) => finish(failed(`request failed: ${err.code ?? err.message}`)));
    req.end(delivery.payload);
  });
};

/** A socket lookup that answers with the checked addresses only (IPv4 and IPv6). */
function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    // Node 20 connects with autoSelectFamily and asks for every address (`all`); older paths ask for one.
    if (options?.all) callback(null, entries);
    else callback(null, entries[0]!.address, entries[0]!.family);
  }) as unknown as LookupFunction;
}

/** `promise`, or a rejection with code ETIMEOUT after `ms`. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
