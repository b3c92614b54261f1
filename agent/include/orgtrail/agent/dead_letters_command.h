// `orgtrail-agent dead-letters`: what an operator does with the batches the
// collector refused for good (or whose spooled bytes no longer parse). Lists
// them (one JSON object per line: sequence, reason, events, eventIDs) and,
// with --replay, moves their events back to pending so the agent sends them
// again under new sequences once it runs (after the cause was fixed, e.g. a
// batch limit or a certificate). Runs on a stopped agent's spool: a running
// agent holds the spool's lock and the command says so. With --quarantine it
// lists the quarantine instead (malformed files, over-long lines, records
// refused at the source, unreadable spool entries: key, reason, bytes).
// Exit codes: 0 done, 1 spool error, 2 usage error.
#ifndef ORGTRAIL_AGENT_DEAD_LETTERS_COMMAND_H_
#define ORGTRAIL_AGENT_DEAD_LETTERS_COMMAND_H_

#include <ostream>

namespace orgtrail::agent {

// argv[0] is "dead-letters".
int RunDeadLettersCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace orgtrail::agent

#endif  // ORGTRAIL_AGENT_DEAD_LETTERS_COMMAND_H_
