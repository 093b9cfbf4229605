// The DuckDB baseline of features_aggregate_bench: count, sum and mean of the amount over
// windows of k tiles as of each label's time, by window aggregates and ASOF JOIN.
//
//   node aggregate_duckdb.js --events=PATH --labels=PATH [--tile_micros=60000000]
//                            [--windows=60,1440] [--threads=N]
//
// Reads the raw files features_aggregate_bench writes (layout in tools/bench/aggregate_pandas.py)
// into in-memory tables (not timed; cached in a DuckDB database beside them for the next repeats), then times two statements. The window at as-of time T with
// S = floor(T/d)*d covers the events with time in [S - k*d, T] (the README's window semantics);
// count and sum are differences of running totals, so each window is two ASOF lookups:
//   1. per event, the running count and sum of the entity's amounts up to its time, a window
//      aggregate with the frame RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW (peers at the
//      same time included);
//   2. per label, ASOF LEFT JOIN those totals at T (time <= T) and, per window, at the window's
//      start (time < S - k*d); count = the difference, sum = the difference where count > 0
//      (else null), mean = sum / count; in the labels' order, fully materialized.
// On integer-valued amounts (as the benchmark draws them) every sum is exact, so the results
// equal pandas' bit for bit. Prints one JSON object on stdout, with the fields of
// aggregate_pandas.py (wall_s, cpu_s, peak_mib with VmHWM reset just before the timed phase,
// maxrss_mib, sha256 over content_hash.h's canonical bytes, rows) and threads.
'use strict';

const common = require('./bench_common');

async function main() {
  const flags = common.parseFlags(process.argv.slice(2));
  const tile = BigInt(flags.tile_micros || 60000000);
  const windows = (flags.windows || '60,1440').split(',').map((k) => BigInt(k));
  const duckdb = common.requireDuckDB();
  const instance = await duckdb.DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  if (flags.threads) await connection.run(`SET threads = ${Number(flags.threads)}`);
  await common.loadTables(duckdb, connection, `${flags.events}.duckdb`, [
    {
      name: 'events',
      path: flags.events,
      columns: [
        {name: 'entity', type: 'BIGINT'},
        {name: 'time', type: 'BIGINT'},
        {name: 'amount', type: 'DOUBLE'},
      ],
    },
    common.labelsSpec(flags.labels),
  ]);
  const threads = await common.numberLabels(connection);

  const running = `CREATE TEMP TABLE running AS
      SELECT entity, time, count(amount) OVER w AS n, coalesce(sum(amount) OVER w, 0) AS s
      FROM events
      WINDOW w AS (PARTITION BY entity ORDER BY time
                   RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`;
  const w = windows.map((k, i) => ({k, i}));
  const count = ({i}) => `coalesce(a.n, 0) - coalesce(b${i}.n, 0)`;
  const sum = ({i}) => `coalesce(a.s, 0) - coalesce(b${i}.s, 0)`;
  const joined = `CREATE TEMP TABLE result AS
      SELECT p.idx, p.entity, p.time, p.label,
             ${w.map((x) => `${count(x)} AS count_${x.i}`).join(', ')},
             ${w.map((x) => `CASE WHEN ${count(x)} > 0 THEN ${sum(x)} END AS sum_${x.i}`)
                 .join(', ')},
             ${w.map((x) => `CASE WHEN ${count(x)} > 0 THEN (${sum(x)}) / (${count(x)}) END
                             AS mean_${x.i}`).join(', ')}
      FROM (SELECT *, ${w.map((x) => `time // ${tile} * ${tile} - ${x.k * tile} AS start_${x.i}`)
                            .join(', ')}
            FROM labels) p
      ASOF LEFT JOIN running a ON p.entity = a.entity AND p.time >= a.time
      ${w.map(({i}) => `ASOF LEFT JOIN running b${i}
                        ON p.entity = b${i}.entity AND p.start_${i} > b${i}.time`).join('\n')}
      ORDER BY p.idx`;
  const figures = await common.timed(async () => {
    await connection.run(running);
    await connection.run(joined);
  });

  const hasher = new common.ContentHasher();
  let rows = 0;
  const n = windows.length;
  const result = await connection.stream('SELECT * FROM result ORDER BY idx');
  await common.forEachChunk(result, (columns, size) => {
    for (let r = 0; r < size; ++r) {
      hasher.row(columns[0][r], columns[1][r], columns[2][r], columns[3][r]);
      for (let c = 0; c < n; ++c) hasher.int64(columns[4 + c][r]);
      for (let c = n; c < 3 * n; ++c) hasher.double(columns[4 + c][r]);
    }
    rows += size;
  });
  common.printFigures({...figures, sha256: hasher.hexDigest(), rows, threads});
}

common.runMain(main);
