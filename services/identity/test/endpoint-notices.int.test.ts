// A webhook endpoint disabled for failing (webhook_endpoint.disabled, from webhook-dispatch):
// the organization's owners and developers are mailed, once per event, and nobody else.
import { buildEvent } from '@usageflow/contracts';
import { encodeEvent } from '@usageflow/kafka';
import { testTopic, waitFor } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { endpointNoticesConsumer } from '../src/adapters/kafka/endpoint-notices';
import { startIdentity, type Identity } from './harness';

let id: Identity;
beforeAll(async () => {
  id = await startIdentity();
});
afterAll(() => id?.stop());

const disabled = (organizationId: string, endpointId = randomUUID()) =>
  buildEvent('webhook_endpoint.disabled', {
    id: randomUUID(),
    organizationId,
    occurredAt: '2026-03-12T09:00:00.000Z',
    producer: 'webhook-dispatch',
    data: {
      endpointId,
      url: 'https://billing.example.com/hooks',
      reason: 'FAILING',
      failingSince: '2026-03-09T08:00:00.000Z',
      lastError: 'HTTP 503',
    },
  });

it("mails the organization's owners and developers once per event, and no one else", async () => {
  const owner = await id.signup('notices');
  const developer = await id.addMember(owner.accessToken, 'DEVELOPER');
  await id.addMember(owner.accessToken, 'ADMIN');
  await id.addMember(owner.accessToken, 'VIEWER');
  const other = await id.signup('bystander');
  const topic = await testTopic(id.kafka, 'webhooks', 3);
  const consumer = endpointNoticesConsumer({
    ctx: id.identity.ctx,
    kafka: id.kafka,
    producer: id.producer,
    logger: id.logger,
    groupId: `notices-${randomUUID()}`,
    topic,
  });
  await consumer.start();
  try {
    const event = disabled(owner.organizationId);
    // the same event twice (a redelivery), and an event of an organization identity never saw
    await id.producer.send(
      topic,
      [event, event, disabled(randomUUID())].map((e) => encodeEvent(e).message),
    );
    // a marker after them: once it is mailed, everything before it was handled
    const marker = disabled(other.organizationId);
    await id.producer.send(topic, [encodeEvent(marker).message]);
    await waitFor('the marker notice', () => id.mailer.notices.some((n) => n.endpointId === marker.data.endpointId));

    const told = id.mailer.notices.filter((n) => n.endpointId === event.data.endpointId);
    expect(told.map((n) => n.to).sort()).toEqual([owner.email, developer.email].sort());
    expect(told[0]).toMatchObject({
      organizationName: expect.any(String),
      url: 'https://billing.example.com/hooks',
      failingSince: '2026-03-09T08:00:00.000Z',
      disabledAt: '2026-03-12T09:00:00.000Z',
      lastError: 'HTTP 503',
    });
    expect(id.mailer.notices.filter((n) => n.endpointId === marker.data.endpointId).map((n) => n.to)).toEqual([
      other.email,
    ]);
    expect(id.mailer.notices).toHaveLength(3);
  } finally {
    await consumer.stop();
  }
});
