// The e-mails identity sends (invitations, and notices to an organization's people, such as a
// webhook endpoint disabled for failing): through SMTP when SMTP_URL is set, otherwise written to
// the log (local development and the quickstart).
import type { Logger } from '@usageflow/telemetry';
import nodemailer, { type Transporter } from 'nodemailer';

/** One invitation to deliver. `token` is the secret the accept link carries. */
export interface InvitationMessage {
  invitationId: string;
  to: string;
  organizationName: string;
  role: string;
  acceptUrl: string;
  token: string;
  expiresAt: Date;
}

/** A notice to one of an organization's people that a webhook endpoint was disabled for failing. */
export interface EndpointDisabledMessage {
  to: string;
  organizationName: string;
  endpointId: string;
  url: string;
  failingSince: string;
  disabledAt: string;
  lastError?: string;
}

/** Sends the e-mails identity sends. */
export interface Mailer {
  sendInvitation(message: InvitationMessage): Promise<void>;
  sendEndpointDisabled(message: EndpointDisabledMessage): Promise<void>;
  close(): Promise<void>;
}

/** The text of an endpoint-disabled notice (the same for SMTP and the log). */
export function endpointDisabledText(m: EndpointDisabledMessage): { subject: string; text: string } {
  return {
    subject: `${m.organizationName}: webhook endpoint disabled after failing since ${m.failingSince}`,
    text: [
      `UsageFlow disabled the webhook endpoint ${m.url} (${m.endpointId}) of ${m.organizationName} at ${m.disabledAt}:`,
      `every delivery attempt to it has failed since ${m.failingSince}` +
        (m.lastError ? ` (last: ${m.lastError}).` : '.'),
      '',
      'Its deliveries are held, not dropped. Once the receiver works again, enable the endpoint',
      `(PATCH /v1/webhook-endpoints/${m.endpointId} {"enabled": true}) and they resume; the delivery log`,
      `(GET /v1/webhook-endpoints/${m.endpointId}/deliveries) shows every attempt and its error.`,
    ].join('\n'),
  };
}

/** The text of an invitation e-mail (the same for SMTP and the log). */
export function invitationText(m: InvitationMessage): { subject: string; text: string } {
  return {
    subject: `You are invited to ${m.organizationName} on UsageFlow`,
    text: [
      `You have been invited to join ${m.organizationName} on UsageFlow as ${m.role}.`,
      '',
      `Accept the invitation: ${m.acceptUrl}`,
      '',
      `The link works once and expires at ${m.expiresAt.toISOString()}.`,
      'If you did not expect this e-mail, ignore it.',
    ].join('\n'),
  };
}

/** Sends through an SMTP server (nodemailer: TLS, auth and pooling done right). */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport(smtpUrl);
  }

  async sendInvitation(m: InvitationMessage): Promise<void> {
    const { subject, text } = invitationText(m);
    await this.transport.sendMail({ from: this.from, to: m.to, subject, text });
  }

  async sendEndpointDisabled(m: EndpointDisabledMessage): Promise<void> {
    const { subject, text } = endpointDisabledText(m);
    await this.transport.sendMail({ from: this.from, to: m.to, subject, text });
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** Writes the e-mail to the log: the accept link is there for whoever runs UsageFlow locally. */
export class LogMailer implements Mailer {
  constructor(private readonly logger: Logger) {}

  async sendInvitation(m: InvitationMessage): Promise<void> {
    // NOTE: without SMTP the log is the mail channel, so the link (and its token) is logged on
    // purpose, in the message itself (what `npm start` shows), at warn so it is seen. Configure
    // SMTP_URL in any shared environment.
    this.logger.warn(
      { invitationId: m.invitationId, to: m.to, acceptUrl: m.acceptUrl, expiresAt: m.expiresAt.toISOString() },
      `invitation for ${m.to} to ${m.organizationName} as ${m.role} (SMTP_URL not set, so it is here): ` +
        `${m.acceptUrl} - accept with POST /v1/invitations/accept {"token": "${m.token}", "password": ...}`,
    );
  }

  async sendEndpointDisabled(m: EndpointDisabledMessage): Promise<void> {
    this.logger.warn(
      { to: m.to, endpointId: m.endpointId, url: m.url, failingSince: m.failingSince },
      `notice for ${m.to} (SMTP_URL not set, so it is here): ${endpointDisabledText(m).subject}`,
    );
  }

  async close(): Promise<void> {}
}
