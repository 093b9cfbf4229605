// The DuckDB baseline of features_join_bench: the same point-in-time join by ASOF JOIN.
//
//   node pit_join_duckdb.js --history=PATH --labels=PATH --features=N --ttl_micros=N
//                           [--threads=N]
//
// Reads the raw files features_join_bench writes (layout in tools/bench/pit_join_pandas.py) into
// in-memory tables (not timed; cached in a DuckDB database beside them for the next repeats), then times one query: the labels ASOF LEFT JOIN the history on
// entity and time (the newest row at or before the label), the features nulled where that row
// is older than the TTL (inclusive, as merge_asof's tolerance), in the labels' order, fully
// materialized. Prints one JSON object on stdout, with the fields of pit_join_pandas.py:
// wall_s, cpu_s, join_peak_mib (VmHWM reset just before the query, so it counts the loaded
// tables and what the query allocates), maxrss_mib (the whole process), sha256 (content_hash.h's
// canonical bytes, not timed), rows; and threads (DuckDB's worker threads).
'use strict';

const common = require('./bench_common');

async function main() {
  const flags = common.parseFlags(process.argv.slice(2));
  const features = Number(flags.features || 20);
  const ttl = BigInt(flags.ttl_micros);
  const duckdb = common.requireDuckDB();
  const instance = await duckdb.DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  if (flags.threads) await connection.run(`SET threads = ${Number(flags.threads)}`);
  const names = Array.from({length: features}, (_, f) => `f${f}`);
  await common.loadTables(duckdb, connection, `${flags.history}.duckdb`, [
    {
      name: 'history',
      path: flags.history,
      columns: [
        {name: 'entity', type: 'BIGINT'},
        {name: 'time', type: 'BIGINT'},
        ...names.map((name) => ({name, type: 'FLOAT'})),
      ],
    },
    common.labelsSpec(flags.labels),
  ]);
  const threads = await common.numberLabels(connection);

  const fresh = `h.time >= l.time - ${ttl}`;
  const query = `CREATE TEMP TABLE joined AS
      SELECT l.idx, l.entity, l.time, l.label,
             ${names.map((n) => `CASE WHEN ${fresh} THEN h.${n} END AS ${n}`).join(', ')}
      FROM labels l ASOF LEFT JOIN history h ON l.entity = h.entity AND l.time >= h.time
      ORDER BY l.idx`;
  const figures = await common.timed(() => connection.run(query));

  const hasher = new common.ContentHasher();
  let rows = 0;
  const result = await connection.stream('SELECT * FROM joined ORDER BY idx');
  await common.forEachChunk(result, (columns, n) => {
    for (let i = 0; i < n; ++i) {
      hasher.row(columns[0][i], columns[1][i], columns[2][i], columns[3][i]);
      for (let f = 0; f < features; ++f) hasher.float(columns[4 + f][i]);
    }
    rows += n;
  });
  common.printFigures({
    wall_s: figures.wall_s,
    cpu_s: figures.cpu_s,
    join_peak_mib: figures.peak_mib,
    sha256: hasher.hexDigest(),
    rows,
    threads,
  });
}

common.runMain(main);
