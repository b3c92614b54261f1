// FaultProxy (see fault_proxy.h): one acceptor thread, one pump thread per
// connection moving bytes both ways with poll(2) and non-blocking sockets.
#include "fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <vector>

namespace orgtrail::chaos {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

void CloseRst(int fd) {
  if (fd < 0) return;
  struct linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  ::close(fd);
}

int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// One direction of a connection: chunks read from `from`, due at a time, for `to`.
struct Lane {
  struct Chunk {
    int64_t due_ms;
    std::string bytes;
    size_t offset = 0;
  };
  std::deque<Chunk> queue;
  size_t queued = 0;
  double tokens = 0;
  int64_t last_refill_ms = 0;
};

enum class Event { kNone, kReset, kPartition, kHalfOpen };

}  // namespace

const char* ProxyModeName(ProxyMode mode) {
  switch (mode) {
    case ProxyMode::kPass: return "pass";
    case ProxyMode::kDelay: return "delay";
    case ProxyMode::kBandwidth: return "bandwidth";
    case ProxyMode::kDrop: return "drop";
    case ProxyMode::kPartition: return "partition";
    case ProxyMode::kReset: return "reset";
    case ProxyMode::kHalfOpen: return "half_open";
  }
  return "?";
}

struct FaultProxy::Conn {
  int client = -1;
  int upstream = -1;
  uint64_t generation = 0;
  bool half_open = false;
  std::atomic<bool> done{false};
};

