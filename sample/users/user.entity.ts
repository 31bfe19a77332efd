import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('sample_user')
export class User {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 64, unique: true })
  username!: string;

  /** scrypt$ln=17,r=8,p=1$<salt>$<hash>, base64url (see password.ts); older rows: scrypt$<salt>$<hash>. */
  @Column({ name: 'password_hash', type: 'varchar', length: 200 })
  passwordHash!: string;

  @Column({
    name: 'created_at',
    type: 'bigint',
    transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) },
  })
  createdAt!: number;
}
