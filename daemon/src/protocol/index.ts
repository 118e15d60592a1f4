/**
 * The Cairn protocol: every JSON-RPC method and notification, declared once. The daemon, the extension, the
 * webview and the CLI import their types from here (and only this module of the daemon: ARCHITECTURE.md,
 * invariant 2). To add a method: declare it in its namespace file with `request()`, register its handler in
 * the daemon, run `npm run gen:protocol` (regenerates docs/protocol.md and docs/protocol.schema.json; a test
 * fails while they are stale), add a test at the protocol boundary.
 */
import type { z } from 'zod';
import { coreRequests, coreNotifications } from './core.js';
import { authRequests, authNotifications } from './auth.js';
import { workspaceRequests, workspaceNotifications } from './workspace.js';
import { kbRequests, kbNotifications } from './kb.js';
import { sessionsRequests, sessionsNotifications } from './sessions.js';
import { chatRequests, chatNotifications } from './chat.js';
import { agentsRequests, agentsNotifications } from './agents.js';
import { teamsRequests, teamsNotifications } from './teams.js';
import { tasksRequests, tasksNotifications } from './tasks.js';
import { secretsRequests, secretsNotifications } from './secrets.js';
import { apiKeysRequests } from './api-keys.js';

export * from './define.js';
export * from './errors.js';
export * from './limits.js';

/** Bumped on any incompatible change to a method or notification. */
export const PROTOCOL_VERSION = 1;

export const requests = {
  ...coreRequests,
  ...authRequests,
  ...workspaceRequests,
  ...kbRequests,
  ...sessionsRequests,
  ...chatRequests,
  ...agentsRequests,
  ...teamsRequests,
  ...tasksRequests,
  ...secretsRequests,
  ...apiKeysRequests,
} as const;

export const notifications = {
  ...coreNotifications,
  ...authNotifications,
  ...workspaceNotifications,
  ...kbNotifications,
  ...sessionsNotifications,
  ...chatNotifications,
  ...agentsNotifications,
  ...teamsNotifications,
  ...tasksNotifications,
  ...secretsNotifications,
} as const;

export type Requests = typeof requests;
export type Notifications = typeof notifications;
export type RequestMethod = keyof Requests;
export type NotificationMethod = keyof Notifications;
/** Params as a client sends them (defaults optional). */
export type ParamsOf<M extends RequestMethod> = z.input<Requests[M]['params']>;
/** Params as a handler receives them, after validation and defaults. */
export type ParsedParamsOf<M extends RequestMethod> = z.output<Requests[M]['params']>;
export type ResultOf<M extends RequestMethod> = z.output<Requests[M]['result']>;
export type NotificationParamsOf<N extends NotificationMethod> = z.output<Notifications[N]['params']>;
