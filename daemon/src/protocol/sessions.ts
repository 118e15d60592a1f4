/** `sessions` namespace of the Cairn protocol. See define.ts for the declaration shape. */
import { z } from 'zod';
import { request, notification } from './define.js';

export const sessionsRequests = {
} as const;

export const sessionsNotifications = {
} as const;
