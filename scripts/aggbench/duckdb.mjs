// DuckDB computes, over the same results tree, the per-experiment figures `llmscale
// aggregate` computes — TTFT, TPOT, ITL and E2E mean/p50/p90/p95/p99/max (vLLM's definitions
// over the measured window, numpy's linear percentiles = DuckDB's quantile_cont), request and
// output-token throughput, and the server-metric means (running, waiting, KV-cache usage on the
// grid, generated tokens, mean queue time) — times it, and compares its numbers with
// <tree>/agg/summary_metrics.csv when that file is there. Not part of the product: it is the
// reference docs/performance.md compares the aggregation with.
//
//	cd scripts/aggbench && npm ci
//	node duckdb.mjs /tmp/aggtree [--threads 2] [--runs 1]
//
// Prints one line per run: "duckdb wall_s=… threads=…", then the comparison.
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const root = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
if (!root) {
  console.error('usage: node duckdb.mjs <results tree> [--threads N] [--runs N]');
  process.exit(2);
}
const threads = opt('threads', '2');
const runs = Number(opt('runs', '1'));
const raw = join(root, 'raw');

// The window of each experiment: [warm-up, warm-up + run time) in offsets from its start.
const windows = `
  exp AS (
    SELECT exp_id, load.warmup_ns AS w_from, load.warmup_ns + load.run_time_ns AS w_to,
           load.run_time_ns / 1e9 AS sec
    FROM read_json('${raw}/*/experiment.json', columns = {exp_id: 'VARCHAR',
         load: 'STRUCT(warmup_ns BIGINT, run_time_ns BIGINT)'})
  )`;

const pct = (expr, name) => `
    avg(${expr}) AS ${name}_mean,
    quantile_cont(${expr}, [0.5, 0.9, 0.95, 0.99]) AS ${name}_q,
    max(${expr}) AS ${name}_max`;

const requestsSQL = `
  WITH ${windows},
  req AS (
    SELECT r.exp_id, r.phase, r.ttft_ns, r.e2e_ns, r.tpot_ns, r.output_tokens, r.itl_ns, e.sec
    FROM read_parquet('${raw}/*/requests.parquet') r JOIN exp e USING (exp_id)
    WHERE r.error_kind = '' AND r.end_ns >= e.w_from AND r.end_ns < e.w_to
  ),
  lat AS (
    SELECT exp_id, count(*) AS completed, count(*) / any_value(sec) AS request_throughput_rps,
      sum(output_tokens) / any_value(sec) AS output_throughput_tps,
      ${pct('ttft_ns / 1e6', 'ttft_ms')},
      ${pct('e2e_ns / 1e6', 'e2e_ms')},
      avg(tpot_ns / 1e6) FILTER (WHERE output_tokens > 1) AS tpot_ms_mean,
      quantile_cont(tpot_ns / 1e6, [0.5, 0.9, 0.95, 0.99]) FILTER (WHERE output_tokens > 1) AS tpot_ms_q,
      max(tpot_ns / 1e6) FILTER (WHERE output_tokens > 1) AS tpot_ms_max
    FROM req GROUP BY exp_id
  ),
  gaps AS (SELECT exp_id, unnest(itl_ns) AS g FROM req WHERE phase = 'measure'),
  itl AS (SELECT exp_id, ${pct('g / 1e6', 'itl_ms')} FROM gaps GROUP BY exp_id)
  SELECT * FROM lat JOIN itl USING (exp_id) ORDER BY exp_id`;

