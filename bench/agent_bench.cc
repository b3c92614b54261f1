// agent_bench: end-to-end agent figures with the real binaries on loopback.
//
//   1. Throughput: N generated ~1 KB CloudTrail records written as delivery
//      files ({"Records":[...]}, 1,000 per file) into a watched directory;
//      time from agent start until the collector has acknowledged and stored
//      all of them (Admin GetStatus events_stored). events/s.
//   2. Steady state at a fixed rate (default 1,000 events/s from the agent's
//      generator source): agent CPU (utime+stime from /proc/<pid>/stat over
//      the window, as % of one core) and RSS (VmRSS, max of samples).
//
// usage: agent_bench [--events N] [--rate R] [--seconds S] [--build-dir DIR]
// The binaries are taken from --build-dir (default: this binary's ../).
// Prints one JSON object per measurement. Not a test: figures only.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "orgtrail/common/generator.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/tls.h"
#include "orgtrail/v1/admin.grpc.pb.h"

namespace {

using namespace orgtrail;  // NOLINT
using Clock = std::chrono::steady_clock;

constexpr char kAccount[] = "111122223333";
constexpr char kRegion[] = "eu-west-1";
constexpr char kDomain[] = "bench.example";

struct Args {
  int events = 50000;
  double rate = 1000;
  int seconds = 30;
  std::string build_dir;
};

int FreePort() {
  // Bind 127.0.0.1:0 and release: enough for a benchmark on loopback.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::fopen(log.c_str(), "w");
    if (f) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

void Stop(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 300; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

struct Pki {
  TlsFiles collector, agent, admin;
};

bool Issue(const KeyAndCert& ca, const std::string& dir, const std::string& stem,
           const CertOptions& options, TlsFiles* out) {
  auto kc = IssueCertificate(ca, options);
  if (!kc.ok()) return false;
  out->ca_cert_path = dir + "/ca.crt";
  out->cert_path = dir + "/" + stem + ".crt";
  out->key_path = dir + "/" + stem + ".key";
  return WriteKeyAndCert(*kc, out->key_path, out->cert_path).ok();
}

bool MakePki(const std::string& dir, Pki* pki) {
  CaOptions ca_options;
  ca_options.trust_domain = kDomain;
  auto ca = CreateCa(ca_options);
  if (!ca.ok() || !WriteKeyAndCert(*ca, dir + "/ca.key", dir + "/ca.crt").ok()) return false;
  CertOptions collector;
  collector.uri_sans = {std::string("spiffe://") + kDomain + "/collector/main"};
  collector.dns_sans = {"localhost"};
  collector.ip_sans = {"127.0.0.1"};
  collector.server_auth = true;
  CertOptions agent;
  agent.uri_sans = {std::string("spiffe://") + kDomain + "/account/" + kAccount + "/region/" +
                    kRegion + "/agent/bench"};
  CertOptions admin;
  admin.uri_sans = {std::string("spiffe://") + kDomain + "/admin/bench"};
  return Issue(*ca, dir, "collector", collector, &pki->collector) &&
         Issue(*ca, dir, "agent", agent, &pki->agent) && Issue(*ca, dir, "admin", admin, &pki->admin);
}

int64_t EventsStored(v1::Admin::Stub* admin) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetStatusResponse response;
  if (!admin->GetStatus(&ctx, v1::GetStatusRequest(), &response).ok()) return -1;
  return static_cast<int64_t>(response.events_stored());
}

// utime+stime in clock ticks, and VmRSS in KiB.
bool ProcessUsage(pid_t pid, uint64_t* ticks, uint64_t* rss_kib) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t close = content.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(content.substr(close + 2));
  std::string field;
  std::vector<std::string> fields;
  while (rest >> field) fields.push_back(field);
  if (fields.size() < 13) return false;
  *ticks = std::stoull(fields[11]) + std::stoull(fields[12]);  // utime, stime
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) *rss_kib = std::stoull(line.substr(6));
  }
  return true;
}

struct Cluster {
  std::string dir;
  Pki pki;
  int collector_port = 0;
  pid_t collector = -1;
  std::unique_ptr<v1::Admin::Stub> admin;

