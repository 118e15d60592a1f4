/** `workspace` namespace of the Cairn protocol. See define.ts for the declaration shape. */
import { z } from 'zod';
import { request } from './define.js';

export const projectSchema = z.object({
  id: z.string(),
  name: z.string(),
  teamId: z.string().nullable(),
});

export const workspaceRequests = {
  'workspace/resolveProject': request('workspace/resolveProject', {
    summary:
      'The project of a workspace folder, created on first use: the same git remote maps to the same project for every teammate; a plain folder gets a personal project.',
    params: z.object({ root: z.string().min(1).describe('Absolute path of the workspace folder.') }),
    result: projectSchema,
    errors: ['NotSignedIn', 'PermissionDenied'],
    example: {
      params: { root: '/home/ada/src/cairn' },
      result: { id: '3d0f6a43-0c2e-4f0e-9d36-0f1f9a3a7d21', name: 'cairn', teamId: null },
    },
  }),
} as const;

export const workspaceNotifications = {} as const;
