// Classification: global services (incl. STS global vs regional endpoint),
// management/data, read/write, region and account id shapes.
#include "orgtrail/common/classify.h"

#include <gtest/gtest.h>

#include <string>

namespace orgtrail {
namespace {

v1::Event EventFrom(const std::string& source, const std::string& region,
                    const std::string& host_header = "") {
  v1::Event e;
  e.set_event_source(source);
  e.set_aws_region(region);
  e.set_client_host_header(host_header);
  return e;
}

TEST(ClassifyTest, DefaultGlobalServices) {
  GlobalServiceClassifier classifier;
  for (const char* source : {"iam.amazonaws.com", "cloudfront.amazonaws.com", "route53.amazonaws.com",
                             "organizations.amazonaws.com", "signin.amazonaws.com",
                             "health.amazonaws.com"}) {
    EXPECT_TRUE(classifier.IsGlobal(EventFrom(source, "eu-west-1"))) << source;
    EXPECT_EQ(PartitionRegion(EventFrom(source, "eu-west-1"), classifier, "us-east-1"), "us-east-1");
  }
  for (const char* source : {"ec2.amazonaws.com", "s3.amazonaws.com", "", "iam.amazonaws.com.evil",
                             "IAM.amazonaws.com", "iam"}) {
    EXPECT_FALSE(classifier.IsGlobal(EventFrom(source, "eu-west-1"))) << source;
    EXPECT_EQ(PartitionRegion(EventFrom(source, "eu-west-1"), classifier, "us-east-1"), "eu-west-1");
  }
  EXPECT_EQ(classifier.sources().size(), 7u);
}

TEST(ClassifyTest, StsGlobalEndpointOnly) {
  GlobalServiceClassifier classifier;
  EXPECT_TRUE(classifier.IsGlobal(EventFrom("sts.amazonaws.com", "us-east-1")));
  EXPECT_TRUE(classifier.IsGlobal(EventFrom("sts.amazonaws.com", "us-east-1", "sts.amazonaws.com")));
  EXPECT_FALSE(classifier.IsGlobal(
      EventFrom("sts.amazonaws.com", "eu-west-1", "sts.eu-west-1.amazonaws.com")));
  EXPECT_EQ(PartitionRegion(EventFrom("sts.amazonaws.com", "eu-west-1", "sts.eu-west-1.amazonaws.com"),
                            classifier, "us-east-1"),
            "eu-west-1");
}

TEST(ClassifyTest, CustomGlobalSet) {
  GlobalServiceClassifier classifier({"s3.amazonaws.com", "sts.amazonaws.com"});
  EXPECT_TRUE(classifier.IsGlobal(EventFrom("s3.amazonaws.com", "eu-west-1")));
  EXPECT_FALSE(classifier.IsGlobal(EventFrom("iam.amazonaws.com", "eu-west-1")));
  EXPECT_FALSE(classifier.IsGlobal(
      EventFrom("sts.amazonaws.com", "ap-south-1", "sts.ap-south-1.amazonaws.com")));
  EXPECT_EQ(PartitionRegion(EventFrom("s3.amazonaws.com", "eu-west-1"), classifier, "eu-central-1"),
            "eu-central-1");
  GlobalServiceClassifier none(std::vector<std::string>{});
  EXPECT_FALSE(none.IsGlobal(EventFrom("iam.amazonaws.com", "us-east-1")));
}

TEST(ClassifyTest, ManagementDataReadOnly) {
  v1::Event e;
  e.set_event_category("Management");
  EXPECT_TRUE(IsManagementEvent(e));
  EXPECT_FALSE(IsDataEvent(e));
  e.set_event_category("Data");
  EXPECT_FALSE(IsManagementEvent(e));
  EXPECT_TRUE(IsDataEvent(e));
  e.set_event_category("NetworkActivity");
  EXPECT_FALSE(IsManagementEvent(e));
  EXPECT_FALSE(IsDataEvent(e));
  EXPECT_FALSE(IsReadOnly(e));  // absent readOnly counts as write
  e.set_read_only(false);
  EXPECT_FALSE(IsReadOnly(e));
  e.set_read_only(true);
  EXPECT_TRUE(IsReadOnly(e));
}

TEST(ClassifyTest, RealRegionNamesAccepted) {
  for (const char* region :
       {"us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1",
        "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-4", "ap-southeast-7",
        "ap-northeast-3", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
        "eu-west-3", "eu-north-1", "eu-south-2", "il-central-1", "me-south-1", "me-central-1",
        "mx-central-1", "sa-east-1", "us-gov-west-1", "us-gov-east-1", "cn-north-1",
        "cn-northwest-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1"}) {
    EXPECT_TRUE(IsValidRegionName(region)) << region;
  }
}

TEST(ClassifyTest, FakeAndMalformedRegionNamesRefused) {
  for (const char* region :
       {"sagov-westsouth-1r", "us-north-2r", "apiso-northsouth-3r", "ap-isob-central-3r",
        "eu-west-2r", "me-south-1r", "cniso-east-3r", "ca-isob-northsouth-1r", "redacted", "",
        "us-east", "us-east-", "-us-east-1", "us-east-1-", "us--east-1", "US-EAST-1", "us-east-01",
        "us-east-100", "us-east-1a", "u-east-1", "usa-east-1", "us-foo-east-1", "us-gov-gov-west-1",
        "us-east-1 ", " us-east-1", "us_east_1", "us-east-one", "us-gov-westsouth-1",
        "us-east-1-us-east-1-x", "aws-global", "global"}) {
    EXPECT_FALSE(IsValidRegionName(region)) << region;
  }
  EXPECT_FALSE(IsValidRegionName(std::string("us-east-1\0", 10)));
  EXPECT_FALSE(IsValidRegionName(std::string(10000, 'a')));
}

TEST(ClassifyTest, AccountIds) {
  EXPECT_TRUE(IsValidAccountId("123456789012"));
  EXPECT_TRUE(IsValidAccountId("000000000000"));
  for (const char* bad : {"", "12345678901", "1234567890123", "12345678901a", " 23456789012",
                          "１23456789012", "-12345678901", "12345678901\n"}) {
    EXPECT_FALSE(IsValidAccountId(bad)) << bad;
  }
}

}  // namespace
}  // namespace orgtrail
