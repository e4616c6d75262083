// Invitation e-mails over real SMTP: an SMTP server in the test receives what SmtpMailer sends
// (nodemailer speaking the protocol over TCP, with authentication).
import { testLogger } from '@usageflow/testkit';
import { Writable } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import { LogMailer, SmtpMailer, type InvitationMessage } from '../src/adapters/mail/mailer';

const message: InvitationMessage = {
  invitationId: '5d2c7a34-7a49-4d2e-9a55-0b0f6b1e9c11',
  to: 'ada@cloudai.example',
  organizationName: 'CloudAI',
  role: 'ADMIN',
  acceptUrl: 'http://localhost:4001/accept-invitation?token=abc',
  token: 'abc',
  expiresAt: new Date('2026-03-08T09:05:00.000Z'),
};

describe('SmtpMailer', () => {
  const received: { from: string; to: string[]; user?: string; data: string }[] = [];
  let server: SMTPServer;
  let port: number;

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: false,
      disabledCommands: ['STARTTLS'],
      onAuth(auth, _session, cb) {
        if (auth.username === 'mailer' && auth.password === 's3cret') cb(null, { user: auth.username });
        else cb(new Error('bad credentials'));
      },
      onData(stream, session, cb) {
        let data = '';
        stream.pipe(
          new Writable({
            write(chunk, _enc, next) {
              data += chunk.toString();
              next();
            },
            final(done) {
              received.push({
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((r) => r.address),
                user: session.user as string | undefined,
                data,
              });
              done();
              cb();
            },
          }),
        );
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('delivers the invitation with its accept link to the invitee, authenticated', async () => {
    const mailer = new SmtpMailer(`smtp://mailer:s3cret@127.0.0.1:${port}`, 'UsageFlow <no-reply@usageflow.test>');
    await mailer.sendInvitation(message);
    await mailer.close();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ from: 'no-reply@usageflow.test', to: ['ada@cloudai.example'], user: 'mailer' });
    expect(received[0]!.data).toContain('Subject: You are invited to CloudAI on UsageFlow');
    expect(received[0]!.data).toContain(message.acceptUrl);
  });

  it('fails loudly when the server refuses the credentials', async () => {
    const mailer = new SmtpMailer(`smtp://mailer:wrong@127.0.0.1:${port}`, 'no-reply@usageflow.test');
    await expect(mailer.sendInvitation(message)).rejects.toThrow();
    await mailer.close();
  });
});

describe('LogMailer', () => {
  it('puts the accept link in the log message itself', async () => {
    const lines: string[] = [];
    const logger = testLogger().child({});
    logger.warn = ((obj: unknown, msg: string) => lines.push(msg)) as never;
    await new LogMailer(logger).sendInvitation(message);
    expect(lines[0]).toContain(message.acceptUrl);
  });
});
