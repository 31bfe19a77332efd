// Run in an app that has no ioredis: setting `redis` must stop the boot with a
// message that names the option and the install command, not a bare
// ERR_MODULE_NOT_FOUND.
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JwtRevocationModule } from 'nestjs-jwt-revocation';

@Module({
  imports: [
    TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', autoLoadEntities: true, synchronize: true }),
    JwtRevocationModule.forRoot({ signing: { secret: process.env.JWT_SECRET! }, redis: 'redis://127.0.0.1:6379' }),
  ],
})
class RedisAppModule {}

async function main() {
  const app = await NestFactory.create(RedisAppModule, { logger: false, abortOnError: false });
  await app.init(); // the bus opens with the app's lifecycle hooks
  await app.close();
  console.log('booted with redis set and no ioredis installed');
}
main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
