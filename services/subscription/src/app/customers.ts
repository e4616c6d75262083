// Customers: the organization's own customers, identified by the organization's id for them
// (the `customerId` its usage events carry).
import {
  buildEvent,
  type CreateCustomerBody,
  type Customer,
  type PageOf,
  type PageRequest,
  type UpdateCustomerBody,
} from '@usageflow/contracts';
import { appendToOutbox, type Knex } from '@usageflow/db';
import { keysetPage } from '@usageflow/http';
import { randomUUID } from 'node:crypto';
import { subscriptionErrors } from '../domain/errors';
import { isUniqueViolation, lockOrganization, PRODUCER, type Caller, type SubscriptionContext } from './context';

interface CustomerRow {
  organization_id: string;
  customer_id: string;
  name: string;
  email: string | null;
  test_clock_id: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const toCustomer = (r: CustomerRow): Customer => ({
  customerId: r.customer_id,
  name: r.name,
  email: r.email,
  testClockId: r.test_clock_id,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/** The event data of a customer's complete state. */
const customerData = (c: Customer) => ({
  customerId: c.customerId,
  name: c.name,
  ...(c.email ? { email: c.email } : {}),
});

/** `POST /v1/customers`, inside the caller's (idempotency) transaction. */
export async function createCustomer(
  ctx: SubscriptionContext,
  trx: Knex.Transaction,
  caller: Caller,
  body: CreateCustomerBody,
): Promise<Customer> {
  const now = ctx.clock();
  await lockOrganization(trx, caller.organizationId);
  if (body.testClockId) {
    // a test clock of another organization is as unknown as one that does not exist
    const clock = await trx('test_clocks')
      .where({ id: body.testClockId, organization_id: caller.organizationId })
      .first();
    if (!clock) throw subscriptionErrors.TEST_CLOCK_NOT_FOUND(`no test clock ${body.testClockId}`);
  }
  const row: CustomerRow = {
    organization_id: caller.organizationId,
    customer_id: body.customerId,
    name: body.name,
    email: body.email ?? null,
    test_clock_id: body.testClockId ?? null,
    created_at: now,
    updated_at: now,
  };
  try {
    await trx('customers').insert(row);
  } catch (err) {
    if (isUniqueViolation(err))
      throw subscriptionErrors.CUSTOMER_ID_TAKEN(`a customer with id ${body.customerId} already exists`);
    throw err;
  }
  const customer = toCustomer(row);
  await appendToOutbox(trx, [
    buildEvent('customer.created', {
      id: randomUUID(),
      organizationId: caller.organizationId,
      occurredAt: now,
      producer: PRODUCER,
      data: customerData(customer),
    }),
  ]);
  return customer;
}

/** `GET /v1/customers`: ordered by creation. */
export function listCustomers(ctx: SubscriptionContext, caller: Caller, page: PageRequest): Promise<PageOf<Customer>> {
  return keysetPage<CustomerRow, Customer>(
    ctx.db('customers').where({ organization_id: caller.organizationId }),
    page,
    [
      { column: 'created_at', field: 'created_at', type: 'timestamptz' },
      { column: 'customer_id', field: 'customer_id', type: 'text' },
    ],
    toCustomer,
  );
}

/** `GET /v1/customers/{customerId}`. */
export async function getCustomer(ctx: SubscriptionContext, caller: Caller, customerId: string): Promise<Customer> {
  const row = await ctx
    .db<CustomerRow>('customers')
    .where({ organization_id: caller.organizationId, customer_id: customerId })
    .first();
  if (!row) throw subscriptionErrors.CUSTOMER_NOT_FOUND(`no customer ${customerId}`);
  return toCustomer(row);
}

/** `PATCH /v1/customers/{customerId}`: name and e-mail (null clears it); emits the new state. */
export async function updateCustomer(
  ctx: SubscriptionContext,
  caller: Caller,
  customerId: string,
  body: UpdateCustomerBody,
): Promise<Customer> {
  return ctx.db.transaction(async (trx) => {
    await lockOrganization(trx, caller.organizationId);
    const where = { organization_id: caller.organizationId, customer_id: customerId };
    const row = await trx<CustomerRow>('customers').where(where).first();
    if (!row) throw subscriptionErrors.CUSTOMER_NOT_FOUND(`no customer ${customerId}`);
    const next: CustomerRow = {
      ...row,
      name: body.name ?? row.name,
      email: body.email === undefined ? row.email : body.email,
    };
    if (next.name === row.name && next.email === row.email) return toCustomer(row);
    next.updated_at = ctx.clock();
    await trx('customers').where(where).update({ name: next.name, email: next.email, updated_at: next.updated_at });
    const customer = toCustomer(next);
    await appendToOutbox(trx, [
      buildEvent('customer.updated', {
        id: randomUUID(),
        organizationId: caller.organizationId,
        occurredAt: next.updated_at,
        producer: PRODUCER,
        data: customerData(customer),
      }),
    ]);
    return customer;
  });
}
