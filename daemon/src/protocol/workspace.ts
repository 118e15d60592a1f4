/** `workspace` namespace of the Cairn protocol. See define.ts for the declaration shape. */
import { z } from 'zod';
import { request, notification } from './define.js';

export const workspaceRequests = {
} as const;

export const workspaceNotifications = {
} as const;
