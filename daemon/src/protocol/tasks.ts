/** `tasks` namespace of the Cairn protocol. See define.ts for the declaration shape. */
import { z } from 'zod';
import { request } from './define.js';

export const TaskStatus = z.enum(['todo', 'in_progress', 'done', 'cancelled']);

export const Task = z.object({
  id: z.guid(),
  projectId: z.guid(),
  sessionId: z.guid().nullable().describe('The chat session the task came from, if an agent created it there.'),
  title: z.string(),
  description: z.string().nullable(),
  status: TaskStatus,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Task = z.infer<typeof Task>;

const ProjectScope = {
  projectId: z.guid().optional(),
  root: z.string().optional().describe('Workspace folder whose project is meant, when `projectId` is absent.'),
};

const task: Task = {
  id: '7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b',
  projectId: '0b8e2f4c-1d3a-4e5f-8a7b-9c0d1e2f3a4b',
  sessionId: null,
  title: 'Add a retry to the embeddings client',
  description: '429s from the provider abort indexing today.',
  status: 'todo',
  createdAt: '2026-11-22T01:10:00.000Z',
  updatedAt: '2026-11-22T01:10:00.000Z',
};

export const tasksRequests = {
  'tasks/list': request('tasks/list', {
    summary: 'Tasks of a project, optionally of one status.',
    params: z.object({ ...ProjectScope, status: TaskStatus.optional() }),
    result: z.object({ tasks: z.array(Task) }),
    errors: ['NotFound', 'InvalidInput'],
    example: { params: { root: '/home/ana/src/cairn', status: 'todo' }, result: { tasks: [task] } },
  }),
  'tasks/create': request('tasks/create', {
    summary: 'Creates a task in a project.',
    params: z.object({
      ...ProjectScope,
      title: z.string().min(1).max(300),
      description: z.string().max(20_000).optional(),
      sessionId: z.guid().optional(),
    }),
    result: Task,
    errors: ['NotFound', 'PermissionDenied', 'InvalidInput'],
    example: { params: { root: '/home/ana/src/cairn', title: task.title, description: task.description! }, result: task },
  }),
  'tasks/update': request('tasks/update', {
    summary: 'Changes the title, description or status of a task.',
    params: z.object({
      taskId: z.guid(),
      patch: z.object({ title: z.string().min(1).max(300), description: z.string().max(20_000).nullable(), status: TaskStatus }).partial(),
    }),
    result: Task,
    errors: ['NotFound', 'PermissionDenied', 'InvalidInput'],
    example: { params: { taskId: task.id, patch: { status: 'done' } }, result: { ...task, status: 'done' } },
  }),
} as const;

export const tasksNotifications = {} as const;
