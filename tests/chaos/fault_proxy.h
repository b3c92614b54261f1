// FaultProxy: a TCP proxy on 127.0.0.1 between one agent and the collector,
// run by threads inside the chaos harness, that injects network faults into
// the (end-to-end TLS) byte stream without understanding it:
//   kPass       forward both ways
//   kDelay      hold every chunk `delay_ms` before forwarding
//   kBandwidth  forward at most `bytes_per_second` per direction
//   kDrop       forward nothing and accept nothing new (as if every packet
//               were lost): TCP stalls; when the fault ends, held bytes flow
//               again (retransmission), so the TLS stream survives
//   kPartition  close every connection (FIN) and refuse new ones
//   kReset      abort every connection with RST (SO_LINGER 0) once; new
//               connections pass
//   kHalfOpen   the collector side of every connection is closed while the
//               agent side stays open and silently swallows what the agent
//               sends; those connections are never revived (the agent must
//               notice by itself: keepalive); new connections pass once the
//               fault ends
// The upstream port can be changed at any time (the collector restarts on a
// new port). Thread-safe: SetMode/SetUpstream from any thread.
#ifndef ORGTRAIL_TESTS_CHAOS_FAULT_PROXY_H_
#define ORGTRAIL_TESTS_CHAOS_FAULT_PROXY_H_

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "orgtrail/common/status.h"

namespace orgtrail::chaos {

enum class ProxyMode { kPass, kDelay, kBandwidth, kDrop, kPartition, kReset, kHalfOpen };
const char* ProxyModeName(ProxyMode mode);

class FaultProxy {
 public:
  // Listens on 127.0.0.1:<kernel-chosen port>.
  static StatusOr<std::unique_ptr<FaultProxy>> Start(int upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  void SetUpstream(int port) { upstream_port_.store(port); }
  // delay_ms for kDelay, bytes_per_second for kBandwidth.
  void SetMode(ProxyMode mode, int64_t parameter = 0);
  ProxyMode mode() const { return mode_.load(); }
  uint64_t connections_accepted() const { return accepted_.load(); }
  // How often a fault mode touched traffic (a chunk delayed, throttled or held, a connection
  // refused, closed, reset or cut half-open): the harness's proof that a fault took effect.
  uint64_t faults_applied() const { return applied_.load(); }
  void Stop();

 private:
  struct Conn;
  FaultProxy() = default;
  void AcceptLoop();
  void Pump(std::shared_ptr<Conn> conn);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> upstream_port_{0};
  std::atomic<ProxyMode> mode_{ProxyMode::kPass};
  std::atomic<int64_t> parameter_{0};
  std::atomic<uint64_t> generation_{0};  // bumped on reset/partition/half-open
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> applied_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::list<std::pair<std::shared_ptr<Conn>, std::thread>> pumps_;
};

}  // namespace orgtrail::chaos

#endif  // ORGTRAIL_TESTS_CHAOS_FAULT_PROXY_H_
