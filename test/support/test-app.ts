import 'reflect-metadata';
import { describe } from '@jest/globals';
import type { INestApplication, ModuleMetadata, NestApplicationOptions } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { testLogs } from './logs.js';

/** The HTTP platforms a Nest app runs on; the guard must work the same on both. */
export type HttpAdapterName = 'express' | 'fastify';
export const HTTP_ADAPTERS: readonly HttpAdapterName[] = ['express', 'fastify'];

/** Runs a suite once per HTTP adapter, the adapter's name in its title. */
export function eachAdapter(title: string, suite: (adapter: HttpAdapterName) => void): void {
  for (const adapter of HTTP_ADAPTERS) describe(`${title} [${adapter}]`, () => suite(adapter));
}

export interface RunningTestApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** The HTTP platform: Express (Nest's default) unless given. */
  adapter?: HttpAdapterName;
}

/** A small app built in the test from module metadata, listening on a real socket; it logs to `testLogs`. */
export async function startTestApp(
  metadata: ModuleMetadata,
  { adapter = 'express' }: TestAppOptions = {},
): Promise<RunningTestApp> {
  const moduleRef = await Test.createTestingModule(metadata).setLogger(testLogs).compile();
  const options: NestApplicationOptions = { logger: testLogs };
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), options)
      : moduleRef.createNestApplication(options);
  await app.listen(0, '127.0.0.1');
  return { app, http: request(app.getHttpServer()), close: () => app.close() };
}
