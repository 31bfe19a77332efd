import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jwtRevocationEntities } from 'nestjs-jwt-revocation';
import {
  InMemoryTokenStore,
  jwtRevocationEntitySet,
  tokenStoreContract,
  TypeOrmTokenStore,
  type ContractStore,
} from 'nestjs-jwt-revocation/testing';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { eachDatabase, type TestDatabase } from '../support/databases.js';

/** Jest's functions, handed to the contract (it imports no test runner). */
const jestApi = { describe, it, expect, beforeAll, afterAll };

/** The default store on a data source of its own, on a database emptied first. */
async function typeOrmStore(db: TestDatabase): Promise<ContractStore> {
  const { autoLoadEntities: _, ...options } = db.fresh() as Record<string, unknown>;
  const source = new DataSource({ ...options, entities: jwtRevocationEntities() } as DataSourceOptions);
  await source.initialize();
  return { store: new TypeOrmTokenStore(source, jwtRevocationEntitySet()), close: () => source.destroy() };
}

eachDatabase('TypeOrmTokenStore', (db) => {
  tokenStoreContract(`TypeOrmTokenStore [${db().name}]`, () => typeOrmStore(db()), jestApi);
});

tokenStoreContract(
  'InMemoryTokenStore',
  async () => ({ store: new InMemoryTokenStore(), close: async () => undefined }),
  jestApi,
);
