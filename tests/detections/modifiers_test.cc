// Field modifiers of the Sigma modifier appendix, wildcards, escapes, null / missing, arrays.
#include <gtest/gtest.h>

#include "sigma_test_util.h"

namespace orgtrail::detections {
namespace {

using testing::CompileError;
using testing::Matches;
using testing::MustCompile;

TEST(SigmaValues, PlainValueIsCaseInsensitiveExact) {
  auto rule = MustCompile("  sel:\n    eventName: DeleteTrail\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"eventName":"DeleteTrail"})"));
  EXPECT_TRUE(Matches(rule.get(), R"({"eventName":"deletetrail"})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"eventName":"DeleteTrails"})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"eventName":"XDeleteTrail"})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"other":"DeleteTrail"})"));
}

TEST(SigmaValues, ListIsOrAndAllIsAnd) {
  auto any = MustCompile("  sel:\n    eventName:\n      - StopLogging\n      - DeleteTrail\n  condition: sel\n");
  EXPECT_TRUE(Matches(any.get(), R"({"eventName":"StopLogging"})"));
  EXPECT_TRUE(Matches(any.get(), R"({"eventName":"DeleteTrail"})"));
  EXPECT_FALSE(Matches(any.get(), R"({"eventName":"CreateTrail"})"));
  auto all = MustCompile("  sel:\n    cmd|contains|all:\n      - '-a'\n      - '-b'\n  condition: sel\n");
  EXPECT_TRUE(Matches(all.get(), R"({"cmd":"x -b -a"})"));
  EXPECT_FALSE(Matches(all.get(), R"({"cmd":"x -a"})"));
}

TEST(SigmaValues, MapIsAnd) {
  auto rule = MustCompile("  sel:\n    eventSource: s3.amazonaws.com\n    eventName: ListBuckets\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"eventSource":"s3.amazonaws.com","eventName":"ListBuckets"})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"eventSource":"ec2.amazonaws.com","eventName":"ListBuckets"})"));
}

TEST(SigmaValues, ListOfMapsIsOr) {
  auto rule = MustCompile("  sel:\n    - a: '1'\n    - b: '2'\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"a":"1"})"));
  EXPECT_TRUE(Matches(rule.get(), R"({"b":2})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"a":"2","b":"1"})"));
}

TEST(SigmaWildcards, StarAndQuestionMark) {
  auto rule = MustCompile("  sel:\n    f: 'prog?.exe'\n    g: 'antivirus_V*.exe'\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"f":"progA.exe","g":"antivirus_V21.2.1.exe"})"));
  EXPECT_TRUE(Matches(rule.get(), R"({"f":"PROGb.EXE","g":"antivirus_V.exe"})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"f":"prog.exe","g":"antivirus_V1.exe"})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"f":"progAB.exe","g":"antivirus_V1.exe"})"));
  auto utf8 = MustCompile("  sel:\n    f: 'a?c'\n  condition: sel\n");
  EXPECT_TRUE(Matches(utf8.get(), "{\"f\":\"a\xC3\xA9" "c\"}"));  // ? is one code point
}

TEST(SigmaWildcards, EscapesPerSpecification) {
  // \* and \? are literal; \\* is a backslash then a wildcard; \\\* a backslash then a literal *.
  auto star = MustCompile(R"(  sel:
    f: 'a\*b'
  condition: sel
)");
  EXPECT_TRUE(Matches(star.get(), R"({"f":"a*b"})"));
  EXPECT_FALSE(Matches(star.get(), R"({"f":"axb"})"));
  auto q = MustCompile(R"(  sel:
    f: 'a\?'
  condition: sel
)");
  EXPECT_TRUE(Matches(q.get(), R"({"f":"a?"})"));
  EXPECT_FALSE(Matches(q.get(), R"({"f":"ab"})"));
  auto backslash_wild = MustCompile(R"(  sel:
    f: 'C:\\*'
  condition: sel
)");
  EXPECT_TRUE(Matches(backslash_wild.get(), R"({"f":"C:\\Windows"})"));
  auto backslash_lit = MustCompile(R"(  sel:
    f: 'C:\\\*'
  condition: sel
)");
  EXPECT_TRUE(Matches(backslash_lit.get(), R"({"f":"C:\\*"})"));
  EXPECT_FALSE(Matches(backslash_lit.get(), R"({"f":"C:\\Windows"})"));
  auto plain = MustCompile(R"(  sel:
    f: 'C:\Windows'
  condition: sel
)");
  EXPECT_TRUE(Matches(plain.get(), R"({"f":"C:\\Windows"})"));
  auto four = MustCompile(R"(  sel:
    f: 'a\\\\b'
  condition: sel
)");
  EXPECT_TRUE(Matches(four.get(), R"({"f":"a\\\\b"})"));
}

