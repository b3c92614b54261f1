// Trail selector semantics, table-driven against CloudTrail's documented rules
// (reference/cloudtrail-format.md §4, §5, §8).
#include "orgtrail/common/selectors.h"

#include <string>
#include <vector>

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

namespace orgtrail {
namespace {

v1::Event MgmtEvent(std::string source, std::string name, bool read_only,
                    std::string region = "eu-west-1") {
  v1::Event e;
  e.set_event_source(std::move(source));
  e.set_event_name(std::move(name));
  e.set_read_only(read_only);
  e.set_aws_region(std::move(region));
  e.set_event_category("Management");
  e.set_event_type("AwsApiCall");
  e.set_recipient_account_id("111122223333");
  return e;
}

v1::Event S3ObjectEvent(std::string name, std::string object_arn, bool read_only) {
  v1::Event e = MgmtEvent("s3.amazonaws.com", std::move(name), read_only);
  e.set_event_category("Data");
  auto* object = e.add_resources();
  object->set_type("AWS::S3::Object");
  object->set_arn(std::move(object_arn));
  auto* bucket = e.add_resources();
  bucket->set_type("AWS::S3::Bucket");
  bucket->set_arn("arn:aws:s3:::examplebucket");
  return e;
}

v1::Event LambdaInvoke(std::string function_arn) {
  v1::Event e = MgmtEvent("lambda.amazonaws.com", "Invoke", false);
  e.set_event_category("Data");
  auto* r = e.add_resources();
  r->set_type("AWS::Lambda::Function");
  r->set_arn(std::move(function_arn));
  return e;
}

v1::Event DynamoGetItem(std::string table_arn) {
  v1::Event e = MgmtEvent("dynamodb.amazonaws.com", "GetItem", true);
  e.set_event_category("Data");
  auto* r = e.add_resources();
  r->set_type("AWS::DynamoDB::Table");
  r->set_arn(std::move(table_arn));
  return e;
}

v1::EventSelector Basic(const std::string& text) {
  v1::EventSelector s;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &s)) << text;
  return s;
}

v1::AdvancedEventSelector Advanced(const std::string& text) {
  v1::AdvancedEventSelector s;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &s)) << text;
  return s;
}

v1::Trail LoggingTrail(std::string name = "org-trail") {
  v1::Trail t;
  t.set_name(std::move(name));
  t.set_home_region("us-east-1");
  t.set_is_multi_region_trail(true);
  t.set_include_global_service_events(true);
  t.set_is_logging(true);
  return t;
}

// ---------------------------------------------------------------- basic

TEST(BasicSelectorsTest, NoSelectorsMeansAllManagementNoData) {
  google::protobuf::RepeatedPtrField<v1::EventSelector> none;
  EXPECT_TRUE(BasicSelectorsMatch(none, MgmtEvent("ec2.amazonaws.com", "RunInstances", false)));
  EXPECT_TRUE(BasicSelectorsMatch(none, MgmtEvent("ec2.amazonaws.com", "DescribeVpcs", true)));
  EXPECT_FALSE(BasicSelectorsMatch(none, S3ObjectEvent("GetObject", "arn:aws:s3:::b/k", true)));
  EXPECT_FALSE(BasicSelectorsMatch(none, LambdaInvoke("arn:aws:lambda:eu-west-1:1:function:f")));
}

struct BasicCase {
  const char* name;
  const char* selector;
  v1::Event event;
  bool expected;
};

