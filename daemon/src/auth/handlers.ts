/**
 * The auth subsystem: `auth/setSession` and `auth/signOut` (team-mode sign-in hand-over and store switch;
 * `auth/status` is a core method), and `auth/deleteAccount` (the user deletes their own account, then signs out).
 */
import { RpcError } from '../protocol/errors.js';
import { actingStatus, publicUser } from './acting.js';
import type { DaemonDeps, HandlerRegistry, Subsystem } from '../rpc/registry.js';
import { SwitchableStore } from '../store/switchable.js';
import { TeamAuth, type TeamAuthOptions } from './team-auth.js';

export interface AuthSubsystemOptions {
  env?: NodeJS.ProcessEnv;
  refreshDeadlineMs?: number;
  realtime?: TeamAuthOptions['realtime'];
  /** Run on a team store before it becomes current (TeamAuthOptions.sweepInterrupted). */
  sweepInterrupted?: TeamAuthOptions['sweepInterrupted'];
}

function positiveInt(value: string | undefined): number | undefined {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Realtime heartbeat from the environment: tests shorten it to notice a dropped socket in seconds. */
function realtimeFromEnv(env: NodeJS.ProcessEnv): TeamAuthOptions['realtime'] {
  const ms = positiveInt(env.CAIRN_REALTIME_HEARTBEAT_MS);
  return ms ? { heartbeatIntervalMs: ms } : undefined;
}

export function createAuthSubsystem(options: AuthSubsystemOptions = {}): Subsystem {
  return async (registry: HandlerRegistry, deps: DaemonDeps) => {
    const env = options.env ?? process.env;
    const store = deps.store instanceof SwitchableStore ? deps.store : null;
    if (store) {
      store.onSubscribeError = (err) =>
        deps.log.warn('live updates paused: the store refused the change feed (retried on the next token hand-over)', {
          error: err instanceof Error ? err.message : String(err),
        });
    }
    const refreshDeadlineMs = options.refreshDeadlineMs ?? positiveInt(env.CAIRN_TOKEN_REFRESH_DEADLINE_MS);
    const realtime = options.realtime ?? realtimeFromEnv(env);
    const auth = store
      ? new TeamAuth({
          store,
          hub: deps.hub,
          log: deps.log,
          env,
          ...(refreshDeadlineMs ? { refreshDeadlineMs } : {}),
          ...(realtime ? { realtime } : {}),
          ...(options.sweepInterrupted ? { sweepInterrupted: options.sweepInterrupted } : {}),
        })
      : null;
    const teamAuth = (): TeamAuth => {
      if (!auth) throw new RpcError('NotImplementedInStore', 'This daemon was started without a switchable store, so it cannot sign in to a team project');
      return auth;
    };

    // Who the daemon acts as, to tell every client (`auth/changed`) when a hand-over or sign-out changed it.
    const acting = () => actingStatus(deps.store);
    const announceIfChanged = (before: ReturnType<typeof acting>) => {
      const now = acting();
      if (now.store !== before.store || now.user?.id !== before.user?.id) deps.hub.publish('auth', 'auth/changed', now);
    };

    registry.handle('auth/setSession', async (p) => {
      const before = acting();
      const signedIn = await teamAuth().setSession(p);
      announceIfChanged(before);
      return signedIn;
    });
    registry.handle('auth/signOut', async () => {
      const before = acting();
      await teamAuth().signOut();
      announceIfChanged(before);
      return { store: store!.localMode, user: publicUser(deps.store) };
    });
    registry.handle('auth/deleteAccount', async (p) => {
      const team = store?.mode === 'supabase' ? store.teamStore : null;
      if (!store || !team) {
        throw new RpcError('NotImplementedInStore', 'Only an account of a team project can be deleted; the local store has one local user, who is not deleted');
      }
      const me = team.user();
      if (!me) throw new RpcError('NotSignedIn', 'No user is signed in to the team project');
      if (!me.email || me.email.trim().toLowerCase() !== p.email.trim().toLowerCase()) {
        throw new RpcError('InvalidInput', "The email typed to confirm is not the signed-in account's: nothing was deleted", { field: 'email' });
      }
      const before = acting();
      await team.rpc('delete_my_account', {});
      deps.log.info('account deleted by its owner; signing out', { user: me.id });
      await teamAuth().signOut();
      announceIfChanged(before);
      return { deleted: true as const, store: store.localMode, user: publicUser(deps.store) };
    });

    return {
      async dispose() {
        auth?.dispose();
      },
    };
  };
}