TEST(SigmaModifiers, ContainsStartswithEndswith) {
  auto c = MustCompile("  sel:\n    userAgent|contains: 'S3 Browser'\n  condition: sel\n");
  EXPECT_TRUE(Matches(c.get(), R"({"userAgent":"aws s3 browser 9.5"})"));
  EXPECT_FALSE(Matches(c.get(), R"({"userAgent":"aws-cli"})"));
  auto s = MustCompile("  sel:\n    eventName|startswith: 'UpdateFunctionConfiguration'\n  condition: sel\n");
  EXPECT_TRUE(Matches(s.get(), R"({"eventName":"UpdateFunctionConfiguration20150331v2"})"));
  EXPECT_FALSE(Matches(s.get(), R"({"eventName":"xUpdateFunctionConfiguration"})"));
  auto e = MustCompile("  sel:\n    f|endswith: '\\cmd.exe'\n  condition: sel\n");
  EXPECT_TRUE(Matches(e.get(), R"({"f":"C:\\Windows\\CMD.exe"})"));
  EXPECT_FALSE(Matches(e.get(), R"({"f":"cmd.exe.bak"})"));
}

TEST(SigmaModifiers, CasedIsCaseSensitive) {
  auto rule = MustCompile("  sel:\n    f|cased: 'AbC'\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"f":"AbC"})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"f":"abc"})"));
  auto contains = MustCompile("  sel:\n    f|contains|cased: 'Bc'\n  condition: sel\n");
  EXPECT_TRUE(Matches(contains.get(), R"({"f":"aBcd"})"));
  EXPECT_FALSE(Matches(contains.get(), R"({"f":"abcd"})"));
}

TEST(SigmaModifiers, RegexWithSubModifiers) {
  auto rule = MustCompile("  sel:\n    userIdentity.arn|re: '.+:assumed-role/aws:.+'\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"userIdentity":{"arn":"arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1"}})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"userIdentity":{"arn":"arn:aws:sts::1:assumed-role/admin/x"}})"));
  auto cased = MustCompile("  sel:\n    f|re: '^abc$'\n  condition: sel\n");
  EXPECT_TRUE(Matches(cased.get(), R"({"f":"abc"})"));
  EXPECT_FALSE(Matches(cased.get(), R"({"f":"ABC"})"));  // regex is case-sensitive by default
  auto i = MustCompile("  sel:\n    f|re|i: '^abc$'\n  condition: sel\n");
  EXPECT_TRUE(Matches(i.get(), R"({"f":"ABC"})"));
  auto m = MustCompile("  sel:\n    f|re|m: '^two$'\n  condition: sel\n");
  EXPECT_TRUE(Matches(m.get(), R"({"f":"one\ntwo\nthree"})"));
  auto no_m = MustCompile("  sel:\n    f|re: '^two$'\n  condition: sel\n");
  EXPECT_FALSE(Matches(no_m.get(), R"({"f":"one\ntwo\nthree"})"));
  auto s = MustCompile("  sel:\n    f|re|s: 'a.b'\n  condition: sel\n");
  EXPECT_TRUE(Matches(s.get(), R"({"f":"a\nb"})"));
  auto no_s = MustCompile("  sel:\n    f|re: 'a.b'\n  condition: sel\n");
  EXPECT_FALSE(Matches(no_s.get(), R"({"f":"a\nb"})"));
  auto alt = MustCompile("  sel:\n    f|re: '^(Stop|Delete)[A-Z][a-z]{3,6}$'\n  condition: sel\n");
  EXPECT_TRUE(Matches(alt.get(), R"({"f":"StopLogging"})"));
  EXPECT_FALSE(Matches(alt.get(), R"({"f":"StartLogging"})"));
}

