/** `kb` namespace of the Cairn protocol. See define.ts for the declaration shape. */
import { z } from 'zod';
import { request, notification } from './define.js';

export const kbRequests = {
} as const;

export const kbNotifications = {
} as const;
