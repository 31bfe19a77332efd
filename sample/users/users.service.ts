import { ConflictException, Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { QueryFailedError, type Repository } from 'typeorm';
import {
  dummyHash,
  hashPassword,
  needsRehash,
  PASSWORD_HASH_COST,
  scryptParams,
  verifyPassword,
  type ScryptParams,
} from './password.js';
import { User } from './user.entity.js';

/** Unique-key violation on PostgreSQL, MySQL/MariaDB and SQLite. */
function isDuplicate(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const code = (error.driverError as { code?: string } | undefined)?.code;
  return (
    code === '23505' ||
    code === 'ER_DUP_ENTRY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

@Injectable()
export class UsersService {
  private readonly logger = new Logger('Users');
  private readonly hashParams: ScryptParams;
  private readonly dummyHash: string;

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @Inject(PASSWORD_HASH_COST) hashCost: number,
  ) {
    this.hashParams = scryptParams(hashCost);
    this.dummyHash = dummyHash(this.hashParams);
  }

  async register(username: string, password: string): Promise<User> {
    if (await this.users.existsBy({ username })) throw new ConflictException('Username is taken');
    const user = this.users.create({
      id: randomUUID(),
      username,
      passwordHash: await hashPassword(password, this.hashParams),
      createdAt: Date.now(),
    });
    try {
      await this.users.insert(user);
    } catch (error) {
      // Two registrations racing for one name: the unique index decides.
      if (isDuplicate(error)) throw new ConflictException('Username is taken');
      throw error;
    }
    return user;
  }

  /**
   * The user, or null for an unknown name or a wrong password (indistinguishable, also in time).
   * A right password stored with weaker parameters than today's is hashed again: the only moment
   * the plain password is at hand.
   */
  async authenticate(username: string, password: string): Promise<User | null> {
    const user = await this.users.findOneBy({ username });
    const ok = await verifyPassword(password, user?.passwordHash ?? this.dummyHash);
    if (!user || !ok) return null;
    if (needsRehash(user.passwordHash, this.hashParams)) await this.rehash(user, password);
    return user;
  }

  private async rehash(user: User, password: string): Promise<void> {
    const upgraded = await hashPassword(password, this.hashParams);
    try {
      // Only over the hash just checked: a password changed meanwhile must not come back.
      const result = await this.users.update(
        { id: user.id, passwordHash: user.passwordHash },
        { passwordHash: upgraded },
      );
      if (result.affected !== 0) user.passwordHash = upgraded;
    } catch (error) {
      // The login itself is sound; the next one tries again.
      this.logger.warn(`could not upgrade the password hash of user ${user.id}: ${(error as Error).message}`);
    }
  }

  /** The id behind a username, or null; reads no password hash. */
  async idOf(username: string): Promise<string | null> {
    const user = await this.users.findOne({ where: { username }, select: { id: true } });
    return user?.id ?? null;
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  exists(id: string): Promise<boolean> {
    return this.users.existsBy({ id });
  }

  async changePassword(id: string, password: string): Promise<void> {
    await this.users.update({ id }, { passwordHash: await hashPassword(password, this.hashParams) });
  }

  async remove(id: string): Promise<void> {
    await this.users.delete({ id });
  }
}