TEST(BasicSelectorsTest, Table) {
  const std::vector<BasicCase> cases = {
      // ReadWriteType.
      {"all takes write", "read_write_type: ALL", MgmtEvent("ec2.amazonaws.com", "RunInstances", false), true},
      {"unspecified = all", "", MgmtEvent("ec2.amazonaws.com", "DescribeVpcs", true), true},
      {"readonly takes read", "read_write_type: READ_ONLY", MgmtEvent("ec2.amazonaws.com", "DescribeVpcs", true), true},
      {"readonly drops write", "read_write_type: READ_ONLY", MgmtEvent("ec2.amazonaws.com", "RunInstances", false), false},
      {"writeonly takes write", "read_write_type: WRITE_ONLY", MgmtEvent("iam.amazonaws.com", "CreateUser", false), true},
      {"writeonly drops read", "read_write_type: WRITE_ONLY", MgmtEvent("iam.amazonaws.com", "GetUser", true), false},
      // IncludeManagementEvents.
      {"mgmt default true", "read_write_type: ALL", MgmtEvent("kms.amazonaws.com", "Decrypt", true), true},
      {"mgmt explicitly off", "include_management_events: false", MgmtEvent("ec2.amazonaws.com", "RunInstances", false), false},
      // ExcludeManagementEventSources.
      {"kms excluded", "exclude_management_event_sources: 'kms.amazonaws.com'", MgmtEvent("kms.amazonaws.com", "Decrypt", true), false},
      {"rdsdata excluded", "exclude_management_event_sources: 'rdsdata.amazonaws.com'", MgmtEvent("rdsdata.amazonaws.com", "ExecuteStatement", false), false},
      {"other source not excluded", "exclude_management_event_sources: 'kms.amazonaws.com'", MgmtEvent("ec2.amazonaws.com", "RunInstances", false), true},
      // S3 data resources: prefixes.
      {"s3 all buckets", "data_resources { type: 'AWS::S3::Object' values: 'arn:aws:s3' }", S3ObjectEvent("GetObject", "arn:aws:s3:::examplebucket/a.txt", true), true},
      {"s3 all buckets (:::)", "data_resources { type: 'AWS::S3::Object' values: 'arn:aws:s3:::' }", S3ObjectEvent("GetObject", "arn:aws:s3:::examplebucket/a.txt", true), true},
      {"s3 whole bucket", "data_resources { type: 'AWS::S3::Object' values: 'arn:aws:s3:::examplebucket/' }", S3ObjectEvent("PutObject", "arn:aws:s3:::examplebucket/x/y", false), true},
      {"s3 other bucket", "data_resources { type: 'AWS::S3::Object' values: 'arn:aws:s3:::otherbucket/' }", S3ObjectEvent("PutObject", "arn:aws:s3:::examplebucket/x/y", false), false},
      {"s3 bucket name prefix is not a bucket", "data_resources { type: 'AWS::S3::Object' values: 'arn:aws:s3:::example/' }", S3ObjectEvent("PutObject", "arn:aws:s3:::examplebucket/x", false), false},
      {"s3 object prefix", "data_resources { type: 'AWS::S3::Object' values: 'arn:aws:s3:::examplebucket/logs/' }", S3ObjectEvent("GetObject", "arn:aws:s3:::examplebucket/logs/1.gz", true), true},
      {"s3 object prefix miss", "data_resources { type: 'AWS::S3::Object' values: 'arn:aws:s3:::examplebucket/logs/' }", S3ObjectEvent("GetObject", "arn:aws:s3:::examplebucket/data/1.gz", true), false},
      {"s3 data + readonly drops write", "read_write_type: READ_ONLY data_resources { type: 'AWS::S3::Object' values: 'arn:aws:s3' }", S3ObjectEvent("PutObject", "arn:aws:s3:::examplebucket/k", false), false},
      {"s3 data + writeonly takes write", "read_write_type: WRITE_ONLY data_resources { type: 'AWS::S3::Object' values: 'arn:aws:s3' }", S3ObjectEvent("PutObject", "arn:aws:s3:::examplebucket/k", false), true},
      {"data selected with mgmt off", "include_management_events: false data_resources { type: 'AWS::S3::Object' values: 'arn:aws:s3' }", S3ObjectEvent("GetObject", "arn:aws:s3:::examplebucket/k", true), true},
      {"s3 selector does not take lambda", "data_resources { type: 'AWS::S3::Object' values: 'arn:aws:s3' }", LambdaInvoke("arn:aws:lambda:eu-west-1:111122223333:function:f"), false},
      // Lambda: exact ARN, or all.
      {"lambda all", "data_resources { type: 'AWS::Lambda::Function' values: 'arn:aws:lambda' }", LambdaInvoke("arn:aws:lambda:eu-west-1:111122223333:function:f"), true},
      {"lambda exact", "data_resources { type: 'AWS::Lambda::Function' values: 'arn:aws:lambda:eu-west-1:111122223333:function:f' }", LambdaInvoke("arn:aws:lambda:eu-west-1:111122223333:function:f"), true},
      {"lambda no prefix match", "data_resources { type: 'AWS::Lambda::Function' values: 'arn:aws:lambda:eu-west-1:111122223333:function:f' }", LambdaInvoke("arn:aws:lambda:eu-west-1:111122223333:function:f2"), false},
      // DynamoDB.
      {"dynamodb all", "data_resources { type: 'AWS::DynamoDB::Table' values: 'arn:aws:dynamodb' }", DynamoGetItem("arn:aws:dynamodb:eu-west-1:111122223333:table/t"), true},
      {"dynamodb exact", "data_resources { type: 'AWS::DynamoDB::Table' values: 'arn:aws:dynamodb:eu-west-1:111122223333:table/t' }", DynamoGetItem("arn:aws:dynamodb:eu-west-1:111122223333:table/t"), true},
      {"dynamodb other table", "data_resources { type: 'AWS::DynamoDB::Table' values: 'arn:aws:dynamodb:eu-west-1:111122223333:table/t' }", DynamoGetItem("arn:aws:dynamodb:eu-west-1:111122223333:table/t2"), false},
      {"unsupported type selects nothing", "data_resources { type: 'AWS::S3::Bucket' values: 'arn:aws:s3' }", S3ObjectEvent("GetObject", "arn:aws:s3:::examplebucket/k", true), false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(EventSelectorMatches(Basic(c.selector), c.event), c.expected) << c.name;
  }
}

TEST(BasicSelectorsTest, SelectorsAreOred) {
  google::protobuf::RepeatedPtrField<v1::EventSelector> selectors;
  *selectors.Add() = Basic("read_write_type: READ_ONLY include_management_events: true");
  *selectors.Add() = Basic(
      "include_management_events: false data_resources { type: 'AWS::Lambda::Function' values: "
      "'arn:aws:lambda' }");
  EXPECT_TRUE(BasicSelectorsMatch(selectors, MgmtEvent("ec2.amazonaws.com", "DescribeVpcs", true)));
  EXPECT_FALSE(BasicSelectorsMatch(selectors, MgmtEvent("ec2.amazonaws.com", "RunInstances", false)));
  EXPECT_TRUE(BasicSelectorsMatch(selectors, LambdaInvoke("arn:aws:lambda:eu-west-1:1:function:f")));
  EXPECT_FALSE(BasicSelectorsMatch(selectors, S3ObjectEvent("GetObject", "arn:aws:s3:::b/k", true)));
}

// ---------------------------------------------------------------- advanced: one field

struct FieldCase {
  const char* name;
  const char* field_selector;
  const char* value;  // nullptr = field absent
  bool expected;
};

TEST(AdvancedFieldSelectorTest, SixOperators) {
  const std::vector<FieldCase> cases = {
      {"equals hit", "equals: 'a' equals: 'b'", "b", true},
      {"equals miss", "equals: 'a'", "ab", false},
      {"equals case-sensitive", "equals: 'GetObject'", "getobject", false},
      {"startswith hit", "starts_with: 'arn:aws:s3:::bucket/'", "arn:aws:s3:::bucket/k", true},
      {"startswith miss", "starts_with: 'arn:aws:s3:::bucket/'", "arn:aws:s3:::bucket2/k", false},
      {"endswith hit", "ends_with: '.jpg'", "arn:aws:s3:::b/x.jpg", true},
      {"endswith miss", "ends_with: '.jpg'", "arn:aws:s3:::b/x.png", false},
      {"no wildcards", "equals: 'Get*'", "GetObject", false},
      {"select ops ORed", "equals: 'x' starts_with: 'Ge' ends_with: 'zz'", "GetObject", true},
      {"notequals excludes", "not_equals: 'kms.amazonaws.com'", "kms.amazonaws.com", false},
      {"notequals keeps other", "not_equals: 'kms.amazonaws.com'", "ec2.amazonaws.com", true},
      {"notstartswith excludes", "not_starts_with: 'arn:aws:s3:::secret/'", "arn:aws:s3:::secret/k", false},
      {"notstartswith keeps", "not_starts_with: 'arn:aws:s3:::secret/'", "arn:aws:s3:::public/k", true},
      {"notendswith excludes", "not_ends_with: '.tmp'", "a.tmp", false},
      {"notendswith keeps", "not_ends_with: '.tmp'", "a.txt", true},
      {"any deselect excludes", "not_equals: 'x' not_equals: 'GetObject'", "GetObject", false},
      {"deselect ops ORed", "not_starts_with: 'zz' not_ends_with: 'Object'", "GetObject", false},
      {"select AND deselect: both ok", "starts_with: 'Get' not_equals: 'GetObjectAcl'", "GetObject", true},
      {"select AND deselect: deselected", "starts_with: 'Get' not_equals: 'GetObject'", "GetObject", false},
      {"select AND deselect: not selected", "starts_with: 'Put' not_equals: 'GetObjectAcl'", "GetObject", false},
      {"absent: select fails", "equals: 'true'", nullptr, false},
      {"absent: deselect keeps", "not_equals: 'true'", nullptr, true},
  };
  for (const auto& c : cases) {
    v1::AdvancedFieldSelector f;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(c.field_selector, &f)) << c.name;
    std::string value = c.value ? c.value : "";
    EXPECT_EQ(AdvancedFieldSelectorMatchesValue(f, c.value ? &value : nullptr), c.expected)
        << c.name;
  }
}