StatusOr<std::unique_ptr<FaultProxy>> FaultProxy::Start(int upstream_port) {
  std::unique_ptr<FaultProxy> proxy(new FaultProxy());
  proxy->upstream_port_ = upstream_port;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(std::string("proxy socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    return absl::UnavailableError(std::string("proxy bind/listen: ") + std::strerror(errno));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  proxy->listen_fd_ = fd;
  proxy->port_ = ntohs(addr.sin_port);
  SetNonBlocking(fd);
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

FaultProxy::~FaultProxy() { Stop(); }

void FaultProxy::Stop() {
  if (stop_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& entry : pumps_) {
    if (entry.second.joinable()) entry.second.join();
  }
  pumps_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void FaultProxy::SetMode(ProxyMode mode, int64_t parameter) {
  parameter_.store(parameter);
  mode_.store(mode);
  if (mode == ProxyMode::kReset || mode == ProxyMode::kPartition || mode == ProxyMode::kHalfOpen) {
    generation_.fetch_add(1);
  }
}

void FaultProxy::AcceptLoop() {
  while (!stop_.load()) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    accepted_.fetch_add(1);
    const ProxyMode mode = mode_.load();
    if (mode == ProxyMode::kPartition) {  // refused: the connection is closed at once
      applied_.fetch_add(1);
      CloseRst(client);
      continue;
    }
    int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto conn = std::make_shared<Conn>();
    conn->client = client;
    conn->generation = generation_.load();
    if (mode == ProxyMode::kHalfOpen) {
      applied_.fetch_add(1);
      conn->half_open = true;  // the collector never hears of it
    } else {
      conn->upstream = ConnectLoopback(upstream_port_.load());
      if (conn->upstream < 0) {  // collector down: the agent sees a reset, as it would
        CloseRst(client);
        continue;
      }
      SetNonBlocking(conn->upstream);
    }
    SetNonBlocking(client);
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = pumps_.begin(); it != pumps_.end();) {  // reap finished pumps
      if (it->first->done.load()) {
        it->second.join();
        it = pumps_.erase(it);
      } else {
        ++it;
      }
    }
    pumps_.emplace_back(conn, std::thread([this, conn] { Pump(conn); }));
  }
}

void FaultProxy::Pump(std::shared_ptr<Conn> conn) {
  Lane up;    // client -> upstream
  Lane down;  // upstream -> client
  std::vector<char> buffer(16384);
  const int64_t start = NowMs();
  up.last_refill_ms = down.last_refill_ms = start;
  auto finish = [&](bool rst) {
    if (rst) {
      CloseRst(conn->client);
      CloseRst(conn->upstream);
    } else {
      ::close(conn->client);
      if (conn->upstream >= 0) ::close(conn->upstream);
    }
    conn->done = true;
  };
  while (!stop_.load()) {
    const ProxyMode mode = mode_.load();
    if (conn->generation != generation_.load()) {
      conn->generation = generation_.load();
      if (mode == ProxyMode::kReset || mode == ProxyMode::kPartition ||
          (mode == ProxyMode::kHalfOpen && !conn->half_open)) {
        applied_.fetch_add(1);
      }
      if (mode == ProxyMode::kReset) return finish(true);
      if (mode == ProxyMode::kPartition) return finish(false);
      if (mode == ProxyMode::kHalfOpen && !conn->half_open) {
        CloseRst(conn->upstream);
        conn->upstream = -1;
        conn->half_open = true;
      }
    }
    if (conn->half_open) {
      // Swallow whatever the agent sends; answer nothing; close only if the agent does.
      pollfd pfd{conn->client, POLLIN, 0};
      if (::poll(&pfd, 1, 50) > 0) {
        ssize_t n = ::read(conn->client, buffer.data(), buffer.size());
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return finish(false);
      }
      continue;
    }
    const bool stalled = mode == ProxyMode::kDrop;
    const int64_t now = NowMs();
    const int64_t delay = mode == ProxyMode::kDelay ? parameter_.load() : 0;
    const double rate = mode == ProxyMode::kBandwidth ? static_cast<double>(std::max<int64_t>(parameter_.load(), 1)) : 0;
    pollfd pfds[2] = {{conn->client, 0, 0}, {conn->upstream, 0, 0}};
    Lane* lanes[2] = {&up, &down};  // lane i reads from pfds[i], writes to pfds[1 - i]
    for (int i = 0; i < 2; ++i) {
      Lane& lane = *lanes[i];
      if (rate > 0) {
        lane.tokens = std::min(rate, lane.tokens + rate * static_cast<double>(now - lane.last_refill_ms) / 1000.0);
      }
      lane.last_refill_ms = now;
      if (!stalled && lane.queued < (1u << 20) && (rate == 0 || lane.tokens >= 1)) pfds[i].events |= POLLIN;
      if (!stalled && !lane.queue.empty() && lane.queue.front().due_ms <= now) pfds[1 - i].events |= POLLOUT;
    }
    ::poll(pfds, 2, 10);
    if (stalled) applied_.fetch_add(1);  // a live connection held: nothing crosses
    for (int i = 0; i < 2; ++i) {
      if (pfds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
        if (!(pfds[i].revents & POLLIN)) return finish(false);
      }
    }
    for (int i = 0; i < 2; ++i) {
      Lane& lane = *lanes[i];
      if (pfds[i].revents & POLLIN) {
        size_t want = buffer.size();
        if (rate > 0) want = std::min<size_t>(want, static_cast<size_t>(std::max(1.0, lane.tokens)));
        ssize_t n = ::read(pfds[i].fd, buffer.data(), want);
        if (n == 0) return finish(false);
        if (n < 0 && errno != EAGAIN && errno != EINTR) return finish(true);
        if (n > 0) {
          if (rate > 0 || delay > 0) applied_.fetch_add(1);
          if (rate > 0) lane.tokens -= static_cast<double>(n);
          lane.queue.push_back({now + delay, std::string(buffer.data(), static_cast<size_t>(n))});
          lane.queued += static_cast<size_t>(n);
        }
      }
      if (pfds[1 - i].revents & POLLOUT) {
        while (!lane.queue.empty() && lane.queue.front().due_ms <= NowMs()) {
          auto& chunk = lane.queue.front();
          ssize_t n = ::send(pfds[1 - i].fd, chunk.bytes.data() + chunk.offset, chunk.bytes.size() - chunk.offset,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
          if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            return finish(true);
          }
          chunk.offset += static_cast<size_t>(n);
          lane.queued -= static_cast<size_t>(n);
          if (chunk.offset < chunk.bytes.size()) break;
          lane.queue.pop_front();
        }
      }
    }
  }
  finish(false);
}

}  // namespace orgtrail::chaos
