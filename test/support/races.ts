/**
 * How many rounds a race test plays: RACE_ROUNDS, or 10 (what CI runs). The
 * long run: `RACE_ROUNDS=50 npm run test:jest -- race` (see README "Tests").
 */
export function raceRounds(): number {
  const rounds = Number(process.env.RACE_ROUNDS ?? 10);
  if (!Number.isSafeInteger(rounds) || rounds < 1)
    throw new Error(`RACE_ROUNDS must be a positive whole number, got ${process.env.RACE_ROUNDS}`);
  return rounds;
}