  bool StartCollector(const std::string& build_dir) {
    collector_port = FreePort();
    const int http = FreePort();
    collector = Spawn({build_dir + "/collector/orgtrail-collector", "--listen",
                       "127.0.0.1:" + std::to_string(collector_port), "--http-listen",
                       "127.0.0.1:" + std::to_string(http), "--data-dir", dir + "/collector",
                       "--ca", pki.collector.ca_cert_path, "--cert", pki.collector.cert_path,
                       "--key", pki.collector.key_path, "--trust-domain", kDomain,
                       "--log-level", "warn"},
                      dir + "/collector.log");
    auto creds = MakeChannelCredentials(pki.admin);
    if (!creds.ok()) return false;
    admin = v1::Admin::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(collector_port), *creds));
    for (int i = 0; i < 600; ++i) {
      if (EventsStored(admin.get()) >= 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  pid_t StartAgent(const std::string& build_dir, std::vector<std::string> extra) {
    std::vector<std::string> argv = {build_dir + "/agent/orgtrail-agent", "--collector",
                                     "127.0.0.1:" + std::to_string(collector_port), "--ca",
                                     pki.agent.ca_cert_path, "--cert", pki.agent.cert_path,
                                     "--key", pki.agent.key_path, "--spool-dir", dir + "/spool",
                                     "--ops-listen", "127.0.0.1:" + std::to_string(FreePort()),
                                     "--log-level", "warn"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Spawn(argv, dir + "/agent.log");
  }
};

int Throughput(const Args& args) {
  Cluster c;
  c.dir = std::filesystem::temp_directory_path().string() + "/agent_bench_tp_" + std::to_string(getpid());
  std::filesystem::create_directories(c.dir + "/watch");
  if (!MakePki(c.dir, &c.pki) || !c.StartCollector(args.build_dir)) {
    std::fprintf(stderr, "setup failed (see %s)\n", c.dir.c_str());
    return 1;
  }
  GeneratorOptions options;
  options.account_id = kAccount;
  options.region = kRegion;
  options.global_region = kRegion;
  EventGenerator generator(options);
  uint64_t bytes = 0;
  for (int file = 0; file * 1000 < args.events; ++file) {
    std::vector<std::string> records;
    for (int i = file * 1000; i < std::min(args.events, (file + 1) * 1000); ++i) {
      records.push_back(generator.NextJson());
      bytes += records.back().size();
    }
    std::ofstream out(c.dir + "/watch/f" + std::to_string(file) + ".json");
    out << WrapRecords(records);
  }
  const auto start = Clock::now();
  const pid_t agent = c.StartAgent(args.build_dir, {"--watch-dir", c.dir + "/watch"});
  int64_t stored = 0;
  while (stored < args.events) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stored = EventsStored(c.admin.get());
    if (Clock::now() - start > std::chrono::minutes(10)) break;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  uint64_t ticks = 0, rss = 0;
  ProcessUsage(agent, &ticks, &rss);
  std::printf("{\"measure\":\"files_to_acknowledged\",\"events\":%lld,\"mean_record_bytes\":%.0f,"
              "\"seconds\":%.2f,\"events_per_second\":%.0f,\"agent_cpu_seconds\":%.2f,"
              "\"agent_rss_mib\":%.1f}\n",
              static_cast<long long>(stored), static_cast<double>(bytes) / args.events, seconds,
              stored / seconds, static_cast<double>(ticks) / sysconf(_SC_CLK_TCK), rss / 1024.0);
  Stop(agent);
  Stop(c.collector);
  std::filesystem::remove_all(c.dir);
  return stored == args.events ? 0 : 1;
}

int SteadyRate(const Args& args) {
  Cluster c;
  c.dir = std::filesystem::temp_directory_path().string() + "/agent_bench_rate_" + std::to_string(getpid());
  std::filesystem::create_directories(c.dir);
  if (!MakePki(c.dir, &c.pki) || !c.StartCollector(args.build_dir)) {
    std::fprintf(stderr, "setup failed (see %s)\n", c.dir.c_str());
    return 1;
  }
  std::ostringstream rate;
  rate << args.rate;
  const pid_t agent = c.StartAgent(args.build_dir, {"--generator-rate", rate.str()});
  // Warm up 5 s, then measure.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  uint64_t ticks0 = 0, ticks1 = 0, rss = 0, max_rss = 0;
  ProcessUsage(agent, &ticks0, &rss);
  const int64_t stored0 = EventsStored(c.admin.get());
  const auto start = Clock::now();
  for (int s = 0; s < args.seconds; ++s) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ProcessUsage(agent, &ticks1, &rss);
    max_rss = std::max(max_rss, rss);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const int64_t stored1 = EventsStored(c.admin.get());
  const double cpu = static_cast<double>(ticks1 - ticks0) / sysconf(_SC_CLK_TCK);
  std::printf("{\"measure\":\"steady_rate\",\"target_events_per_second\":%.0f,"
              "\"stored_events_per_second\":%.0f,\"window_seconds\":%.1f,"
              "\"agent_cpu_percent_of_one_core\":%.1f,\"agent_rss_mib_max\":%.1f}\n",
              args.rate, (stored1 - stored0) / seconds, seconds, 100.0 * cpu / seconds,
              max_rss / 1024.0);
  Stop(agent);
  Stop(c.collector);
  std::filesystem::remove_all(c.dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  args.build_dir = std::filesystem::path(argv[0]).parent_path().parent_path().string();
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    const bool help = flag == "--help" || flag == "-h";
    if (help || i + 1 >= argc) {
      std::fprintf(help ? stdout : stderr, "usage: agent_bench [--events N] [--rate R] [--seconds S] [--build-dir DIR]\n");
      return help ? 0 : 2;
    }
    if (flag == "--events") args.events = std::atoi(argv[i + 1]);
    else if (flag == "--rate") args.rate = std::atof(argv[i + 1]);
    else if (flag == "--seconds") args.seconds = std::atoi(argv[i + 1]);
    else if (flag == "--build-dir") args.build_dir = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: agent_bench [--events N] [--rate R] [--seconds S] [--build-dir DIR]\n");
      return 2;
    }
  }
  if (args.events <= 0 || args.rate <= 0 || args.seconds <= 0) {
    std::fprintf(stderr, "agent_bench: --events, --rate and --seconds must be positive\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  const int tp = Throughput(args);
  const int rate = SteadyRate(args);
  return tp != 0 ? tp : rate;
}