TEST(SigmaModifiers, RegexFeaturesRe2CannotRunAreRefused) {
  for (const char* re : {"(a)\\1", "foo(?=bar)", "foo(?!bar)", "(?<=a)b", "(?>a+)b", "a++"}) {
    Status st = CompileError(std::string("  sel:\n    f|re: '") + re + "'\n  condition: sel\n");
    EXPECT_EQ(st.code(), absl::StatusCode::kUnimplemented) << re << " " << st;
    EXPECT_NE(std::string(st.message()).find("RE2"), std::string::npos) << st;
  }
}

TEST(SigmaModifiers, Exists) {
  auto yes = MustCompile("  sel:\n    errorCode|exists: true\n  condition: sel\n");
  EXPECT_TRUE(Matches(yes.get(), R"({"errorCode":"AccessDenied"})"));
  EXPECT_TRUE(Matches(yes.get(), R"({"errorCode":null})"));  // presence only, null included
  EXPECT_TRUE(Matches(yes.get(), R"({"errorCode":""})"));
  EXPECT_FALSE(Matches(yes.get(), R"({"eventName":"x"})"));
  auto no = MustCompile("  sel:\n    errorCode|exists: false\n  condition: sel\n");
  EXPECT_TRUE(Matches(no.get(), R"({"eventName":"x"})"));
  EXPECT_FALSE(Matches(no.get(), R"({"errorCode":"x"})"));
  EXPECT_FALSE(CompileError("  sel:\n    errorCode|exists: maybe\n  condition: sel\n").ok());
}

TEST(SigmaModifiers, FieldRef) {
  auto rule = MustCompile("  sel:\n    userIdentity.userName|fieldref: requestParameters.userName\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"userIdentity":{"userName":"Alice"},"requestParameters":{"userName":"alice"}})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"userIdentity":{"userName":"alice"},"requestParameters":{"userName":"bob"}})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"userIdentity":{"userName":"alice"}})"));
  auto ends = MustCompile("  sel:\n    userIdentity.arn|fieldref|endswith: requestParameters.userName\n  condition: sel\n");
  EXPECT_TRUE(Matches(ends.get(), R"({"userIdentity":{"arn":"arn:aws:iam::1:user/alice"},"requestParameters":{"userName":"alice"}})"));
  EXPECT_FALSE(Matches(ends.get(), R"({"userIdentity":{"arn":"arn:aws:iam::1:user/bob"},"requestParameters":{"userName":"alice"}})"));
}

TEST(SigmaModifiers, Cidr) {
  auto rule = MustCompile("  sel:\n    sourceIPAddress|cidr:\n      - 10.0.0.0/8\n      - '2001:db8::/32'\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"sourceIPAddress":"10.1.2.3"})"));
  EXPECT_TRUE(Matches(rule.get(), R"({"sourceIPAddress":"2001:db8::1"})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"sourceIPAddress":"11.0.0.1"})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"sourceIPAddress":"AWS Internal"})"));
  auto odd = MustCompile("  sel:\n    ip|cidr: 192.168.0.0/23\n  condition: sel\n");
  EXPECT_TRUE(Matches(odd.get(), R"({"ip":"192.168.1.200"})"));
  EXPECT_FALSE(Matches(odd.get(), R"({"ip":"192.168.2.1"})"));
  EXPECT_FALSE(CompileError("  sel:\n    ip|cidr: 10.0.0.0/33\n  condition: sel\n").ok());
  EXPECT_FALSE(CompileError("  sel:\n    ip|cidr: not-an-ip/8\n  condition: sel\n").ok());
}

