import { KeyRing, type TokenStore } from 'nestjs-jwt-revocation';
import {
  CredentialFingerprint,
  PollingBus,
  RevocationSync,
  SubjectValidator,
  type JwtRevocationConfig,
  type RevocationState,
} from 'nestjs-jwt-revocation/testing';

/** RevocationSync as the module builds it, on the polling bus, for a unit test that drives one by hand. */
export function pollingSync(config: JwtRevocationConfig, store: TokenStore, state: RevocationState): RevocationSync {
  return new RevocationSync(
    config,
    store,
    state,
    new PollingBus(),
    new SubjectValidator(config),
    new CredentialFingerprint(config, new KeyRing(config)),
  );
}
