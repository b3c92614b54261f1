#!/usr/bin/env node
// orgtrail-duckdb: DuckDB, embedded, over orgtrail's CloudTrail-layout export (the folder that
// stands for the trail's S3 bucket: <root>/AWSLogs/<org>/<account>/CloudTrail/<region>/YYYY/MM/DD/
// *.json.gz). Every log file is read (digests are not records); each record becomes a row of the
// view `cloudtrail`, with CloudTrail's Athena column names (eventversion, useridentity, eventtime,
// eventsource, eventname, awsregion, sourceipaddress, useragent, errorcode, errormessage,
// requestparameters, responseelements, additionaleventdata, requestid, eventid, resources,
// eventtype, readonly, recipientaccountid, eventcategory, managementevent; JSON-valued columns
// are DuckDB JSON) plus `record` (the whole record as JSON), so existing Athena queries run with
// few changes.
//
//   node deploy/analytics/orgtrail-duckdb.mjs --export-root DIR --sql "SELECT ..." [--format json|jsonl]
//   node deploy/analytics/orgtrail-duckdb.mjs --export-root s3://bucket[/prefix] [--s3-endpoint URL]
//        [--cache DIR] [--orgtrailctl PATH] --sql "SELECT ..."
// For s3:// (a trail's delivery in S3-compatible storage), the log objects are first mirrored into
// a local cache folder with `orgtrailctl fetch-archive` (incremental: objects already there are
// not fetched again; default cache ${XDG_CACHE_HOME:-~/.cache}/orgtrail/archive/<bucket>/<prefix>;
// credentials the usual AWS ways), then queried like a folder. DuckDB's own S3 reader (the httpfs
// extension) is a download at first use, which an offline machine cannot make.
// Prints the result as one JSON array (default) or one JSON object per line. Exit status 2 on a
// usage error, 1 when DuckDB refuses the query (its message on stderr).
// Setup: scripts/bootstrap.sh runs `npm ci --prefix deploy/analytics` (DuckDB from the npm registry).
import { DuckDBInstance } from '@duckdb/node-api';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function usage(message) {
  if (message) process.stderr.write(`orgtrail-duckdb: ${message}\n`);
  process.stderr.write('usage: orgtrail-duckdb.mjs --export-root DIR|s3://bucket[/prefix] --sql "SELECT ..." ' +
                       '[--format json|jsonl] [--s3-endpoint URL] [--cache DIR] [--orgtrailctl PATH]\n');
  process.exit(2);
}

const args = process.argv.slice(2);
const options = { format: 'json' };
for (let i = 0; i < args.length; i++) {
  const flag = args[i];
  if (flag === '-h' || flag === '--help') usage();
  if (!['--export-root', '--sql', '--format', '--s3-endpoint', '--cache', '--orgtrailctl'].includes(flag)) {
    usage(`unknown option ${flag}`);
  }
  if (i + 1 >= args.length) usage(`${flag} needs a value`);
  options[flag.slice(2).replaceAll('-', '_')] = args[++i];
}
if (!options.export_root) usage('--export-root: required');
if (!options.sql) usage('--sql: required');
if (!['json', 'jsonl'].includes(options.format)) usage(`--format: expected json or jsonl, got '${options.format}'`);

