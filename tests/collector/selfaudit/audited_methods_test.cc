// The audited-method table (collector/selfaudit/audited_methods.h) against the services as
// compiled: every method of every audited service is in it, with the request type gRPC hands the
// interceptor, and nothing of Ingest or grpc.health.v1 is.
#include "collector/selfaudit/audited_methods.h"

#include <gtest/gtest.h>

#include <google/protobuf/descriptor.h>

#include "orgtrail/v1/admin.pb.h"
#include "orgtrail/v1/findings.pb.h"
#include "orgtrail/v1/ingest.pb.h"
#include "orgtrail/v1/query.pb.h"

namespace orgtrail::collector {
namespace {

TEST(AuditedMethodsTest, EveryMethodOfEveryAuditedServiceWithItsRequestType) {
  // Link the generated descriptors in.
  (void)v1::LookupEventsRequest::descriptor();
  (void)v1::CreateTrailRequest::descriptor();
  (void)v1::ListFindingsRequest::descriptor();
  AuditedMethods table;
  size_t methods = 0;
  for (const std::string& name : AuditedMethods::AuditedServices()) {
    const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      const std::string path = "/" + service->full_name() + "/" + method->name();
      const AuditedMethod* entry = table.Find(path);
      ASSERT_NE(entry, nullptr) << path << " is not audited";
      EXPECT_EQ(entry->request_type, method->input_type()->full_name()) << path;
      EXPECT_EQ(entry->server_streaming, method->server_streaming()) << path;
      EXPECT_FALSE(method->client_streaming()) << path << ": the interceptor records one request per call";
      ++methods;
    }
  }
  EXPECT_EQ(table.All().size(), methods) << "the table lists a method no audited service has";
}

TEST(AuditedMethodsTest, IngestAndHealthAreNotAudited) {
  AuditedMethods table;
  EXPECT_EQ(table.Find("/orgtrail.v1.Ingest/Stream"), nullptr);
  EXPECT_EQ(table.Find("/grpc.health.v1.Health/Check"), nullptr);
  EXPECT_EQ(table.Find("/grpc.health.v1.Health/Watch"), nullptr);
  EXPECT_EQ(table.Find(""), nullptr);
}

TEST(AuditedMethodsTest, ReadsAreReadOnlyAndChangesAreNot) {
  AuditedMethods table;
  EXPECT_TRUE(table.Find("/orgtrail.v1.Query/LookupEvents")->read_only);
  EXPECT_TRUE(table.Find("/orgtrail.v1.Investigations/Sql")->read_only);
  EXPECT_TRUE(table.Find("/orgtrail.v1.Admin/GetTrailStatus")->read_only);
  EXPECT_FALSE(table.Find("/orgtrail.v1.Admin/StopLogging")->read_only);
  EXPECT_FALSE(table.Find("/orgtrail.v1.Admin/DeleteTrail")->read_only);
  EXPECT_FALSE(table.Find("/orgtrail.v1.Admin/CreateBackup")->read_only);
}

TEST(AuditedMethodsTest, RendersTheRequestThroughItsOwnType) {
  AuditedMethods table;
  v1::SqlRequest sql;
  sql.set_query("SELECT 1");
  const std::string json = table.Find("/orgtrail.v1.Investigations/Sql")->render_request(&sql);
  EXPECT_NE(json.find("SELECT 1"), std::string::npos) << json;
  v1::TrailNameRequest name;
  name.set_name("org-trail");
  EXPECT_EQ(table.Find("/orgtrail.v1.Admin/StopLogging")->render_request(&name), R"({"name":"org-trail"})");
}

}  // namespace
}  // namespace orgtrail::collector
