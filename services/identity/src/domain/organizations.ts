// The rules of changing an organization. Pure: the caller loads the organization (locked) and
// applies what this decides.
import type { OrganizationSettings, UpdateOrganizationBody } from '@usageflow/contracts';

/** What of an organization its owner may change: its name and settings. */
export interface OrganizationState {
  name: string;
  settings: OrganizationSettings;
}

/**
 * Applies a partial update to the organization's state. Returns the complete new state, or
 * undefined when the update changes nothing (nothing to write, no event).
 */
export function decideOrganizationUpdate(
  current: OrganizationState,
  change: UpdateOrganizationBody,
): OrganizationState | undefined {
  const next: OrganizationState = {
    name: change.name ?? current.name,
    settings: { unknownMetrics: change.settings?.unknownMetrics ?? current.settings.unknownMetrics },
  };
  const unchanged = next.name === current.name && next.settings.unknownMetrics === current.settings.unknownMetrics;
  return unchanged ? undefined : next;
}
