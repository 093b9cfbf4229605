// What the DuckDB baselines of the feature store benchmarks share: opening DuckDB (or saying
// clearly how to install it), loading the benchmarks' raw little-endian files into tables
// (untimed), the process's peak memory, and the canonical bytes of
// libs/features/storage/content_hash.h that the result checksums are taken over.
'use strict';

const fs = require('fs');
const crypto = require('crypto');

// The package is installed by tools/setup (npm ci in tools/bench/duckdb); without it the
// benchmarks cannot run their DuckDB baseline, so say how to get it.
function requireDuckDB() {
  try {
    return require('@duckdb/node-api');
  } catch (error) {
    process.stderr.write(
        'DuckDB is not installed: run tools/setup, or `npm ci` in tools/bench/duckdb ' +
        `(${error.message.split('\n')[0]})\n`);
    process.exit(3);
  }
}

// Peak resident memory of this process (VmHWM), in MiB.
function vmHwmMib() {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const match = /VmHWM:\s+(\d+)/.exec(status);
  return match ? Number(match[1]) / 1024 : -1;
}

// Resets VmHWM to the current resident size (Linux >= 4.0), so that a phase's peak can be read.
function resetPeakRss() {
  fs.writeFileSync('/proc/self/clear_refs', '5');
}

// Reads `path`, records of `columns` ({name, type: 'BIGINT' | 'FLOAT' | 'DOUBLE'}) packed
// little-endian without padding, into a new table `table` (a NaN float is a null), a vector of
// rows at a time so that no copy of the whole file is held.
async function loadTable(duckdb, connection, table, path, columns) {
  const sizes = {BIGINT: 8, FLOAT: 4, DOUBLE: 8};
  const offsets = [];
  let recordBytes = 0;
  for (const column of columns) {
    offsets.push(recordBytes);
    recordBytes += sizes[column.type];
  }
  await connection.run(`CREATE OR REPLACE TABLE ${table} (${
      columns.map((c) => `${c.name} ${c.type}`).join(', ')})`);
  const appender = await connection.createAppender(table);
  const types = columns.map((c) => ({
                              BIGINT: duckdb.BIGINT,
                              FLOAT: duckdb.FLOAT,
                              DOUBLE: duckdb.DOUBLE,
                            })[c.type]);
  const vectorRows = 2048;
  const block = Buffer.alloc(recordBytes * vectorRows);
  const fd = fs.openSync(path, 'r');
  let rows = 0;
  for (;;) {
    const bytes = fs.readSync(fd, block, 0, block.length, null);
    const n = Math.floor(bytes / recordBytes);
    if (n === 0) break;
    const view = new DataView(block.buffer, block.byteOffset, n * recordBytes);
    const chunk = duckdb.DuckDBDataChunk.create(types, n);
    columns.forEach((column, c) => {
      const vector = chunk.getColumnVector(c);
      const items = vector.items;
      const at = offsets[c];
      if (column.type === 'BIGINT') {
        for (let i = 0; i < n; ++i) items[i] = view.getBigInt64(i * recordBytes + at, true);
      } else {
        const read = column.type === 'FLOAT' ? (o) => view.getFloat32(o, true) :
                                               (o) => view.getFloat64(o, true);
        for (let i = 0; i < n; ++i) {
          const value = read(i * recordBytes + at);
          if (Number.isNaN(value)) {
            vector.setItem(i, null);
          } else {
            items[i] = value;
          }
        }
      }
      vector.flush();
    });
    appender.appendDataChunk(chunk);
    rows += n;
    if (bytes < block.length) break;
  }
  fs.closeSync(fd);
  appender.closeSync();
  return rows;
}

// Loads each of `tables` ({name, path, columns} as loadTable takes them) into an in-memory table.
// The first load of a set of files also saves them to the DuckDB database `cache` beside them;
// later runs (each repeat is a fresh process) copy the tables from it, which DuckDB does in
// parallel and much faster than the rows can be appended. A cache older than any file is
// rebuilt.
async function loadTables(duckdb, connection, cache, tables) {
  const fresh = fs.existsSync(cache) &&
      tables.every((t) => fs.statSync(t.path).mtimeMs <= fs.statSync(cache).mtimeMs);
  if (fresh) {
    await connection.run(`ATTACH '${cache}' AS cache (READ_ONLY)`);
    for (const t of tables) {
      await connection.run(`CREATE TABLE ${t.name} AS SELECT * FROM cache.${t.name}`);
    }
    await connection.run('DETACH cache');
    return;
  }
  fs.rmSync(cache, {force: true});
  fs.rmSync(`${cache}.wal`, {force: true});
  for (const t of tables) await loadTable(duckdb, connection, t.name, t.path, t.columns);
  await connection.run(`ATTACH '${cache}' AS cache`);
  for (const t of tables) {
    await connection.run(`CREATE TABLE cache.${t.name} AS SELECT * FROM ${t.name}`);
  }
  await connection.run('DETACH cache');
}

