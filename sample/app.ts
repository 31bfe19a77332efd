import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import type { SampleConfig } from './config.js';
import { DatabaseUnavailableFilter } from './database-unavailable.filter.js';
import { startMetrics } from './metrics/metrics.js';
import { securityHeaders } from './security-headers.js';

/** Builds the sample app; main.ts and the e2e tests share it. */
export async function createApp(
  config: SampleConfig,
  logger?: LoggerService | LogLevel[] | false,
): Promise<INestApplication> {
  // Before the app: the module takes its meter as it starts.
  startMetrics();
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forConfig(config), {
    bodyParser: false,
    logger: logger ?? undefined,
  });
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  app.use(securityHeaders);
  // Small bodies only: nothing the API takes is bigger than a few hundred bytes.
  app.useBodyParser('json', { limit: '16kb' });
  app.useBodyParser('urlencoded', { limit: '16kb', extended: false });
  app.useGlobalFilters(new DatabaseUnavailableFilter());
  app.enableShutdownHooks();
  return app;
}
