import { describe, expect, it } from '@jest/globals';
import { assertDatabaseDriver, assertDriverInstalled } from 'nestjs-jwt-revocation/testing';

describe('the driver a database URL needs', () => {
  it('passes for each URL kind whose driver is installed (better-sqlite3, pg, mysql2)', () => {
    for (const url of [
      'sqlite:/tmp/x.db',
      'postgres://u@h/d',
      'postgresql://u@h/d',
      'mysql://u@h/d',
      'mariadb://u@h/d',
    ]) {
      expect(() => assertDatabaseDriver(url)).not.toThrow();
    }
  });

  it('leaves a URL of no known kind to dataSourceOptionsFromUrl', () => {
    expect(() => assertDatabaseDriver('mongodb://h/d')).not.toThrow();
  });

  it('names the variable, the database, the driver and the install command when none resolves', () => {
    expect(() => assertDriverInstalled('DATABASE_URL', 'PostgreSQL', ['nestjs-jwt-revocation-no-such-driver'])).toThrow(
      new Error(
        'DATABASE_URL is a PostgreSQL URL, which needs the nestjs-jwt-revocation-no-such-driver driver: ' +
          'npm install nestjs-jwt-revocation-no-such-driver',
      ),
    );
  });

  it('is satisfied by any one of the packages (TypeORM 0.3 takes mysql or mysql2), and asks for the first', () => {
    expect(() =>
      assertDriverInstalled('DATABASE_URL', 'MariaDB', ['nestjs-jwt-revocation-no-such-driver', 'mysql2']),
    ).not.toThrow();
    expect(() =>
      assertDriverInstalled('DATABASE_URL', 'MariaDB', ['nestjs-jwt-revocation-no-such-driver', 'mysql']),
    ).toThrow('DATABASE_URL is a MariaDB URL, which needs the nestjs-jwt-revocation-no-such-driver driver');
  });
});
