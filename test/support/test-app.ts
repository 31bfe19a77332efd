import 'reflect-metadata';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';

/** A new, empty SQLite file in its own temp directory. */
export function tempSqliteFile(prefix = 'jwt-revocation-guard-'): string {
  return join(mkdtempSync(join(tmpdir(), prefix)), 'test.sqlite');
}

export interface RunningTestApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  close(): Promise<void>;
}

/** A small app built in the test from module metadata, listening on a real socket. */
export async function startTestApp(metadata: ModuleMetadata): Promise<RunningTestApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  return { app, http: request(app.getHttpServer()), close: () => app.close() };
}
