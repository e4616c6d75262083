import { LoadingCache } from './cache';

describe('LoadingCache', () => {
  let now = 0;
  const cache = () => new LoadingCache<string>(10, () => now);
  const ttl = (ms: number) => (_: string, startedAt: number) => startedAt + ms;

  beforeEach(() => {
    now = 0;
  });

  it('shares one load between concurrent callers of a key', async () => {
    const c = cache();
    const load = jest.fn(async () => 'v');
    const values = await Promise.all([1, 2, 3].map(() => c.get('k', load, ttl(100))));
    expect(values).toEqual(['v', 'v', 'v']);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('counts the TTL from the start of the load and expires by the injected clock', async () => {
    const c = cache();
    const load = jest.fn(async () => {
      now += 40; // a slow store
      return 'v';
    });
    await c.get('k', load, ttl(100));
    now = 99;
    await c.get('k', load, ttl(100));
    expect(load).toHaveBeenCalledTimes(1);
    now = 100;
    await c.get('k', load, ttl(100));
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('does not keep what a load read before clear(): it may predate the change', async () => {
    const c = cache();
    let release!: (v: string) => void;
    const stale = c.get('k', () => new Promise<string>((r) => (release = r)), ttl(100));
    c.clear();
    release('old');
    expect(await stale).toBe('old');
    expect(await c.get('k', async () => 'new', ttl(100))).toBe('new');
  });

  it('does not cache failures', async () => {
    const c = cache();
    await expect(c.get('k', async () => Promise.reject(new Error('db down')), ttl(100))).rejects.toThrow('db down');
    expect(await c.get('k', async () => 'v', ttl(100))).toBe('v');
  });

  it('evicts the oldest entry when full', async () => {
    const c = new LoadingCache<string>(2, () => now);
    for (const k of ['a', 'b', 'c']) await c.get(k, async () => k, ttl(100));
    expect(c.size).toBe(2);
    const load = jest.fn(async () => 'a2');
    expect(await c.get('a', load, ttl(100))).toBe('a2');
    expect(await c.get('c', async () => 'c2', ttl(100))).toBe('c');
  });
});
