/** `auth` namespace of the Cairn protocol. See define.ts for the declaration shape. */
import { z } from 'zod';
import { request, notification } from './define.js';

export const authRequests = {
} as const;

export const authNotifications = {
} as const;
