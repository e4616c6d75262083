// Periodic upkeep: rotate signing keys on schedule, forget old login failures.
import type { IdentityContext } from './context';
import type { KeyRing } from './key-ring';

/** Runs `tick` now and every `intervalMs` until stopped; a failed tick is logged and retried. */
export function maintenanceWorker(ctx: IdentityContext, keys: KeyRing, intervalMs = 60_000) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      await keys.rotate();
      const horizon = new Date(ctx.clock().getTime() - 2 * ctx.config.loginLimits.windowMs);
      await ctx.db('login_failures').where('window_start', '<', horizon).delete();
    } catch (err) {
      ctx.logger.error({ err }, 'identity maintenance failed; retrying at the next tick');
    }
  };
  return {
    name: 'identity-maintenance',
    start() {
      timer = setInterval(() => {
        running = tick();
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