// s3://bucket[/prefix]: mirror the delivery's log objects into the cache, then read the cache.
if (options.export_root.startsWith('s3://')) {
  const location = options.export_root.slice(5).replace(/\/+$/, '');
  if (!location || location.startsWith('/') || location.split('/').some((s) => s === '..' || s === '.')) {
    usage(`--export-root: expected s3://bucket[/prefix], got '${options.export_root}'`);
  }
  const cacheRoot = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const cache = options.cache || path.join(cacheRoot, 'orgtrail', 'archive', location);
  const here = path.dirname(fileURLToPath(import.meta.url));
  const ctl = options.orgtrailctl || process.env.ORGTRAILCTL ||
    [path.join(here, '..', '..', 'build', 'cli', 'orgtrailctl'), '/usr/bin/orgtrailctl', '/usr/local/bin/orgtrailctl']
      .find((p) => fs.existsSync(p)) || 'orgtrailctl';
  const fetchArgs = ['fetch-archive', '--from', options.export_root, '--to', cache];
  if (options.s3_endpoint) fetchArgs.push('--s3-endpoint', options.s3_endpoint);
  const fetched = spawnSync(ctl, fetchArgs, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (fetched.error) {
    process.stderr.write(`orgtrail-duckdb: cannot run ${ctl}: ${fetched.error.message} (--orgtrailctl PATH)\n`);
    process.exit(2);
  }
  process.stderr.write(`orgtrail-duckdb: ${fetched.stdout}`);
  if (fetched.status !== 0) process.exit(fetched.status === 1 ? 1 : 2);
  options.export_root = cache;
}
if (!fs.existsSync(options.export_root) || !fs.statSync(options.export_root).isDirectory()) {
  usage(`--export-root: '${options.export_root}' is not a folder`);
}

// The log files (not digests, not files being written).
function logFiles(dir, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'CloudTrail-Digest') logFiles(full, out);
    } else if (entry.isFile() && entry.name.endsWith('.json.gz') && !entry.name.startsWith('.tmp-') &&
               full.includes(`${path.sep}CloudTrail${path.sep}`)) {
      out.push(full);
    }
  }
  return out;
}

const files = logFiles(options.export_root, []).sort();
const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const TEXT = ['eventversion', 'eventtime', 'eventsource', 'eventname', 'awsregion', 'sourceipaddress', 'useragent',
              'errorcode', 'errormessage', 'requestid', 'eventid', 'eventtype', 'recipientaccountid', 'eventcategory'];
const JSONCOLS = ['useridentity', 'requestparameters', 'responseelements', 'additionaleventdata', 'resources'];
const CAMEL = { eventversion: 'eventVersion', eventtime: 'eventTime', eventsource: 'eventSource', eventname: 'eventName',
                awsregion: 'awsRegion', sourceipaddress: 'sourceIPAddress', useragent: 'userAgent', errorcode: 'errorCode',
                errormessage: 'errorMessage', requestid: 'requestID', eventid: 'eventID', eventtype: 'eventType',
                recipientaccountid: 'recipientAccountId', eventcategory: 'eventCategory', useridentity: 'userIdentity',
                requestparameters: 'requestParameters', responseelements: 'responseElements',
                additionaleventdata: 'additionalEventData', resources: 'resources' };
const columns = [
  ...TEXT.map((c) => `json_extract_string(record, '$.${CAMEL[c]}') AS ${c}`),
  ...JSONCOLS.map((c) => `json_extract(record, '$.${CAMEL[c]}') AS ${c}`),
  `TRY_CAST(json_extract_string(record, '$.readOnly') AS BOOLEAN) AS readonly`,
  `TRY_CAST(json_extract_string(record, '$.managementEvent') AS BOOLEAN) AS managementevent`,
  'record',
].join(', ');
const source = files.length === 0
  ? `(SELECT NULL::JSON AS record WHERE false)`
  : `(SELECT unnest(json_extract(json, '$.Records[*]')) AS record
      FROM read_json_objects([${files.map(quote).join(', ')}], format = 'unstructured', compression = 'gzip',
                             maximum_object_size = 1073741824))`;

try {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run(`CREATE VIEW cloudtrail AS SELECT ${columns} FROM ${source}`);
  const result = await conn.runAndReadAll(options.sql);
  const rows = result.getRowObjectsJS();
  // BIGINT (COUNT, SUM) as JSON numbers while exact; JSON columns as their JSON value.
  const plain = (key, value) => typeof value === 'bigint'
    ? (Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()) : value;
  if (options.format === 'jsonl') {
    for (const row of rows) process.stdout.write(JSON.stringify(row, plain) + '\n');
  } else {
    process.stdout.write(JSON.stringify(rows, plain) + '\n');
  }
  process.stderr.write(`orgtrail-duckdb: ${rows.length} row(s) over ${files.length} log file(s)\n`);
} catch (error) {
  process.stderr.write(`orgtrail-duckdb: ${error.message}\n`);
  process.exit(1);
}
