import { decideOrganizationUpdate, type OrganizationState } from './organizations';

const cloudAi: OrganizationState = { name: 'CloudAI', settings: { unknownMetrics: 'REFUSE' } };

describe('organization updates', () => {
  it('given the default settings, when unknownMetrics becomes ACCEPT, then the whole new state, name kept', () => {
    expect(decideOrganizationUpdate(cloudAi, { settings: { unknownMetrics: 'ACCEPT' } })).toEqual({
      name: 'CloudAI',
      settings: { unknownMetrics: 'ACCEPT' },
    });
  });

  it('given a rename alone, then the settings are kept', () => {
    expect(decideOrganizationUpdate(cloudAi, { name: 'CloudAI Labs' })).toEqual({
      name: 'CloudAI Labs',
      settings: { unknownMetrics: 'REFUSE' },
    });
  });

  it('given both, then both change', () => {
    expect(decideOrganizationUpdate(cloudAi, { name: 'Labs', settings: { unknownMetrics: 'ACCEPT' } })).toEqual({
      name: 'Labs',
      settings: { unknownMetrics: 'ACCEPT' },
    });
  });

  it('given the values the organization already has, then nothing changes', () => {
    expect(decideOrganizationUpdate(cloudAi, { settings: { unknownMetrics: 'REFUSE' } })).toBeUndefined();
    expect(decideOrganizationUpdate(cloudAi, { name: 'CloudAI' })).toBeUndefined();
    expect(
      decideOrganizationUpdate(cloudAi, { name: 'CloudAI', settings: { unknownMetrics: 'REFUSE' } }),
    ).toBeUndefined();
  });

  it('given a name differing only in case, then it is a rename', () => {
    expect(decideOrganizationUpdate(cloudAi, { name: 'cloudai' })?.name).toBe('cloudai');
  });
});
