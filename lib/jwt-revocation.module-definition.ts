import { ConfigurableModuleBuilder } from '@nestjs/common';
import type {
  JwtRevocationModuleExtras,
  JwtRevocationModuleOptions,
} from './interfaces/jwt-revocation-module-options.interface.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: JWT_REVOCATION_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<JwtRevocationModuleOptions>({ moduleName: 'JwtRevocation' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createJwtRevocationOptions')
  // Extras are read while the module is defined (TypeOrmModule.forFeature
  // needs the data source and the tables then), so they are never the result
  // of an async factory. See jwt-revocation.module.ts for how they are used.
  .setExtras<JwtRevocationModuleExtras>(
    { isGlobal: false, dataSource: undefined, tableNames: undefined, store: undefined },
    (definition) => definition,
  )
  .build();
