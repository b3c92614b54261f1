// The Sigma condition grammar: and, or, not, parentheses, 1 of / all of patterns and them,
// precedence, condition lists, and errors.
#include <gtest/gtest.h>

#include "sigma_test_util.h"

namespace orgtrail::detections {
namespace {

using testing::CompileError;
using testing::Matches;
using testing::MustCompile;

const char* kSelections =
    "  sel_a:\n    a: '1'\n  sel_b:\n    b: '1'\n  filter_c:\n    c: '1'\n  _hidden:\n    h: '1'\n";

std::unique_ptr<Rule> With(const std::string& condition) {
  return MustCompile(std::string(kSelections) + "  condition: " + condition + "\n");
}

TEST(SigmaCondition, AndOrNot) {
  auto r = With("sel_a and sel_b");
  EXPECT_TRUE(Matches(r.get(), R"({"a":"1","b":"1"})"));
  EXPECT_FALSE(Matches(r.get(), R"({"a":"1"})"));
  r = With("sel_a or sel_b");
  EXPECT_TRUE(Matches(r.get(), R"({"b":"1"})"));
  EXPECT_FALSE(Matches(r.get(), R"({"c":"1"})"));
  r = With("sel_a and not filter_c");
  EXPECT_TRUE(Matches(r.get(), R"({"a":"1"})"));
  EXPECT_FALSE(Matches(r.get(), R"({"a":"1","c":"1"})"));
  r = With("not not sel_a");
  EXPECT_TRUE(Matches(r.get(), R"({"a":"1"})"));
  r = With("sel_a AND NOT filter_c");  // operators are case-insensitive
  EXPECT_TRUE(Matches(r.get(), R"({"a":"1"})"));
}

TEST(SigmaCondition, PrecedenceAndParentheses) {
  // or < and < not: "sel_a or sel_b and filter_c" is "sel_a or (sel_b and filter_c)".
  auto r = With("sel_a or sel_b and filter_c");
  EXPECT_TRUE(Matches(r.get(), R"({"a":"1"})"));
  EXPECT_FALSE(Matches(r.get(), R"({"b":"1"})"));
  r = With("(sel_a or sel_b) and filter_c");
  EXPECT_FALSE(Matches(r.get(), R"({"a":"1"})"));
  EXPECT_TRUE(Matches(r.get(), R"({"b":"1","c":"1"})"));
  r = With("not sel_a and sel_b");  // (not sel_a) and sel_b
  EXPECT_TRUE(Matches(r.get(), R"({"b":"1"})"));
  EXPECT_FALSE(Matches(r.get(), R"({"a":"1","b":"1"})"));
  r = With("not (sel_a and sel_b)");
  EXPECT_TRUE(Matches(r.get(), R"({"a":"1"})"));
  EXPECT_FALSE(Matches(r.get(), R"({"a":"1","b":"1"})"));
  r = With("((sel_a))");
  EXPECT_TRUE(Matches(r.get(), R"({"a":"1"})"));
}

TEST(SigmaCondition, OneOfAndAllOfPatterns) {
  auto r = With("1 of sel_*");
  EXPECT_TRUE(Matches(r.get(), R"({"b":"1"})"));
  EXPECT_FALSE(Matches(r.get(), R"({"c":"1"})"));
  r = With("all of sel_*");
  EXPECT_TRUE(Matches(r.get(), R"({"a":"1","b":"1"})"));
  EXPECT_FALSE(Matches(r.get(), R"({"a":"1"})"));
  r = With("1 of sel_* and not 1 of filter*");
  EXPECT_TRUE(Matches(r.get(), R"({"a":"1"})"));
  EXPECT_FALSE(Matches(r.get(), R"({"a":"1","c":"1"})"));
  r = With("1 of *_b");
  EXPECT_TRUE(Matches(r.get(), R"({"b":"1"})"));
  EXPECT_FALSE(Matches(r.get(), R"({"a":"1"})"));
}

TEST(SigmaCondition, ThemLeavesOutUnderscoreIdentifiers) {
  auto r = With("1 of them");
  EXPECT_TRUE(Matches(r.get(), R"({"c":"1"})"));
  EXPECT_FALSE(Matches(r.get(), R"({"h":"1"})"));
  r = With("all of them");
  EXPECT_TRUE(Matches(r.get(), R"({"a":"1","b":"1","c":"1"})"));  // _hidden not needed
  EXPECT_FALSE(Matches(r.get(), R"({"a":"1","b":"1"})"));
  r = With("_hidden");  // still usable by name
  EXPECT_TRUE(Matches(r.get(), R"({"h":"1"})"));
}

TEST(SigmaCondition, ListOfConditionsIsOr) {
  auto r = MustCompile(std::string(kSelections) + "  condition:\n    - sel_a and sel_b\n    - filter_c\n");
  EXPECT_TRUE(Matches(r.get(), R"({"c":"1"})"));
  EXPECT_TRUE(Matches(r.get(), R"({"a":"1","b":"1"})"));
  EXPECT_FALSE(Matches(r.get(), R"({"a":"1"})"));
}

TEST(SigmaCondition, ErrorsAreClear) {
  auto err = [](const std::string& condition) {
    return CompileError(std::string(kSelections) + "  condition: '" + condition + "'\n");
  };
  EXPECT_FALSE(err("sel_a and").ok());
  EXPECT_FALSE(err("sel_a sel_b").ok());
  EXPECT_FALSE(err("(sel_a").ok());
  EXPECT_FALSE(err("sel_a)").ok());
  EXPECT_FALSE(err("unknown_sel").ok());
  EXPECT_FALSE(err("1 of nothing_*").ok());
  EXPECT_FALSE(err("1 of").ok());
  EXPECT_EQ(err("2 of sel_*").code(), absl::StatusCode::kUnimplemented);
  Status agg = err("sel_a | count() > 5");
  EXPECT_FALSE(agg.ok());
  EXPECT_NE(std::string(agg.message()).find("correlation"), std::string::npos) << agg;
  EXPECT_FALSE(err(std::string(100000, '(') + "sel_a").ok());  // deep nesting: an error, no crash
  EXPECT_FALSE(err(std::string(200, '(') + "sel_a" + std::string(200, ')')).ok());
  EXPECT_FALSE(CompileError("  sel_a:\n    a: 1\n").ok());  // no condition
}

}  // namespace
}  // namespace orgtrail::detections
