// The agent runs on the allocator its build chose (cmake/OrgtrailAllocator.cmake:
// ORGTRAIL_AGENT_ALLOCATOR, the C library's malloc by default; sanitizer builds always), and says
// which in its "agent starting" log line, so an operator can tell from the log. The expected name
// comes from the same CMake setting that linked the binary (tests/CMakeLists.txt).
#include <string>

#include "agent_harness.h"

#ifndef ORGTRAIL_EXPECTED_AGENT_ALLOCATOR
#error "tests/CMakeLists.txt defines ORGTRAIL_EXPECTED_AGENT_ALLOCATOR for this file"
#endif

namespace orgtrail::testutil {
namespace {

TEST(AgentAllocatorTest, StartingLogNamesTheAllocatorTheBuildLinked) {
  AgentHarness h;
  h.StartCollector();
  AgentProcess* agent = h.StartAgent("alloc", "111122223333", "eu-west-1", {});
  ASSERT_NE(agent->ops_port, 0) << agent->process->ReadLog();
  const std::string log = agent->process->ReadStderr();
  const size_t message = log.find("\"agent starting\"");
  ASSERT_NE(message, std::string::npos) << log;
  const size_t newline_before = log.rfind('\n', message);
  const size_t line_start = newline_before == std::string::npos ? 0 : newline_before + 1;
  const std::string starting = log.substr(line_start, log.find('\n', message) - line_start);
  EXPECT_NE(starting.find(std::string("\"allocator\":\"") + ORGTRAIL_EXPECTED_AGENT_ALLOCATOR + "\""),
            std::string::npos)
      << starting;
}

}  // namespace
}  // namespace orgtrail::testutil
