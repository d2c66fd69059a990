// fhd's configuration and its service integration: the documented example
// parses; every bad value is refused with its key named; the systemd notify
// protocol (READY, WATCHDOG, STOPPING) reaches a NOTIFY_SOCKET of our own.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "config.h"
#include "process.h"

namespace {

std::string exampleConfig() { return fh::test::readFile(std::string(FH_SOURCE_DIR) + "/config/fhd.toml"); }

std::string errorOf(const std::string& text) {
  try {
    fh::daemon::parseConfig(text, "test.toml");
  } catch (const fh::daemon::ConfigError& e) {
    return e.what();
  }
  return "accepted";
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("config: the documented example parses to its defaults", "[config]") {
  const fh::daemon::Config c = fh::daemon::parseConfig(exampleConfig(), "config/fhd.toml");
  REQUIRE(c.feeds.size() == 1);
  const fh::daemon::Feed& f = c.feeds[0];
  CHECK(c.region.name == "fh");
  CHECK(c.region.depth == 10);
  CHECK(c.region.ringBytes == 64u << 20);
  CHECK(c.region.mode == 0640);
  CHECK(c.book.maxOrders == 8388608);
  CHECK(f.source == fh::daemon::Source::Xdp);
  CHECK(f.interface == "eth1");
  CHECK(f.queues == std::vector<uint32_t>{0});
  CHECK(f.lineA.group == 0xEF010101);
  CHECK(f.lineA.port == 26400);
  REQUIRE(f.lineB.has_value());
  CHECK(f.lineB->port == 26401);
  CHECK(f.idle == fh::daemon::Idle::SpinYield);
  CHECK(f.sequencer.gapTimeoutNs == 2'000'000);
  CHECK(f.sequencer.lines == 2);
  CHECK(f.sequencer.heldPackets == 1024);
  CHECK(f.sequencer.lineSilenceNs == 3'000'000'000);
  CHECK(f.rerequestServers.empty());
  CHECK(f.sequencer.retransmission.servers == 0);
  CHECK(c.housekeepingCpu == -1);
  CHECK(c.memory.place == fh::daemon::NodeChoice::Nic);
  CHECK(c.memory.pages == fh::HugePages::Transparent);
}

TEST_CASE("config: [memory] takes a node by name or number, and the page choice", "[config]") {
  const auto memory = [](const std::string& numaNode, const std::string& pages) {
    return fh::daemon::parseConfig(replaced(replaced(exampleConfig(), "numa_node = \"nic\"", "numa_node = " + numaNode),
                                            "huge_pages = \"transparent\"", "huge_pages = " + pages),
                                   "test.toml")
        .memory;
  };
  CHECK(memory("\"cpu\"", "\"explicit\"").place == fh::daemon::NodeChoice::Cpu);
  CHECK(memory("\"cpu\"", "\"explicit\"").pages == fh::HugePages::Explicit);
  CHECK(memory("\"any\"", "\"off\"").place == fh::daemon::NodeChoice::Any);
  CHECK(memory("\"any\"", "\"off\"").pages == fh::HugePages::Off);
  const fh::daemon::MemoryConfig one = memory("1", "\"transparent\"");
  CHECK(one.place == fh::daemon::NodeChoice::Number);
  CHECK(one.node == 1);
}

TEST_CASE("config: re-request servers, in order, with their timing", "[config]") {
  const std::string text = replaced(exampleConfig(), "  # [feed.retransmission]", R"(  [feed.retransmission]
  servers = ["198.18.0.1:26500", "198.18.0.3:26501"]
  timeout_us = 250
  attempts = 4
  max_messages = 1000
  in_flight = 2
  port = 26600)");
  const fh::daemon::Feed f = fh::daemon::parseConfig(text, "test.toml").feeds.at(0);
  REQUIRE(f.rerequestServers.size() == 2);
  CHECK(f.rerequestServers[0].address == 0xC6120001);
  CHECK(f.rerequestServers[1].port == 26501);
  CHECK(f.rerequestPort == 26600);
  const fh::feed::RetransmissionConfig& r = f.sequencer.retransmission;
  CHECK(r.servers == 2);
  CHECK(r.timeoutNs == 250'000);
  CHECK(r.attempts == 4);
  CHECK(r.maxMessages == 1000);
  CHECK(r.inFlight == 2);
}

TEST_CASE("config: every bad value names its key", "[config]") {
  const std::string base = exampleConfig();
  struct Case {
    std::string from, to, key;
  };
  const std::vector<Case> cases = {
      {"port = 26400", "port = 70000", "feed[0].line_a.port"},
      {"port = 26400", "port = \"x\"", "feed[0].line_a.port"},
      {"group = \"239.1.1.1\"", "group = \"10.1.1.1\"", "feed[0].line_a.group"},
      {"group = \"239.1.1.2\"\n  port = 26401", "group = \"239.1.1.1\"\n  port = 26400", "feed[0].line_b"},
      {"source = \"xdp\"", "source = \"carrier-pigeon\"", "feed[0].source"},
      {"idle = \"spin-yield\"", "idle = \"nap\"", "feed[0].idle"},
      {"xdp_mode = \"auto\"", "xdp_mode = \"fast\"", "feed[0].xdp_mode"},
      {"queues = [0]", "queues = [0, 99]", "feed[0].queues"},
      {"queues = [0]", "queues = 0", "feed[0].queues"},
      {"\ncpu = -1", "\ncpu = -2", "feed[0].cpu"},
      {"batch = 64", "bacth = 64", "feed[0].bacth"},
      {"interface = \"eth1\"", "# no interface", "feed[0].interface"},
      {"depth = 10", "depth = 65", "shm.depth"},
      {"ring_mib = 64", "ring_mib = 3", "shm.ring_mib"},
      {"mode = \"0640\"", "mode = \"rw\"", "shm.mode"},
      {"name = \"fh\"              # /dev/shm", "name = \"../x\"  #", "shm.name"},
      {"max_orders = 8388608", "max_orders = 1", "book.max_orders"},
      {"log_level = \"info\"", "log_level = \"loud\"", "instance.log_level"},
      {"protocol = \"itch50-moldudp64\"", "protocol = \"fix\"", "feed[0].protocol"},
      {"[book]", "[books]", "books"},
      {"[[feed]]", "[[feed]]\nname = \"one\"\n[[feed]]", "feed"},
      {"  # [feed.retransmission]", "  [feed.retransmission]\n  servers = [\"198.18.0.1\"]",
       "feed[0].retransmission.servers"},
      {"  # [feed.retransmission]", "  [feed.retransmission]\n  servers = []", "feed[0].retransmission.servers"},
      {"  # [feed.retransmission]", "  [feed.retransmission]\n  servers = [\"198.18.0.1:70000\"]",
       "feed[0].retransmission.servers"},
      {"  # [feed.retransmission]", "  [feed.retransmission]\n  servers = [\"198.18.0.1:1\"]\n  attempts = 0",
       "feed[0].retransmission.attempts"},
      {"  # [feed.retransmission]", "  [feed.retransmission]\n  servers = [\"198.18.0.1:1\"]\n  tries = 1",
       "feed[0].retransmission.tries"},
      {"line_silence_ms = 3000", "line_silence_ms = -1", "feed[0].line_silence_ms"},
      {"numa_node = \"nic\"", "numa_node = \"near\"", "memory.numa_node"},
      {"numa_node = \"nic\"", "numa_node = -1", "memory.numa_node"},
      {"numa_node = \"nic\"", "numa_node = 1.5", "memory.numa_node"},
      {"huge_pages = \"transparent\"", "huge_pages = \"yes\"", "memory.huge_pages"},
      {"[memory]", "[memory]\nnode = 0", "memory.node"},
      {"housekeeping_cpu = -1", "housekeeping_cpu = 1024", "instance.housekeeping_cpu"},
  };
  for (const Case& c : cases) {
    INFO(c.to);
    const std::string error = errorOf(replaced(base, c.from, c.to));
    CHECK(error.rfind(c.key, 0) == 0);
  }
  CHECK(errorOf("[[feed]]\nsource = \"file\"\n").rfind("feed[0].replay", 0) == 0);
  CHECK(errorOf("").rfind("feed", 0) == 0);
  CHECK(errorOf("x = [").find("test.toml:1") == 0);
}

TEST_CASE("fhd: the systemd notify protocol reaches NOTIFY_SOCKET", "[config][fhd]") {
  fh::test::TempDir dir;
  const std::string socketPath = dir.str() + "/notify";
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socketPath.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const timeval timeout{30, 0};  // a bound on a broken daemon, not a timing assertion
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

  ::setenv("NOTIFY_SOCKET", socketPath.c_str(), 1);
  const pid_t pid = fh::test::start(
      "fhd", {"--replay", fh::test::testdata("elk_nasdaq.pcap"), "--shm", "n", "--shm-dir", dir.str()}, dir, "fhd");
  ::unsetenv("NOTIFY_SOCKET");
  std::vector<std::string> got;
  const auto receive = [&] {
    char buf[512];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    REQUIRE(n > 0);
    got.emplace_back(buf, size_t(n));
    return got.back();
  };
  CHECK(receive().rfind("READY=1", 0) == 0);
  bool watchdog = false;
  while (!watchdog) watchdog = receive() == "WATCHDOG=1";
  ::kill(pid, SIGTERM);
  std::string last;
  while ((last = receive()) != "STOPPING=1") {
  }
  const fh::test::Run r = fh::test::finish(pid, dir, "fhd");
  CHECK(r.exited);
  CHECK(r.exitCode == 0);
  ::close(fd);
}