TEST(SigmaModifiers, Base64) {
  // "/bin/sh" -> L2Jpbi9zaA==
  auto rule = MustCompile("  sel:\n    f|base64: '/bin/sh'\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"f":"L2Jpbi9zaA=="})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"f":"l2jpbi9zaa=="})"));  // encodings compare cased
  auto contains = MustCompile("  sel:\n    f|base64|contains: 'ab'\n  condition: sel\n");
  EXPECT_TRUE(Matches(contains.get(), R"({"f":"xxYWI=yy"})"));
}

TEST(SigmaModifiers, Base64Offset) {
  // The specification's pySigma variants of "/bin/bash": L2Jpbi9iYXNo, 9iaW4vYmFza, vYmluL2Jhc2
  auto rule = MustCompile("  sel:\n    f|base64offset|contains: '/bin/bash'\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"f":"echo L2Jpbi9iYXNoIC1j | base64 -d"})"));
  EXPECT_TRUE(Matches(rule.get(), R"({"f":"IC9iaW4vYmFzaA=="})"));   // " /bin/bash"
  EXPECT_TRUE(Matches(rule.get(), R"({"f":"ICAvYmluL2Jhc2g="})"));   // "  /bin/bash"
  EXPECT_FALSE(Matches(rule.get(), R"({"f":"L2Jpbi9zaA=="})"));
}

TEST(SigmaModifiers, Utf16ThenBase64) {
  // "cmd" in UTF-16LE is 63 00 6d 00 64 00, base64 "YwBtAGQA".
  auto rule = MustCompile("  sel:\n    f|wide|base64: 'cmd'\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"f":"YwBtAGQA"})"));
  auto be = MustCompile("  sel:\n    f|utf16be|base64: 'cmd'\n  condition: sel\n");
  EXPECT_TRUE(Matches(be.get(), R"({"f":"AGMAbQBk"})"));
  auto bom = MustCompile("  sel:\n    f|utf16|base64: 'cmd'\n  condition: sel\n");
  EXPECT_TRUE(Matches(bom.get(), R"({"f":"//5jAG0AZAA="})"));
}

TEST(SigmaModifiers, Windash) {
  auto rule = MustCompile("  sel:\n    cmd|windash|contains: ' -exec '\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"cmd":"x -exec y"})"));
  EXPECT_TRUE(Matches(rule.get(), R"({"cmd":"x /exec y"})"));
  EXPECT_TRUE(Matches(rule.get(), "{\"cmd\":\"x \xE2\x80\x93" "exec y\"}"));  // en dash
  EXPECT_TRUE(Matches(rule.get(), "{\"cmd\":\"x \xE2\x80\x94" "exec y\"}"));  // em dash
  EXPECT_TRUE(Matches(rule.get(), "{\"cmd\":\"x \xE2\x80\x95" "exec y\"}"));  // horizontal bar
  EXPECT_FALSE(Matches(rule.get(), R"({"cmd":"x +exec y"})"));
}

TEST(SigmaModifiers, NumericComparisons) {
  auto lt = MustCompile("  sel:\n    n|lt: 10\n  condition: sel\n");
  EXPECT_TRUE(Matches(lt.get(), R"({"n":9})"));
  EXPECT_TRUE(Matches(lt.get(), R"({"n":"9.5"})"));
  EXPECT_FALSE(Matches(lt.get(), R"({"n":10})"));
  EXPECT_FALSE(Matches(lt.get(), R"({"n":"ten"})"));
  auto lte = MustCompile("  sel:\n    n|lte: 10\n  condition: sel\n");
  EXPECT_TRUE(Matches(lte.get(), R"({"n":10})"));
  EXPECT_FALSE(Matches(lte.get(), R"({"n":10.5})"));
  auto gt = MustCompile("  sel:\n    n|gt: 10\n  condition: sel\n");
  EXPECT_TRUE(Matches(gt.get(), R"({"n":11})"));
  EXPECT_FALSE(Matches(gt.get(), R"({"n":10})"));
  auto gte = MustCompile("  sel:\n    n|gte: -1.5\n  condition: sel\n");
  EXPECT_TRUE(Matches(gte.get(), R"({"n":-1.5})"));
  EXPECT_FALSE(Matches(gte.get(), R"({"n":-2})"));
  EXPECT_FALSE(Matches(gte.get(), R"({"m":5})"));
  EXPECT_FALSE(CompileError("  sel:\n    n|gt: abc\n  condition: sel\n").ok());
}

