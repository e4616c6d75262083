// Fixed ids of the reference scenario (CloudAI, API_CALL, plan Pro, customer user_123, March
// 2025), shared by the examples of every event type so they tell one consistent story.
import { EXAMPLE_ORGANIZATION_ID } from '../event-definition';

/** Ids used by the catalog's examples. */
export const EXAMPLE_IDS = Object.freeze({
  organization: EXAMPLE_ORGANIZATION_ID,
  ownerUser: '7f3516b4-3b47-4516-b3ec-0dd9b3df9963',
  adminUser: '76f4e0d2-31a6-431e-b49c-7c8c02f9a2d4',
  invitation: 'd325e962-8d80-4798-b20e-7c8445a8a970',
  apiKey: '5312e20d-734a-4a82-a42c-f451bc820c62',
  subscription: '974ebc8e-25b6-403c-bf8e-838c1d977c08',
  testClock: '072e9aa5-c191-48d4-a29a-36d0bd697388',
  invoice: 'd6088aa3-1df2-4251-9110-f4bd73c9dc0a',
  aprilInvoice: 'b0d4370d-70cd-448e-a0bf-6a9bf7da0ad0',
  declinedPayment: '5c38fc3f-be1a-4306-ba50-1854a4fcd522',
  payment: 'aba2ade1-9773-471b-a8bd-b1cdaabf7278',
});

/** The customer of the reference scenario (the organization's own id for it). */
export const EXAMPLE_CUSTOMER_ID = 'user_123';

/** A distinct, recognizable envelope id for the n-th example. */
export function exampleEventId(n: number): string {
  return `e0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}
