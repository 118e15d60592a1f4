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
  'workspace/listProjects': request('workspace/listProjects', {
    summary: 'The projects the user can read (personal ones and their teams\'), by name: what a folder can be mapped to.',
    params: z.object({}),
    result: z.object({ projects: z.array(projectSchema) }),
    errors: ['NotSignedIn'],
    example: {
      params: {},
      result: { projects: [{ id: '3d0f6a43-0c2e-4f0e-9d36-0f1f9a3a7d21', name: 'cairn', teamId: '0b8e7c52-4f1a-4d7e-9a61-2c3d4e5f6a7b' }] },
    },
  }),
  'workspace/chooseProject': request('workspace/chooseProject', {
    summary:
      'Maps a workspace folder to a project the user can read (a fork or a folder without the team\'s git remote ' +
      'joins the team project), or forgets the choice with projectId null. Only this user\'s mapping changes; ' +
      'it falls back to the usual one if they lose access to the project. Returns the project the folder now maps to.',
    params: z.object({
      root: z.string().min(1).describe('Absolute path of the workspace folder.'),
      projectId: z.guid().nullable().describe('The project to map the folder to, or null to forget the choice.'),
    }),
    result: projectSchema,
    errors: ['NotSignedIn', 'NotFound', 'InvalidInput'],
    example: {
      params: { root: '/home/ada/src/cairn-fork', projectId: '3d0f6a43-0c2e-4f0e-9d36-0f1f9a3a7d21' },
      result: { id: '3d0f6a43-0c2e-4f0e-9d36-0f1f9a3a7d21', name: 'cairn', teamId: '0b8e7c52-4f1a-4d7e-9a61-2c3d4e5f6a7b' },
    },
  }),
} as const;

export const workspaceNotifications = {} as const;