// The SHA-256 of content_hash.h's canonical bytes, fed one row at a time:
//   row(index, entity, time, label) then a value per feature, in output order.
// Keys are "cust%08d" (features_*_bench's entity keys).
class ContentHasher {
  constructor() {
    this.hash = crypto.createHash('sha256');
    this.buffer = Buffer.alloc(1 << 20);
    this.used = 0;
  }
  room(bytes) {
    if (this.used + bytes > this.buffer.length) {
      this.hash.update(this.buffer.subarray(0, this.used));
      this.used = 0;
    }
  }
  row(index, entity, time, label) {
    this.room(64);
    const b = this.buffer;
    this.used = b.writeBigInt64LE(BigInt(index), this.used);
    this.used = b.writeUInt32LE(12, this.used);
    this.used += b.write('cust', this.used, 'latin1');
    this.used += b.write(String(entity).padStart(8, '0'), this.used, 'latin1');
    this.used = b.writeBigInt64LE(BigInt(time), this.used);
    b[this.used++] = 0;
    this.used = b.writeBigInt64LE(BigInt(label), this.used);
  }
  // One feature: null, or present with its type's bytes.
  float(value) {
    this.room(16);
    if (value === null) {
      this.buffer[this.used++] = 1;
    } else {
      this.buffer[this.used++] = 0;
      this.used = this.buffer.writeFloatLE(value, this.used);
    }
  }
  double(value) {
    this.room(16);
    if (value === null) {
      this.buffer[this.used++] = 1;
    } else {
      this.buffer[this.used++] = 0;
      this.used = this.buffer.writeDoubleLE(value, this.used);
    }
  }
  int64(value) {
    this.room(16);
    if (value === null) {
      this.buffer[this.used++] = 1;
    } else {
      this.buffer[this.used++] = 0;
      this.used = this.buffer.writeBigInt64LE(BigInt(value), this.used);
    }
  }
  hexDigest() {
    this.hash.update(this.buffer.subarray(0, this.used));
    return this.hash.digest('hex');
  }
}

// Reads every chunk of `result` and calls visit(columns, rows) with each chunk's column values.
async function forEachChunk(result, visit) {
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const columns = [];
    for (let c = 0; c < chunk.columnCount; ++c) columns.push(chunk.getColumnValues(c));
    visit(columns, chunk.rowCount);
  }
}

// The labels file both benchmarks write (int64 entity, int64 time, int64 label), as loadTables
// takes it; numberLabels then makes it table `labels`.
function labelsSpec(path) {
  return {
    name: 'labels_raw',
    path,
    columns: [
      {name: 'entity', type: 'BIGINT'},
      {name: 'time', type: 'BIGINT'},
      {name: 'label', type: 'BIGINT'},
    ],
  };
}

// Numbers the labels in input order (column idx), which the results keep as the store's training
// sets do; returns DuckDB's worker threads.
async function numberLabels(connection) {
  await connection.run(
      'CREATE TABLE labels AS SELECT row_number() OVER () - 1 AS idx, * FROM labels_raw');
  await connection.run('DROP TABLE labels_raw');
  const threads = await connection.runAndReadAll("SELECT current_setting('threads')");
  return Number(threads.getRows()[0][0]);
}

// Runs `phase` (an async function) once: its wall and CPU seconds, and this process's peak
// resident memory over it (VmHWM reset just before, so what is already loaded counts).
async function timed(phase) {
  global.gc?.();
  resetPeakRss();
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  await phase();
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  return {wall_s: wall, cpu_s: (cpu.user + cpu.system) / 1e6, peak_mib: vmHwmMib()};
}

// Prints `figures` as one JSON line on stdout, with the whole process's ru_maxrss (maxrss_mib).
function printFigures(figures) {
  figures.maxrss_mib = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify(figures) + '\n');
}

// Runs a script's async main; an error exits 1 with its stack.
function runMain(main) {
  main().catch((error) => {
    process.stderr.write(`${error.stack || error}\n`);
    process.exit(1);
  });
}

// `--name=value` flags into an object.
function parseFlags(argv) {
  const flags = {};
  for (const arg of argv) {
    const match = /^--([^=]+)=(.*)$/.exec(arg);
    if (!match) {
      process.stderr.write(`unexpected argument ${arg}\n`);
      process.exit(2);
    }
    flags[match[1]] = match[2];
  }
  return flags;
}

module.exports = {
  requireDuckDB,
  vmHwmMib,
  resetPeakRss,
  loadTable,
  loadTables,
  ContentHasher,
  forEachChunk,
  parseFlags,
  timed,
  labelsSpec,
  numberLabels,
  printFigures,
  runMain,
};
