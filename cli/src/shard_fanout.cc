// Queries over sharded collectors, merged (shard_fanout.h).
#include "shard_fanout.h"

#include <cstdlib>
#include <memory>
#include <sstream>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/str_cat.h"
#include "orgtrail/v1/query.grpc.pb.h"

namespace orgtrail::cli {
namespace {

constexpr char kTokenPrefix[] = "o1.";
constexpr size_t kMaxTokenBytes = 64 * 1024;

// Where one shard's reading stands.
struct Cursor {
  std::string page_token;  // the collector's token of the page being read ("" = first page)
  size_t skip = 0;         // events of that page already printed
  bool done = false;       // no more events on this shard
};

std::string EncodeToken(const std::vector<ShardTarget>& shards, const std::vector<Cursor>& cursors) {
  std::string text;
  for (size_t i = 0; i < shards.size(); ++i) {
    text += StrCat(shards[i].name, "\t", HexEncode(cursors[i].page_token), "\t", cursors[i].skip, "\t",
                   cursors[i].done ? 1 : 0, "\n");
  }
  return kTokenPrefix + Base64Encode(text);
}

Status BadToken(const std::string& why) { return absl::InvalidArgumentError("--starting-token: " + why); }

StatusOr<std::vector<Cursor>> DecodeToken(const std::vector<ShardTarget>& shards, const std::string& token) {
  std::vector<Cursor> cursors(shards.size());
  if (token.empty()) return cursors;
  if (token.size() > kMaxTokenBytes) return BadToken("longer than 64 KiB");
  if (token.rfind(kTokenPrefix, 0) != 0) return BadToken("not a NextToken of a sharded lookup-events");
  auto text = Base64Decode(std::string_view(token).substr(sizeof(kTokenPrefix) - 1));
  if (!text.ok()) return BadToken("not base64");
  std::istringstream lines(*text);
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    if (i >= shards.size()) return BadToken("names more shards than the shard map has");
    std::vector<std::string> fields;
    std::istringstream parts(line);
    std::string field;
    while (std::getline(parts, field, '\t')) fields.push_back(field);
    if (!line.empty() && line.back() == '\t') fields.emplace_back();
    if (fields.size() != 4) return BadToken("malformed");
    if (fields[0] != shards[i].name) {
      return BadToken(StrCat("was made for other shards ('", fields[0].substr(0, 64), "' where the map has '",
                             shards[i].name, "')"));
    }
    auto page_token = HexDecode(fields[1]);
    if (!page_token.ok()) return BadToken("malformed");
    cursors[i].page_token = *page_token;
    if (fields[2].empty() || fields[2].size() > 4 || fields[2].find_first_not_of("0123456789") != std::string::npos) {
      return BadToken("malformed");
    }
    cursors[i].skip = std::stoul(fields[2]);
    if (cursors[i].skip > 1000 || (fields[3] != "0" && fields[3] != "1")) return BadToken("malformed");
    cursors[i].done = fields[3] == "1";
    ++i;
  }
  if (i != shards.size()) return BadToken("names fewer shards than the shard map has");
  return cursors;
}

// One shard's stream of events, page by page.
class ShardReader {
 public:
  ShardReader(const ShardTarget& target, const v1::LookupEventsRequest& request, int page_size, Cursor cursor)
      : target_(target), request_(request), page_size_(page_size), cursor_(std::move(cursor)) {}

  // The next event (nullptr at the end), fetching pages as needed.
  StatusOr<const v1::LookupEvent*> Peek() {
    while (!cursor_.done) {
      if (!fetched_) {
        ORGTRAIL_RETURN_IF_ERROR(Fetch());
        pos_ = cursor_.skip;
      }
      if (pos_ < page_.events_size()) return &page_.events(pos_);
      if (page_.next_token().empty()) {
        cursor_.done = true;
        break;
      }
      cursor_.page_token = page_.next_token();
      cursor_.skip = 0;
      fetched_ = false;
    }
    return static_cast<const v1::LookupEvent*>(nullptr);
  }
  void Pop() {
    ++pos_;
    cursor_.skip = pos_;
  }
  const Cursor& cursor() const { return cursor_; }

 private:
  Status Fetch() {
    if (stub_ == nullptr) {
      auto channel = MakeCollectorChannel(target_.connection);
      if (!channel.ok()) return channel.status();
      stub_ = v1::Query::NewStub(*channel);
    }
    v1::LookupEventsRequest request = request_;
    request.set_max_results(page_size_);
    request.set_next_token(cursor_.page_token);
    grpc::ClientContext context;
    SetDeadline(target_.connection, &context);
    page_.Clear();
    const grpc::Status status = stub_->LookupEvents(&context, request, &page_);
    if (!status.ok()) {
      return absl::UnavailableError(
          StrCat("shard '", target_.name, "': ", DescribeRpcError(target_.connection, status)));
    }
    fetched_ = true;
    return absl::OkStatus();
  }