TEST(SigmaModifiers, Neq) {
  auto rule = MustCompile("  sel:\n    userIdentity.type|neq: Root\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"userIdentity":{"type":"IAMUser"}})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"userIdentity":{"type":"root"}})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"eventName":"x"})"));  // absent: not "different"
}

TEST(SigmaModifiers, TimeParts) {
  auto rule = MustCompile("  sel:\n    eventTime|hour|gte: 22\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"eventTime":"2023-07-10T23:05:00Z"})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"eventTime":"2023-07-10T12:05:00Z"})"));
  auto month = MustCompile("  sel:\n    eventTime|month: 7\n  condition: sel\n");
  EXPECT_TRUE(Matches(month.get(), R"({"eventTime":"2023-07-10T23:05:00Z"})"));
}

TEST(SigmaModifiers, ExpandWithCallerPlaceholders) {
  CompileOptions options;
  options.placeholders["%Administrators%"] = {"admin*", "root"};
  auto rule = MustCompile("  sel:\n    userIdentity.userName|expand: '%Administrators%'\n  condition: sel\n", options);
  EXPECT_TRUE(Matches(rule.get(), R"({"userIdentity":{"userName":"admin-ops"}})"));
  EXPECT_TRUE(Matches(rule.get(), R"({"userIdentity":{"userName":"ROOT"}})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"userIdentity":{"userName":"alice"}})"));
  // Without the expand modifier a placeholder is a literal value.
  auto literal = MustCompile("  sel:\n    f: '%Administrators%'\n  condition: sel\n", options);
  EXPECT_TRUE(Matches(literal.get(), R"({"f":"%Administrators%"})"));
  EXPECT_FALSE(Matches(literal.get(), R"({"f":"root"})"));
  // Escaped percent, mixed with a placeholder.
  auto mixed = MustCompile("  sel:\n    f|expand: '\\%plain%Administrators%'\n  condition: sel\n", options);
  EXPECT_TRUE(Matches(mixed.get(), R"({"f":"%plainroot"})"));
  // A placeholder the caller did not supply refuses the rule.
  Status st = CompileError("  sel:\n    f|expand: '%Servers%'\n  condition: sel\n", options);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnimplemented) << st;
}

TEST(SigmaModifiers, UnknownAndInvalidCombinationsAreRefused) {
  EXPECT_EQ(CompileError("  sel:\n    f|frobnicate: x\n  condition: sel\n").code(), absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(CompileError("  sel:\n    f|re|contains: x\n  condition: sel\n").ok());
  EXPECT_FALSE(CompileError("  sel:\n    f|i: x\n  condition: sel\n").ok());
  EXPECT_FALSE(CompileError("  sel:\n    f|base64: 'a*'\n  condition: sel\n").ok());
  EXPECT_FALSE(CompileError("  sel:\n    f:\n      - a\n      - null\n  condition: sel\n").ok());
}

TEST(SigmaFields, NullAndMissing) {
  auto rule = MustCompile("  sel:\n    errorCode: null\n  condition: sel\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"eventName":"x"})"));
  EXPECT_TRUE(Matches(rule.get(), R"({"errorCode":null})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"errorCode":"AccessDenied"})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"errorCode":""})"));
  auto empty = MustCompile("  sel:\n    errorCode: ''\n  condition: sel\n");
  EXPECT_TRUE(Matches(empty.get(), R"({"errorCode":""})"));
  EXPECT_FALSE(Matches(empty.get(), R"({"eventName":"x"})"));
  EXPECT_FALSE(Matches(empty.get(), R"({"errorCode":null})"));
  auto any = MustCompile("  sel:\n    errorCode|contains: '*'\n  condition: sel\n");
  EXPECT_TRUE(Matches(any.get(), R"({"errorCode":"x"})"));
  EXPECT_FALSE(Matches(any.get(), R"({"errorCode":null})"));
  EXPECT_FALSE(Matches(any.get(), R"({"eventName":"x"})"));
}

