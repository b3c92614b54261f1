// DuckDB over the archive answers like the collector: generator events ingested by an agent
// stream, exported by the real collector in CloudTrail's layout, then three questions asked twice —
// of the collector's SQL (`orgtrailctl query --output json`) and of DuckDB over the export
// (deploy/analytics/orgtrail-duckdb.mjs, DuckDB from the npm registry, installed by
// scripts/bootstrap.sh) — with the same answers: events per account and region, who deleted
// buckets, console sign-ins without MFA. (The collector's self-audit records of these very queries,
// eventSource orgtrail, are left out of both.)
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "orgtrail/common/generator.h"
#include "testutil/ingest_client.h"
#include "testutil/orgtrailctl_runner.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

const std::string kScript = std::string(ORGTRAIL_SOURCE_DIR) + "/deploy/analytics/orgtrail-duckdb.mjs";

struct DuckDbRun {
  int code = -1;
  std::string out, err;
};

DuckDbRun DuckDb(const testutil::TempDir& dir, const std::string& root, const std::string& sql, int n) {
  testutil::SubprocessOptions o;
  o.binary = "/usr/bin/node";
  o.args = {kScript, "--export-root", root, "--sql", sql};
  o.log_dir = dir.Join("logs");
  o.name = "duckdb-" + std::to_string(n);
  auto p = testutil::Subprocess::Start(o);
  DuckDbRun r;
  if (!p.ok()) return r;
  if (!(*p)->Wait(std::chrono::seconds(120)).has_value()) return r;
  r.code = (*p)->ExitCode();
  r.out = (*p)->ReadStdout();
  r.err = (*p)->ReadStderr();
  return r;
}

// A JSON array of objects, canonical (minified) for comparison.
std::string Canonical(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return "<not JSON: " + json.substr(0, 200) + ">";
  return simdjson::minify(doc);
}

