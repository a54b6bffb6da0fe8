import pg from 'pg';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * Parses an integer that PostgreSQL sent as text (BIGINT, or NUMERIC such as `SUM(bigint)`) into a JS number,
 * throwing rather than losing precision above `Number.MAX_SAFE_INTEGER`.
 */
export function parseSafeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(
      `Integer ${text} from PostgreSQL is outside JavaScript's safe range (±${Number.MAX_SAFE_INTEGER})`,
    );
  }
  return value;
}

function parseNumeric(text: string): number {
  // Integer-valued NUMERIC (SUM over BIGINT money columns) must be exact; fractional NUMERIC (AVG) becomes a
  // float, as SQLite's REAL results are.
  return /^-?\d+$/.test(text) ? parseSafeInteger(text) : Number(text);
}

/**
 * Type parsers for our pools: BIGINT and NUMERIC come back as numbers, as they do from SQLite. The overrides
 * are per pool, so other users of `pg` in the same process keep pg's defaults.
 */
function typeOverrides(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, 'text', parseSafeInteger);
  types.setTypeParser(NUMERIC_OID, 'text', parseNumeric);
  return types;
}

/** Creates a pg Pool for `connectionString` with our type parsers. */
export function createPool(connectionString: string, poolSize: number | undefined): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: poolSize ?? 10, types: typeOverrides() });
  // An idle client that loses its connection (server restart, network) emits 'error' on the pool; without a
  // listener Node would crash the process. The pool discards that client and the next query reconnects.
  pool.on('error', () => {});
  return pool;
}