// ---------------------------------------------------------------- advanced: selectors

v1::Event ConsoleEvent() {
  v1::Event e = MgmtEvent("s3.amazonaws.com", "GetObject", true);
  e.set_event_category("Data");
  e.set_session_credential_from_console("true");
  e.set_principal_arn("arn:aws:sts::111122223333:assumed-role/Admin/alice");
  auto* r = e.add_resources();
  r->set_type("AWS::S3::Object");
  r->set_arn("arn:aws:s3:::examplebucket/a.txt");
  return e;
}

struct AdvancedCase {
  const char* name;
  const char* selector;
  v1::Event event;
  bool expected;
};

TEST(AdvancedSelectorTest, EveryField) {
  const std::vector<AdvancedCase> cases = {
      {"category management",
       "field_selectors { field: 'eventCategory' equals: 'Management' }",
       MgmtEvent("ec2.amazonaws.com", "RunInstances", false), true},
      {"category management drops data",
       "field_selectors { field: 'eventCategory' equals: 'Management' }",
       S3ObjectEvent("GetObject", "arn:aws:s3:::b/k", true), false},
      {"readOnly true", "field_selectors { field: 'eventCategory' equals: 'Management' } field_selectors { field: 'readOnly' equals: 'true' }",
       MgmtEvent("ec2.amazonaws.com", "DescribeVpcs", true), true},
      {"readOnly true drops write", "field_selectors { field: 'eventCategory' equals: 'Management' } field_selectors { field: 'readOnly' equals: 'true' }",
       MgmtEvent("ec2.amazonaws.com", "RunInstances", false), false},
      {"readOnly false", "field_selectors { field: 'eventCategory' equals: 'Management' } field_selectors { field: 'readOnly' equals: 'false' }",
       MgmtEvent("ec2.amazonaws.com", "RunInstances", false), true},
      {"mgmt exclude kms", "field_selectors { field: 'eventCategory' equals: 'Management' } field_selectors { field: 'eventSource' not_equals: 'kms.amazonaws.com' }",
       MgmtEvent("kms.amazonaws.com", "Decrypt", true), false},
      {"mgmt exclude kms keeps ec2", "field_selectors { field: 'eventCategory' equals: 'Management' } field_selectors { field: 'eventSource' not_equals: 'kms.amazonaws.com' }",
       MgmtEvent("ec2.amazonaws.com", "RunInstances", false), true},
      {"eventName on data", "field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'resources.type' equals: 'AWS::S3::Object' } field_selectors { field: 'eventName' equals: 'PutObject' equals: 'DeleteObject' }",
       S3ObjectEvent("DeleteObject", "arn:aws:s3:::b/k", false), true},
      {"eventName on data miss", "field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'resources.type' equals: 'AWS::S3::Object' } field_selectors { field: 'eventName' equals: 'PutObject' equals: 'DeleteObject' }",
       S3ObjectEvent("GetObject", "arn:aws:s3:::b/k", true), false},
      {"eventType", "field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'eventType' equals: 'AwsApiCall' }",
       S3ObjectEvent("GetObject", "arn:aws:s3:::b/k", true), true},
      {"resources.type other type", "field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'resources.type' equals: 'AWS::DynamoDB::Table' }",
       S3ObjectEvent("GetObject", "arn:aws:s3:::b/k", true), false},
      {"resources.ARN startswith bucket", "field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'resources.type' equals: 'AWS::S3::Object' } field_selectors { field: 'resources.ARN' starts_with: 'arn:aws:s3:::examplebucket/' }",
       S3ObjectEvent("GetObject", "arn:aws:s3:::examplebucket/k", true), true},
      // The ARN condition must hold for the SAME resource as the type
      // condition: the bucket resource's ARN "arn:aws:s3:::examplebucket"
      // must not satisfy an Object selector on its own.
      {"resource conditions per resource", "field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'resources.type' equals: 'AWS::S3::Object' } field_selectors { field: 'resources.ARN' equals: 'arn:aws:s3:::examplebucket' }",
       S3ObjectEvent("GetObject", "arn:aws:s3:::examplebucket/k", true), false},
      {"resources.ARN notstartswith", "field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'resources.type' equals: 'AWS::S3::Object' } field_selectors { field: 'resources.ARN' not_starts_with: 'arn:aws:s3:::examplebucket/private/' }",
       S3ObjectEvent("GetObject", "arn:aws:s3:::examplebucket/private/k", true), false},
      {"resources.ARN endswith", "field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'resources.type' equals: 'AWS::Lambda::Function' } field_selectors { field: 'resources.ARN' ends_with: ':function:payments' }",
       LambdaInvoke("arn:aws:lambda:eu-west-1:111122223333:function:payments"), true},
      {"userIdentity.arn", "field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'userIdentity.arn' starts_with: 'arn:aws:sts::111122223333:assumed-role/Admin/' }",
       ConsoleEvent(), true},
      {"userIdentity.arn not", "field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'userIdentity.arn' not_ends_with: '/alice' }",
       ConsoleEvent(), false},
      {"sessionCredentialFromConsole equals", "field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'sessionCredentialFromConsole' equals: 'true' }",
       ConsoleEvent(), true},
      {"sessionCredentialFromConsole absent equals", "field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'sessionCredentialFromConsole' equals: 'true' }",
       S3ObjectEvent("GetObject", "arn:aws:s3:::b/k", true), false},
      {"sessionCredentialFromConsole notequals absent", "field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'sessionCredentialFromConsole' not_equals: 'true' }",
       S3ObjectEvent("GetObject", "arn:aws:s3:::b/k", true), true},
      {"unknown field never matches", "field_selectors { field: 'eventCategory' equals: 'Management' } field_selectors { field: 'bogus' not_equals: 'x' }",
       MgmtEvent("ec2.amazonaws.com", "RunInstances", false), false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(AdvancedSelectorMatches(Advanced(c.selector), c.event), c.expected) << c.name;
  }
}

TEST(AdvancedSelectorTest, NetworkActivityFields) {
  v1::Event e = MgmtEvent("s3.amazonaws.com", "ListBuckets", true);
  e.set_event_category("NetworkActivity");
  e.set_event_type("AwsVpceEvent");
  e.set_error_code("VpceAccessDenied");
  e.set_vpc_endpoint_id("vpce-0123");
  const auto sel = Advanced(
      "field_selectors { field: 'eventCategory' equals: 'NetworkActivity' } "
      "field_selectors { field: 'eventSource' equals: 's3.amazonaws.com' } "
      "field_selectors { field: 'errorCode' equals: 'VpceAccessDenied' } "
      "field_selectors { field: 'vpcEndpointId' not_equals: 'vpce-9999' }");
  EXPECT_TRUE(AdvancedSelectorMatches(sel, e));
  e.clear_error_code();
  EXPECT_FALSE(AdvancedSelectorMatches(sel, e));
}

TEST(AdvancedSelectorTest, SelectorsOredOnTrail) {
  v1::Trail trail = LoggingTrail();
  *trail.add_advanced_event_selectors() = Advanced(
      "name: 'mgmt writes' field_selectors { field: 'eventCategory' equals: 'Management' } "
      "field_selectors { field: 'readOnly' equals: 'false' }");
  *trail.add_advanced_event_selectors() = Advanced(
      "name: 's3 puts' field_selectors { field: 'eventCategory' equals: 'Data' } "
      "field_selectors { field: 'resources.type' equals: 'AWS::S3::Object' } "
      "field_selectors { field: 'eventName' equals: 'PutObject' }");
  EXPECT_TRUE(TrailSelectsEvent(trail, MgmtEvent("ec2.amazonaws.com", "RunInstances", false), false, "us-east-1"));
  EXPECT_FALSE(TrailSelectsEvent(trail, MgmtEvent("ec2.amazonaws.com", "DescribeVpcs", true), false, "us-east-1"));
  EXPECT_TRUE(TrailSelectsEvent(trail, S3ObjectEvent("PutObject", "arn:aws:s3:::b/k", false), false, "us-east-1"));
  EXPECT_FALSE(TrailSelectsEvent(trail, S3ObjectEvent("GetObject", "arn:aws:s3:::b/k", true), false, "us-east-1"));
  // Advanced selectors replace the basic defaults (no implicit management).
  v1::Trail data_only = LoggingTrail();
  *data_only.add_advanced_event_selectors() = Advanced(
      "field_selectors { field: 'eventCategory' equals: 'Data' } "
      "field_selectors { field: 'resources.type' equals: 'AWS::Lambda::Function' }");
  EXPECT_FALSE(TrailSelectsEvent(data_only, MgmtEvent("ec2.amazonaws.com", "RunInstances", false), false, "us-east-1"));
}

// ---------------------------------------------------------------- trails

TEST(TrailScopeTest, LoggingOffTakesNothing) {
  v1::Trail trail = LoggingTrail();
  trail.set_is_logging(false);
  EXPECT_FALSE(TrailSelectsEvent(trail, MgmtEvent("ec2.amazonaws.com", "RunInstances", false), false, "us-east-1"));
}

TEST(TrailScopeTest, RegionRules) {
  v1::Trail multi = LoggingTrail();
  v1::Trail single = LoggingTrail();
  single.set_is_multi_region_trail(false);
  single.set_home_region("eu-west-1");
  const auto eu = MgmtEvent("ec2.amazonaws.com", "RunInstances", false, "eu-west-1");
  const auto us = MgmtEvent("ec2.amazonaws.com", "RunInstances", false, "us-west-2");
  EXPECT_TRUE(TrailSelectsEvent(multi, eu, false, "us-east-1"));
  EXPECT_TRUE(TrailSelectsEvent(multi, us, false, "us-east-1"));
  EXPECT_TRUE(TrailSelectsEvent(single, eu, false, "us-east-1"));
  EXPECT_FALSE(TrailSelectsEvent(single, us, false, "us-east-1"));

  const auto iam = MgmtEvent("iam.amazonaws.com", "CreateUser", false, "us-east-1");
  // Multi-Region with global events: taken. Without: not.
  EXPECT_TRUE(TrailSelectsEvent(multi, iam, true, "us-east-1"));
  multi.set_include_global_service_events(false);
  EXPECT_FALSE(TrailSelectsEvent(multi, iam, true, "us-east-1"));
  // Single-Region outside the global home region stops receiving global events (Nov 2021).
  EXPECT_FALSE(TrailSelectsEvent(single, iam, true, "us-east-1"));
  // Single-Region trail in us-east-1 with IncludeGlobalServiceEvents gets them.
  v1::Trail single_use1 = single;
  single_use1.set_home_region("us-east-1");
  EXPECT_TRUE(TrailSelectsEvent(single_use1, iam, true, "us-east-1"));
  single_use1.set_include_global_service_events(false);
  EXPECT_FALSE(TrailSelectsEvent(single_use1, iam, true, "us-east-1"));
}

TEST(TrailEvaluatorTest, AnyTrailAndWhich) {
  v1::TrailConfig config;
  config.set_version(3);
  v1::Trail mgmt = LoggingTrail("mgmt");
  v1::Trail data = LoggingTrail("data");
  *data.add_event_selectors() = Basic(
      "include_management_events: false data_resources { type: 'AWS::S3::Object' values: "
      "'arn:aws:s3:::examplebucket/' }");
  v1::Trail stopped = LoggingTrail("stopped");
  stopped.set_is_logging(false);
  *config.add_trails() = mgmt;
  *config.add_trails() = data;
  *config.add_trails() = stopped;
  TrailEvaluator evaluator(config);
  EXPECT_EQ(evaluator.global_home_region(), "us-east-1");

  std::vector<std::string> trails;
  EXPECT_TRUE(evaluator.Selects(MgmtEvent("ec2.amazonaws.com", "RunInstances", false), &trails));
  EXPECT_EQ(trails, std::vector<std::string>({"mgmt"}));
  EXPECT_TRUE(evaluator.Selects(S3ObjectEvent("GetObject", "arn:aws:s3:::examplebucket/k", true), &trails));
  EXPECT_EQ(trails, std::vector<std::string>({"data"}));
  EXPECT_FALSE(evaluator.Selects(S3ObjectEvent("GetObject", "arn:aws:s3:::other/k", true), &trails));
  EXPECT_TRUE(trails.empty());

  TrailEvaluator empty(v1::TrailConfig{});
  EXPECT_FALSE(empty.Selects(MgmtEvent("ec2.amazonaws.com", "RunInstances", false)));
}

// ---------------------------------------------------------------- validation

TEST(TrailValidationTest, Names) {
  for (const char* ok : {"abc", "org-trail", "My.Trail_1", "a1b"}) {
    EXPECT_TRUE(ValidateTrailName(ok).ok()) << ok;
  }
  for (const char* bad : {"", "ab", "-abc", "abc-", "a--b", "a._b", "a b c", "trail/1",
                          "192.168.1.1", "\xff\xfe\xfd"}) {
    const Status s = ValidateTrailName(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("InvalidTrailNameException"), std::string::npos);
  }
  EXPECT_FALSE(ValidateTrailName(std::string(129, 'a')).ok());
  EXPECT_TRUE(ValidateTrailName(std::string(128, 'a')).ok());
}

TEST(TrailValidationTest, BasicSelectors) {
  google::protobuf::RepeatedPtrField<v1::EventSelector> s;
  *s.Add() = Basic("exclude_management_event_sources: 'kms.amazonaws.com'");
  EXPECT_TRUE(ValidateEventSelectors(s).ok());
  *s.Add() = Basic("exclude_management_event_sources: 'ec2.amazonaws.com'");
  EXPECT_FALSE(ValidateEventSelectors(s).ok());

  google::protobuf::RepeatedPtrField<v1::EventSelector> bad_type;
  *bad_type.Add() = Basic("data_resources { type: 'AWS::EC2::Instance' values: 'arn:aws:ec2' }");
  EXPECT_FALSE(ValidateEventSelectors(bad_type).ok());

  google::protobuf::RepeatedPtrField<v1::EventSelector> six;
  for (int i = 0; i < 6; ++i) *six.Add() = Basic("");
  EXPECT_FALSE(ValidateEventSelectors(six).ok());

  google::protobuf::RepeatedPtrField<v1::EventSelector> many;
  auto* sel = many.Add();
  auto* dr = sel->add_data_resources();
  dr->set_type("AWS::S3::Object");
  for (int i = 0; i < 251; ++i) dr->add_values("arn:aws:s3:::bucket" + std::to_string(i) + "/");
  EXPECT_FALSE(ValidateEventSelectors(many).ok());
}

TEST(TrailValidationTest, AdvancedSelectors) {
  struct Case { const char* text; bool ok; };
  const std::vector<Case> cases = {
      {"field_selectors { field: 'eventCategory' equals: 'Management' }", true},
      {"field_selectors { field: 'readOnly' equals: 'true' }", false},  // no eventCategory
      {"field_selectors { field: 'eventCategory' not_equals: 'Management' }", false},
      {"field_selectors { field: 'eventCategory' equals: 'Everything' }", false},
      {"field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'readOnly' equals: 'yes' }", false},
      {"field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'resources.type' starts_with: 'AWS::' }", false},
      {"field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'sessionCredentialFromConsole' starts_with: 't' }", false},
      {"field_selectors { field: 'eventCategory' equals: 'NetworkActivity' } field_selectors { field: 'errorCode' equals: 'AccessDenied' }", false},
      {"field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'nope' equals: 'x' }", false},
      {"field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'eventName' }", false},
      {"field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'eventName' equals: '' }", false},
      {"", false},
      {"field_selectors { field: 'eventCategory' equals: 'Data' } field_selectors { field: 'resources.type' equals: 'AWS::S3::Object' } field_selectors { field: 'resources.ARN' not_starts_with: 'arn:aws:s3:::b/' }", true},
  };
  for (const auto& c : cases) {
    google::protobuf::RepeatedPtrField<v1::AdvancedEventSelector> s;
    *s.Add() = Advanced(c.text);
    EXPECT_EQ(ValidateAdvancedEventSelectors(s).ok(), c.ok) << c.text;
  }
  google::protobuf::RepeatedPtrField<v1::AdvancedEventSelector> too_many_values;
  auto* sel = too_many_values.Add();
  auto* f = sel->add_field_selectors();
  f->set_field("eventCategory");
  f->add_equals("Data");
  auto* names = sel->add_field_selectors();
  names->set_field("eventName");
  for (int i = 0; i < 500; ++i) names->add_equals("E" + std::to_string(i));
  EXPECT_FALSE(ValidateAdvancedEventSelectors(too_many_values).ok());
  google::protobuf::RepeatedPtrField<v1::AdvancedEventSelector> long_value;
  *long_value.Add() = Advanced("field_selectors { field: 'eventCategory' equals: 'Data' }");
  long_value[0].mutable_field_selectors(0)->add_equals(std::string(2049, 'x'));
  EXPECT_FALSE(ValidateAdvancedEventSelectors(long_value).ok());
}

TEST(TrailValidationTest, Trail) {
  v1::Trail t = LoggingTrail();
  EXPECT_TRUE(ValidateTrail(t).ok());
  *t.add_event_selectors() = Basic("");
  *t.add_advanced_event_selectors() =
      Advanced("field_selectors { field: 'eventCategory' equals: 'Management' }");
  EXPECT_FALSE(ValidateTrail(t).ok());
  v1::Trail prefix = LoggingTrail();
  prefix.set_s3_key_prefix(std::string(201, 'p'));
  EXPECT_FALSE(ValidateTrail(prefix).ok());
  v1::Trail region = LoggingTrail();
  region.set_home_region("sagov-westsouth-1r");
  EXPECT_FALSE(ValidateTrail(region).ok());
  v1::Trail insights = LoggingTrail();
  insights.add_insight_selectors()->set_insight_type("ApiCallRateInsight");
  insights.add_insight_selectors()->set_insight_type("ApiErrorRateInsight");
  EXPECT_TRUE(ValidateTrail(insights).ok());
  insights.add_insight_selectors()->set_insight_type("ApiErrorRateInsight");
  EXPECT_NE(ValidateTrail(insights).message().find("InvalidInsightSelectorsException: InsightType ApiErrorRateInsight given twice"),
            std::string_view::npos);
  insights.mutable_insight_selectors()->RemoveLast();
  insights.add_insight_selectors()->set_insight_type("apicallrateinsight");
  EXPECT_NE(ValidateTrail(insights).message().find("InvalidInsightSelectorsException"), std::string_view::npos);
  EXPECT_EQ(TrailArn("us-east-1", "111122223333", "org"),
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/org");
}

}  // namespace
}  // namespace orgtrail