  const ShardTarget& target_;
  const v1::LookupEventsRequest& request_;
  int page_size_;
  Cursor cursor_;
  std::unique_ptr<v1::Query::Stub> stub_;
  v1::LookupEventsResponse page_;
  bool fetched_ = false;
  int pos_ = 0;
};

}  // namespace

std::vector<ShardTarget> ShardTargets(const ShardMap& map, const ConnectionOptions& base) {
  std::vector<ShardTarget> targets;
  for (const Shard& shard : map.shards()) {
    ShardTarget target{shard.name, base};
    target.connection.collector = shard.endpoint;
    target.connection.tls_server_name.clear();  // the shard's own host
    targets.push_back(std::move(target));
  }
  return targets;
}

StatusOr<ShardedLookupResult> ShardedLookup(const std::vector<ShardTarget>& shards,
                                            const ShardedLookupOptions& options) {
  auto cursors = DecodeToken(shards, options.starting_token);
  if (!cursors.ok()) return cursors.status();
  std::vector<std::unique_ptr<ShardReader>> readers;
  for (size_t i = 0; i < shards.size(); ++i) {
    readers.push_back(std::make_unique<ShardReader>(shards[i], options.request, options.page_size, (*cursors)[i]));
  }
  const int64_t limit = options.max_items > 0 ? options.max_items : (options.paginate ? 0 : options.page_size);
  ShardedLookupResult result;
  while (limit == 0 || static_cast<int64_t>(result.events.size()) < limit) {
    int best = -1;
    const v1::LookupEvent* best_event = nullptr;
    for (size_t i = 0; i < readers.size(); ++i) {
      auto next = readers[i]->Peek();
      if (!next.ok()) return next.status();
      if (*next == nullptr) continue;
      if (best_event == nullptr || (*next)->event_time_us() > best_event->event_time_us()) {
        best = static_cast<int>(i);
        best_event = *next;
      }
    }
    if (best < 0) break;  // every shard is done
    result.events.push_back(*best_event);
    readers[best]->Pop();
  }
  bool more = false;
  std::vector<Cursor> after;
  for (auto& reader : readers) {
    auto next = reader->Peek();  // settles "done" for a shard whose last page was just emptied
    if (!next.ok()) return next.status();
    more = more || *next != nullptr;
    after.push_back(reader->cursor());
  }
  if (more) result.next_token = EncodeToken(shards, after);
  return result;
}

Status CheckMergedNextToken(const std::vector<ShardTarget>& shards, const std::string& token) {
  return DecodeToken(shards, token).status();
}

StatusOr<v1::GetEventResponse> FetchEventFrom(const ConnectionOptions& connection, const std::string& event_id,
                                              const std::string& account) {
  auto channel = MakeCollectorChannel(connection);
  if (!channel.ok()) return channel.status();
  auto stub = v1::Query::NewStub(*channel);
  v1::GetEventRequest request;
  request.set_event_id(event_id);
  request.set_recipient_account_id(account);
  v1::GetEventResponse response;
  grpc::ClientContext context;
  SetDeadline(connection, &context);
  const grpc::Status status = stub->GetEvent(&context, request, &response);
  if (status.ok()) return response;
  const std::string message = DescribeRpcError(connection, status);
  return status.error_code() == grpc::StatusCode::NOT_FOUND ? absl::NotFoundError(message)
                                                            : absl::UnavailableError(message);
}

StatusOr<v1::GetEventResponse> ShardedGetEvent(const std::vector<ShardTarget>& shards, const std::string& event_id,
                                               const std::string& account) {
  for (const ShardTarget& shard : shards) {
    auto event = FetchEventFrom(shard.connection, event_id, account);
    if (event.ok() || event.status().code() == absl::StatusCode::kInvalidArgument) return event;
    if (event.status().code() != absl::StatusCode::kNotFound) {
      return absl::UnavailableError(StrCat("shard '", shard.name, "': ", std::string(event.status().message())));
    }
  }
  return absl::NotFoundError(StrCat("event ", event_id, " is in none of the ", shards.size(), " shards"));
}

StatusOr<std::vector<ShardTarget>> ShardTargetsFromValues(const boost::program_options::variables_map& values,
                                                          const ConnectionOptions& connection) {
  std::string path = values.count("shard-map") ? values["shard-map"].as<std::string>() : std::string();
  if (path.empty() && std::getenv("ORGTRAIL_SHARD_MAP") != nullptr) path = std::getenv("ORGTRAIL_SHARD_MAP");
  if (path.empty()) return std::vector<ShardTarget>{};
  auto map = ShardMap::Load(path);
  if (!map.ok()) return absl::InvalidArgumentError("--shard-map: " + std::string(map.status().message()));
  return ShardTargets(*map, connection);
}

}  // namespace orgtrail::cli