TEST(AnalyticsDuckDbTest, DuckDbOverTheExportAnswersLikeTheCollector) {
  if (!std::filesystem::exists(std::string(ORGTRAIL_SOURCE_DIR) + "/deploy/analytics/node_modules/@duckdb/node-api")) {
    GTEST_SKIP() << "DuckDB not installed (scripts/bootstrap.sh runs npm ci --prefix deploy/analytics)";
  }
  testutil::TempDir dir("analytics-duckdb");
  std::filesystem::create_directories(dir.Join("logs"));
  testutil::TestPki pki(dir.Join("pki"));
  testutil::CollectorProcessOptions options;
  options.data_dir = dir.Join("data");
  options.log_dir = dir.Join("logs");
  options.tls = pki.Collector();
  options.extra_args = {"--export-interval", "300ms", "--export-bucket", "analytics-bucket", "--export-org-id",
                        "o-analytics01"};
  auto collector = testutil::CollectorProcess::Start(options);
  ASSERT_TRUE(collector.ok()) << collector.status();
  auto agent = testutil::IngestClient::Connect((*collector)->target(), pki.Agent("111122223333", "us-east-1", "a1"),
                                               testutil::AgentSpiffeId("example.org", "111122223333", "us-east-1", "a1"));
  ASSERT_TRUE(agent.ok()) << agent.status();
  ASSERT_TRUE((*agent)->Hello().ok());
  GeneratorOptions gen;
  gen.seed = 11;
  EventGenerator generator(gen);
  uint64_t stored = 0;
  for (int batch = 0; batch < 6; ++batch) {
    std::vector<std::string> records;
    for (int i = 0; i < 500; ++i) records.push_back(generator.NextJson());
    auto ack = (*agent)->SendEvents(records);
    ASSERT_TRUE(ack.ok()) << ack.status();
    stored += ack->events_stored();
  }
  {
    // The generator deletes no bucket: three who do.
    std::vector<std::string> deletes;
    for (const char* who : {"alice", "bob", "mallory"}) {
      testutil::SyntheticEvent e;
      e.event_id = std::string("delete-bucket-") + who;
      e.account_id = "111122223333";
      e.event_source = "s3.amazonaws.com";
      e.event_name = "DeleteBucket";
      e.username = who;
      e.read_only = false;
      deletes.push_back(testutil::SyntheticEventJson(e));
    }
    auto ack = (*agent)->SendEvents(deletes);
    ASSERT_TRUE(ack.ok()) << ack.status();
    stored += ack->events_stored();
  }
  ASSERT_GT(stored, 2000u);
  const std::string root = dir.Join("data/export");
  const std::string not_ours = "eventsource <> 'orgtrail'";
  // Wait until every stored event is in the exported files.
  int runs = 0;
  std::string exported;
  for (int attempt = 0; attempt < 150; ++attempt) {
    DuckDbRun count = DuckDb(dir, root, "SELECT COUNT(*) AS n FROM cloudtrail WHERE " + not_ours, runs++);
    ASSERT_EQ(count.code, 0) << count.err;
    exported = Canonical(count.out);
    if (exported == "[{\"n\":" + std::to_string(stored) + "}]") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(exported, "[{\"n\":" + std::to_string(stored) + "}]");

  const TlsFiles auditor = pki.Auditor("alice");
  const struct {
    const char* question;
    std::string collector_sql, duckdb_sql;
  } questions[] = {
      {"events per account and region",
       "SELECT recipientaccountid AS account, awsregion AS region, COUNT(*) AS n FROM events WHERE " + not_ours +
           " GROUP BY 1, 2 ORDER BY 1, 2",
       "SELECT recipientaccountid AS account, awsregion AS region, COUNT(*) AS n FROM cloudtrail WHERE " + not_ours +
           " GROUP BY 1, 2 ORDER BY 1, 2"},
      {"who deleted buckets",
       "SELECT eventid, useridentity_arn AS who FROM events WHERE eventname = 'DeleteBucket' ORDER BY eventid",
       "SELECT eventid, (useridentity->>'$.arn') AS who FROM cloudtrail WHERE eventname = 'DeleteBucket' ORDER BY eventid"},
      {"console sign-ins without MFA",
       "SELECT eventid FROM events WHERE eventname = 'ConsoleLogin' AND "
       "json_extract(eventjson, '$.additionalEventData.MFAUsed') = 'No' ORDER BY eventid",
       "SELECT eventid FROM cloudtrail WHERE eventname = 'ConsoleLogin' AND "
       "(additionaleventdata->>'$.MFAUsed') = 'No' ORDER BY eventid"},
  };
  // The Athena table and the Trino table and view (deploy/analytics/*_cloudtrail_organization.sql):
  // their location templates name every folder the collector wrote, and they have a column for
  // every field of the records.
  auto read_ddl = [](const std::string& name) {
    std::ifstream ddl_file(std::string(ORGTRAIL_SOURCE_DIR) + "/deploy/analytics/" + name);
    std::stringstream ddl_text;
    ddl_text << ddl_file.rdbuf();
    return ddl_text.str();
  };
  auto check_layout = [&](const std::string& ddl, const std::string& property, const std::string& engine) {
    std::smatch m;
    ASSERT_TRUE(std::regex_search(ddl, m, std::regex(property + " = 's3://<bucket>/<prefix>/([^']+)'"))) << engine;
    std::string layout = m[1].str();  // AWSLogs/<o-org>/${account}/CloudTrail/${region}/${day}
    layout = std::regex_replace(layout, std::regex("<o-org>"), "o-analytics01");
    layout = std::regex_replace(layout, std::regex("\\$\\{account\\}"), "[0-9]{12}");
    layout = std::regex_replace(layout, std::regex("\\$\\{region\\}"), "[a-z0-9-]+");
    layout = std::regex_replace(layout, std::regex("\\$\\{day\\}"), "[0-9]{4}/[0-9]{2}/[0-9]{2}");
    const std::regex file_pattern(layout + "/[^/]+\\.json\\.gz");
    int log_files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      const std::string rel = std::filesystem::relative(entry.path(), root).string();
      if (!entry.is_regular_file() || rel.find("/CloudTrail/") == std::string::npos) continue;
      ++log_files;
      EXPECT_TRUE(std::regex_match(rel, file_pattern)) << rel << " is not under the " << engine
                                                       << " table's location template " << layout;
    }
    EXPECT_GT(log_files, 0);
  };
  // Column names in order: lines "<indent><name> <type>" of a DDL section.
  auto column_names = [](const std::string& body, const std::string& indent) {
    std::vector<std::string> names;
    const std::regex column_line("\\n" + indent + "([a-z0-9]+) ");
    for (std::sregex_iterator it(body.begin(), body.end(), column_line), end; it != end; ++it) {
      names.push_back((*it)[1].str());
    }
    return names;
  };
  const std::string athena = read_ddl("athena_cloudtrail_organization.sql");
  check_layout(athena, "'storage\\.location\\.template'", "Athena");
  const std::vector<std::string> athena_columns =
      column_names(athena.substr(athena.find('('), athena.find("PARTITIONED BY") - athena.find('(')), "    ");
  const std::string trino = read_ddl("trino_cloudtrail_organization.sql");
  check_layout(trino, "partition_projection_location_template", "Trino");
  const size_t row_begin = trino.find("records ARRAY(ROW(");
  const size_t row_end = trino.find("\n    account VARCHAR");
  ASSERT_NE(row_begin, std::string::npos);
  ASSERT_NE(row_end, std::string::npos);
  const std::vector<std::string> trino_columns = column_names(trino.substr(row_begin, row_end - row_begin), "        ");
  EXPECT_EQ(trino_columns, athena_columns) << "the Trino row type and the Athena table list the same fields";
  // The view names the row's fields in order (UNNEST of a ROW array binds them by position).
  std::smatch view;
  ASSERT_TRUE(std::regex_search(trino, view, std::regex("UNNEST\\(f\\.records\\) AS r \\(([^)]*)\\)")));
  std::vector<std::string> aliases;
  const std::string alias_text = view[1].str();
  const std::regex alias_word("[a-z0-9]+");
  for (std::sregex_iterator it(alias_text.begin(), alias_text.end(), alias_word), end; it != end; ++it) {
    aliases.push_back(it->str());
  }
  EXPECT_EQ(aliases, trino_columns);
  const std::set<std::string> columns(athena_columns.begin(), athena_columns.end());
  EXPECT_GE(columns.size(), 29u);  // the tables list CloudTrail's 29 record fields
  DuckDbRun keys = DuckDb(dir, root, "SELECT DISTINCT lower(unnest(json_keys(record))) AS k FROM cloudtrail ORDER BY k",
                          runs++);
  ASSERT_EQ(keys.code, 0) << keys.err;
  simdjson::dom::parser key_parser;
  simdjson::dom::element key_rows = key_parser.parse(keys.out);
  size_t fields = 0;
  for (simdjson::dom::element row : key_rows.get_array()) {
    const std::string key(row["k"].get_string().value());
    ++fields;
    EXPECT_EQ(columns.count(key), 1u) << "the records' field " << key << " has no column in the Athena and Trino tables";
  }
  EXPECT_GT(fields, 10u);

  for (const auto& q : questions) {
    testutil::CtlResult ours = testutil::RunOrgtrailctl({"query", q.collector_sql, "--output", "json"},
                                                        (*collector)->target(), auditor, dir.Join("logs"),
                                                        "query-" + std::to_string(runs));
    ASSERT_EQ(ours.exit_code, 0) << q.question << ": " << ours.err;
    DuckDbRun duck = DuckDb(dir, root, q.duckdb_sql, runs++);
    ASSERT_EQ(duck.code, 0) << q.question << ": " << duck.err;
    const std::string expected = Canonical(ours.out);
    EXPECT_NE(expected, "[]") << q.question << ": the question must have answers to compare";
    EXPECT_EQ(Canonical(duck.out), expected) << q.question;
  }
}

}  // namespace
}  // namespace orgtrail