TEST(SigmaFields, DottedPathsArraysAndTypes) {
  auto nested = MustCompile(
      "  sel:\n    requestParameters.containerDefinitions.command|contains: '$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'\n"
      "  condition: sel\n");
  EXPECT_TRUE(Matches(nested.get(),
      R"({"requestParameters":{"containerDefinitions":[{"command":["sh","-c"]},{"command":["curl 169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]}]}})"));
  EXPECT_FALSE(Matches(nested.get(), R"({"requestParameters":{"containerDefinitions":[{"command":["sh"]}]}})"));
  auto boolean = MustCompile("  sel:\n    responseElements.publiclyAccessible: 'true'\n  condition: sel\n");
  EXPECT_TRUE(Matches(boolean.get(), R"({"responseElements":{"publiclyAccessible":true}})"));
  EXPECT_FALSE(Matches(boolean.get(), R"({"responseElements":{"publiclyAccessible":false}})"));
  auto number = MustCompile("  sel:\n    requestParameters.maxResults: 1000\n  condition: sel\n");
  EXPECT_TRUE(Matches(number.get(), R"({"requestParameters":{"maxResults":1000}})"));
  EXPECT_TRUE(Matches(number.get(), R"({"requestParameters":{"maxResults":"1000"}})"));
  // An object is compared as its minified JSON (the rule aws_disable_bucket_versioning).
  auto object = MustCompile("  sel:\n    requestParameters|contains: 'Suspended'\n  condition: sel\n");
  EXPECT_TRUE(Matches(object.get(), R"({"requestParameters":{"VersioningConfiguration":{"Status":"Suspended"}}})"));
  EXPECT_FALSE(Matches(object.get(), R"({"requestParameters":{"VersioningConfiguration":{"Status":"Enabled"}}})"));
  auto quoted = MustCompile("  sel:\n    requestParameters|contains: '\"s3:GetObject\"'\n  condition: sel\n");
  EXPECT_TRUE(Matches(quoted.get(), R"({"requestParameters":{"policyDocument":"{\"Action\":[\"s3:GetObject\"]}"}})"));
  EXPECT_TRUE(Matches(quoted.get(), R"({"requestParameters":{"policyDocument":{"Action":["s3:GetObject"]}}})"));
}

TEST(SigmaFields, KeywordSearch) {
  auto rule = MustCompile("  keywords:\n    - 'TruffleHog'\n    - 'event::clear'\n  condition: keywords\n");
  EXPECT_TRUE(Matches(rule.get(), R"({"userAgent":"trufflehog/3.1"})"));
  EXPECT_TRUE(Matches(rule.get(), R"({"a":{"b":["x","run event::clear now"]}})"));
  EXPECT_FALSE(Matches(rule.get(), R"({"userAgent":"aws-cli"})"));
  auto all = MustCompile("  keywords:\n    '|all':\n      - 'OabVirtualDirectory'\n      - ' -ExternalUrl '\n  condition: keywords\n");
  EXPECT_TRUE(Matches(all.get(), R"({"cmd":"Set-OabVirtualDirectory -ExternalUrl http://x"})"));
  EXPECT_FALSE(Matches(all.get(), R"({"cmd":"Set-OabVirtualDirectory"})"));
}

}  // namespace
}  // namespace orgtrail::detections