// Gauges: per grid instant, summed (running, waiting) or averaged (KV usage) over engines, then
// averaged over the instants; counters and histogram sums: after − before per series, summed.
const serverSQL = `
  WITH m AS (
    SELECT exp_id, phase, time_unix_ns, name, labels, value
    FROM read_parquet('${raw}/*/server_metrics.parquet')
    WHERE name IN ('vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc',
                   'vllm:generation_tokens_total', 'vllm:request_queue_time_seconds_sum',
                   'vllm:request_queue_time_seconds_count')
  ),
  inst AS (
    SELECT exp_id, time_unix_ns,
      sum(value) FILTER (WHERE name = 'vllm:num_requests_running') AS running,
      sum(value) FILTER (WHERE name = 'vllm:num_requests_waiting') AS waiting,
      avg(value) FILTER (WHERE name = 'vllm:kv_cache_usage_perc') AS kv
    FROM m WHERE phase = 'during' GROUP BY exp_id, time_unix_ns
  ),
  gauges AS (
    SELECT exp_id, avg(running) AS running_mean, avg(waiting) AS waiting_mean, avg(kv) AS kv_cache_usage_mean
    FROM inst GROUP BY exp_id
  ),
  delta AS (
    SELECT exp_id, name, labels,
      max(value) FILTER (WHERE phase = 'after') - max(value) FILTER (WHERE phase = 'before') AS d
    FROM m WHERE name NOT IN ('vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc')
    GROUP BY exp_id, name, labels
  ),
  counters AS (
    SELECT exp_id,
      sum(d) FILTER (WHERE name = 'vllm:generation_tokens_total') AS generation_tokens_delta,
      sum(d) FILTER (WHERE name = 'vllm:request_queue_time_seconds_sum') /
        sum(d) FILTER (WHERE name = 'vllm:request_queue_time_seconds_count') AS queue_s_mean
    FROM delta GROUP BY exp_id
  )
  SELECT * FROM gauges JOIN counters USING (exp_id) ORDER BY exp_id`;

// flatten turns the quantile lists into _p50 … _p99 columns.
function flatten(row) {
  const out = {};
  for (const [k, v] of Object.entries(row)) {
    if (k.endsWith('_q') && Array.isArray(v)) {
      const base = k.slice(0, -2);
      ['p50', 'p90', 'p95', 'p99'].forEach((p, i) => { out[`${base}_${p}`] = Number(v[i]); });
    } else {
      out[k] = typeof v === 'string' && k !== 'exp_id' ? Number(v) : v;
    }
  }
  return out;
}

async function aggregate(conn) {
  const [lat, srv] = await Promise.all([conn.runAndReadAll(requestsSQL), conn.runAndReadAll(serverSQL)]);
  const byExp = new Map();
  for (const r of lat.getRowObjectsJson()) byExp.set(r.exp_id, flatten(r));
  for (const r of srv.getRowObjectsJson()) Object.assign(byExp.get(r.exp_id) ?? {}, flatten(r));
  return byExp;
}

// compare checks every figure against summary_metrics.csv: equal up to a relative 1e-9
// (summation order differs between the engines; percentiles of the same values are the same).
async function compare(conn, byExp) {
  const csv = join(root, 'agg', 'summary_metrics.csv');
  if (!existsSync(csv)) {
    console.log(`no ${csv}: run llmscale aggregate --results ${root} to compare`);
    return true;
  }
  const ours = await conn.runAndReadAll(`SELECT * FROM read_csv('${csv}', header = true, all_varchar = true)`);
  let checked = 0;
  const bad = [];
  for (const row of ours.getRowObjectsJson()) {
    const d = byExp.get(row.exp_id);
    if (!d) { bad.push(`${row.exp_id}: not in DuckDB's result`); continue; }
    for (const [k, v] of Object.entries(d)) {
      if (k === 'exp_id' || k === 'sec') continue;
      const want = Number(row[k]);
      if (row[k] === undefined || row[k] === null || row[k] === '') { bad.push(`${row.exp_id} ${k}: llmscale has no value`); continue; }
      const diff = Math.abs(v - want), scale = Math.max(Math.abs(v), Math.abs(want), 1e-300);
      checked++;
      if (diff / scale > 1e-9) bad.push(`${row.exp_id} ${k}: duckdb ${v} llmscale ${want}`);
    }
  }
  console.log(`compared ${checked} figures of ${byExp.size} experiments with ${csv}: ${bad.length} differ`);
  bad.slice(0, 20).forEach((b) => console.log('  ' + b));
  return bad.length === 0;
}

const instance = await DuckDBInstance.create(':memory:', { threads });
const conn = await instance.connect();
let byExp;
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  byExp = await aggregate(conn);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`duckdb wall_s=${s.toFixed(3)} threads=${threads} experiments=${byExp.size}`);
}
process.exitCode = (await compare(conn, byExp)) ? 0 : 1;
