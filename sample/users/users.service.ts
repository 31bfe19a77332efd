import { ConflictException, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { QueryFailedError, type Repository } from 'typeorm';
import { DUMMY_HASH, hashPassword, verifyPassword } from './password.js';
import { User } from './user.entity.js';

/** Unique-key violation on PostgreSQL, MySQL/MariaDB and SQLite. */
function isDuplicate(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const code = (error.driverError as { code?: string } | undefined)?.code;
  return code === '23505' || code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

@Injectable()
export class UsersService {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  async register(username: string, password: string): Promise<User> {
    if (await this.users.existsBy({ username })) throw new ConflictException('Username is taken');
    const user = this.users.create({ id: randomUUID(), username, passwordHash: await hashPassword(password), createdAt: Date.now() });
    try {
      await this.users.insert(user);
    } catch (error) {
      // Two registrations racing for one name: the unique index decides.
      if (isDuplicate(error)) throw new ConflictException('Username is taken');
      throw error;
    }
    return user;
  }

  /** The user, or null for an unknown name or a wrong password (indistinguishable, also in time). */
  async authenticate(username: string, password: string): Promise<User | null> {
    const user = await this.users.findOneBy({ username });
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    return user && ok ? user : null;
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  exists(id: string): Promise<boolean> {
    return this.users.existsBy({ id });
  }

  async changePassword(id: string, password: string): Promise<void> {
    await this.users.update({ id }, { passwordHash: await hashPassword(password) });
  }

  async remove(id: string): Promise<void> {
    await this.users.delete({ id });
  }
}
