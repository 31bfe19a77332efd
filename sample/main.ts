import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { createApp } from './app.js';
import { configFromEnv } from './config.js';

const config = configFromEnv();
if (config.database.type === 'better-sqlite3') {
  const file = String(config.database.database);
  const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
  if (dir) mkdirSync(dir, { recursive: true });
}
const app = await createApp(config);
await app.listen(config.port);
new Logger('Sample').log(`listening on http://localhost:${config.port}`);
