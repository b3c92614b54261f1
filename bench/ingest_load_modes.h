// ingest_load_bench: the entry points of the modes kept in files of their
// own (ingest_load_bench.cc holds main, raw and ingest). Each takes the parsed
// flags, prints exactly one JSON object on stdout and returns the exit status
// (0, or 1 after printing the failure on stderr). Flags and output of every
// mode: the header comment of ingest_load_bench.cc.
#ifndef ORGTRAIL_BENCH_INGEST_LOAD_MODES_H_
#define ORGTRAIL_BENCH_INGEST_LOAD_MODES_H_

#include "ingest_load_common.h"

namespace orgtrail::ingest_load {

// latency: one stream at a fixed open-loop rate; capture-to-durable and
// capture-to-visible percentiles (ingest_load_latency.cc).
int RunLatency(const Flags& f);

// files: generator records as CloudTrail delivery files or one JSONL file,
// the input of an agent's file source (ingest_load_files.cc).
int RunFiles(const Flags& f);

// lookup: LookupEvents percentiles by each attribute and by a 1-hour time
// range (ingest_load_lookup.cc).
int RunLookup(const Flags& f);

}  // namespace orgtrail::ingest_load

#endif  // ORGTRAIL_BENCH_INGEST_LOAD_MODES_H_
