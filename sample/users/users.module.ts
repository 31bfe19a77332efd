import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PASSWORD_HASH_COST } from './password.js';
import { User } from './user.entity.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([User])],
  providers: [UsersService],
  exports: [UsersService],
})
export class UsersModule {
  /** Import the returned module everywhere UsersService is needed: one object, so one UsersService. */
  static forRoot(options: { passwordHashCost: number }): DynamicModule {
    return { module: UsersModule, providers: [{ provide: PASSWORD_HASH_COST, useValue: options.passwordHashCost }] };
  }
}
