// fhd --check's host report against fake /sys and /proc trees laid out here:
// a tuned host where every item is ok, then each item made warn or bad (or
// not applicable) by changing one thing; and the report of this machine,
// complete and consistent.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "book/order_book.h"
#include "host_check.h"
#include "process.h"

namespace {

namespace fs = std::filesystem;
using fh::daemon::HostItem;
using fh::daemon::Verdict;
using fh::test::TempDir;

class FakeHost {
 public:
  FakeHost() {
    put("/sys/devices/system/cpu/online", "0-3\n");
    put("/sys/devices/system/cpu/possible", "0-7\n");
    put("/sys/devices/system/cpu/isolated", "2-3\n");
    put("/sys/devices/system/cpu/nohz_full", "2-3\n");
    dir("/sys/devices/system/cpu/cpu2/node0");
    dir("/sys/devices/system/node/node0");
    put("/sys/devices/system/cpu/cpu2/cpufreq/scaling_governor", "performance\n");
    state(0, "POLL", 0, 0);
    state(1, "C6", 100, 1);  // deep, but disabled
    put("/sys/class/net/eth0/device/numa_node", "0\n");
    for (int q = 0; q < 4; ++q) dir("/sys/class/net/eth0/queues/rx-" + std::to_string(q));
    dir("/sys/class/net/eth0/queues/tx-0");
    put("/sys/class/net/eth0/device/msi_irqs/40", "msix\n");
    put("/sys/class/net/eth0/device/msi_irqs/41", "msix\n");
    put("/proc/irq/40/smp_affinity_list", "0-1\n");
    put("/proc/irq/41/smp_affinity_list", "0\n");
    put("/sys/class/net/eth0/napi_defer_hard_irqs", "2\n");
    put("/sys/class/net/eth0/gro_flush_timeout", "200000\n");
    put("/proc/1/comm", "systemd\n");
    put("/proc/77/comm", "sshd\n");
    put("/sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
    put("/proc/meminfo", "MemTotal:       24000000 kB\nHugePages_Free:        0\nHugepagesize:       2048 kB\n");
    put("/proc/self/limits", "Max locked memory         8388608              8388608              bytes\n");
    put("/proc/self/status", "Name:\tfhd\nCapEff:\t0000000000004000\n");  // CAP_IPC_LOCK
    dir("/sys/bus/pci/drivers/ice");
    fs::create_directory_symlink(dir_.path() / "sys/bus/pci/drivers/ice",
                                 dir_.path() / "sys/class/net/eth0/device/driver");
  }
  void put(const std::string& path, const std::string& text) {
    const fs::path p = dir_.path() / path.substr(1);
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  void dir(const std::string& path) { fs::create_directories(dir_.path() / path.substr(1)); }
  void remove(const std::string& path) { fs::remove_all(dir_.path() / path.substr(1)); }
  void state(int n, const std::string& name, int latency, int disabled) {
    const std::string base = "/sys/devices/system/cpu/cpu2/cpuidle/state" + std::to_string(n);
    put(base + "/name", name + "\n");
    put(base + "/latency", std::to_string(latency) + "\n");
    put(base + "/disable", std::to_string(disabled) + "\n");
  }
  std::string root() const { return dir_.str(); }
  // The NIC's ntuple rules as the ioctl would give them: line A to queue 0, line B to queue 1.
  fh::daemon::SteeringRules rules = {
      true,
      "",
      {udp4Rule(0, 0xEF010101, 0xFFFFFFFF, 26400, 0xFFFF, 0), udp4Rule(1, 0xEF010102, 0xFFFFFFFF, 26401, 0xFFFF, 1)}};
  fh::daemon::SteeringReader reader() const {
    return [this](const std::string& interface) {
      CHECK(interface == "eth0");
      return rules;
    };
  }
  static fh::daemon::SteeringRule udp4Rule(uint32_t location, uint32_t ip, uint32_t ipMask, uint16_t port,
                                           uint16_t portMask, uint32_t queue) {
    fh::daemon::SteeringRule r;
    r.location = location;
    r.udp4 = true;
    r.dstIp = ip;
    r.dstIpMask = ipMask;
    r.dstPort = port;
    r.dstPortMask = portMask;
    r.queue = queue;
    return r;
  }

 private:
  TempDir dir_;
};

fh::daemon::Config tunedConfig() {
  fh::daemon::Config c;
  fh::daemon::Feed f;
  f.name = "itch";
  f.source = fh::daemon::Source::Xdp;
  f.interface = "eth0";
  f.queues = {0, 1};
  f.cpu = 2;
  f.idle = fh::daemon::Idle::Spin;
  f.lineA = {0xEF010101, 26400, {}};
  f.lineB = fh::daemon::Line{0xEF010102, 26401, {}};
  c.feeds.push_back(f);
  return c;
}

std::map<std::string, Verdict> verdicts(const fh::daemon::Config& c, const FakeHost& host) {
  std::map<std::string, Verdict> v;  // by item, the last feed's
  std::set<std::string> seen;
  for (const HostItem& i : fh::daemon::checkHost(c, host.root(), host.reader())) {
    INFO(i.feed << " " << i.item << ": " << i.found);
    CHECK(seen.insert(i.feed + " " + i.item).second);  // each item once per feed
    v[i.item] = i.verdict;
    // Every item says what it found; a warning or a failure says why and how to fix it.
    CHECK_FALSE(i.found.empty());
    if (i.verdict == Verdict::Warn || i.verdict == Verdict::Bad) {
      CHECK_FALSE(i.why.empty());
      CHECK_FALSE(i.fix.empty());
    }
  }
  return v;
}

Verdict verdictOf(const fh::daemon::Config& c, const FakeHost& host, const std::string& item) {
  const auto v = verdicts(c, host);
  const auto at = v.find(item);
  REQUIRE(at != v.end());
  return at->second;
}

}  // namespace

TEST_CASE("host check: a tuned host is ok in every item", "[host]") {
  const FakeHost host;
  const auto v = verdicts(tunedConfig(), host);
  for (const char* item : {"interface", "cpu.pinned", "cpu.online", "cpu.isolated", "numa", "queues", "steering",
                           "irq.affinity", "irqbalance", "busy_poll", "huge_pages", "memlock", "cpu.governor",
                           "cpu.idle_states", "xdp.driver", "cpu.housekeeping"}) {
    INFO(item);
    REQUIRE(v.count(item) == 1);
    CHECK(v.at(item) == Verdict::Ok);
  }
  CHECK(v.size() == 17);
}

TEST_CASE("host check: each item warns or fails on what breaks it", "[host]") {
  FakeHost host;
  fh::daemon::Config c = tunedConfig();
  fh::daemon::Feed& f = c.feeds.front();
  SECTION("no such interface") {
    f.interface = "eth9";
    CHECK(verdictOf(c, host, "interface") == Verdict::Bad);
    CHECK(verdictOf(c, host, "numa") == Verdict::NotApplicable);
  }
  SECTION("worker not pinned") {
    f.cpu = -1;
    CHECK(verdictOf(c, host, "cpu.pinned") == Verdict::Warn);
    CHECK(verdictOf(c, host, "numa") == Verdict::Warn);
  }
  SECTION("cpu offline, or not there") {
    f.cpu = 5;
    CHECK(verdictOf(c, host, "cpu.online") == Verdict::Bad);
    f.cpu = 9;
    CHECK(verdictOf(c, host, "cpu.online") == Verdict::Bad);
  }
  SECTION("cpu not isolated") {
    host.put("/sys/devices/system/cpu/isolated", "\n");
    CHECK(verdictOf(c, host, "cpu.isolated") == Verdict::Warn);
  }
  SECTION("cpu on the far node") {
    host.remove("/sys/devices/system/cpu/cpu2/node0");
    host.dir("/sys/devices/system/cpu/cpu2/node1");
    CHECK(verdictOf(c, host, "numa") == Verdict::Bad);
  }
  SECTION("a NIC with no node") {
    host.put("/sys/class/net/eth0/device/numa_node", "-1\n");
    CHECK(verdictOf(c, host, "numa") == Verdict::NotApplicable);
  }
  SECTION("a configured queue the NIC does not have") {
    f.queues = {0, 4};
    CHECK(verdictOf(c, host, "queues") == Verdict::Bad);
  }
  SECTION("an interrupt allowed on the worker's cpu") {
    host.put("/proc/irq/41/smp_affinity_list", "0-3\n");
    CHECK(verdictOf(c, host, "irq.affinity") == Verdict::Warn);
  }
  SECTION("irqbalance running") {
    host.put("/proc/812/comm", "irqbalance\n");
    CHECK(verdictOf(c, host, "irqbalance") == Verdict::Warn);
  }
  SECTION("no deferred interrupts for busy polling") {
    host.put("/sys/class/net/eth0/napi_defer_hard_irqs", "0\n");
    CHECK(verdictOf(c, host, "busy_poll") == Verdict::Warn);
    f.idle = fh::daemon::Idle::Poll;
    CHECK(verdictOf(c, host, "busy_poll") == Verdict::NotApplicable);
  }
  SECTION("no transparent huge pages") {
    host.put("/sys/kernel/mm/transparent_hugepage/enabled", "always madvise [never]\n");
    CHECK(verdictOf(c, host, "huge_pages") == Verdict::Bad);
    host.put("/proc/meminfo", "HugePages_Free:      512\nHugepagesize:       2048 kB\n");
    CHECK(verdictOf(c, host, "huge_pages") == Verdict::Warn);
  }
  SECTION("steering rules that send a line to a queue fhd does not read, drop it, or miss it") {
    host.rules.rules[1].queue = 3;
    CHECK(verdictOf(c, host, "steering") == Verdict::Bad);
    host.rules.rules[1].queue = 1;
    host.rules.rules[0].drop = true;
    CHECK(verdictOf(c, host, "steering") == Verdict::Bad);
    host.rules.rules[0].drop = false;
    host.rules.rules.pop_back();  // line B by no rule: RSS, over 4 queues of which fhd reads 2
    CHECK(verdictOf(c, host, "steering") == Verdict::Warn);
    f.queues = {0, 1, 2, 3};
    CHECK(verdictOf(c, host, "steering") == Verdict::Ok);
    // One rule for both groups (a /24, any port), the first that matches wins.
    f.queues = {0, 1};
    host.rules.rules = {FakeHost::udp4Rule(5, 0xEF010100, 0xFFFFFF00, 0, 0, 1),
                        FakeHost::udp4Rule(9, 0xEF010101, 0xFFFFFFFF, 26400, 0xFFFF, 3)};
    CHECK(verdictOf(c, host, "steering") == Verdict::Ok);
    host.rules.rules[0].udp4 = false;  // a TCP rule: line A now goes by rule 9, to queue 3
    CHECK(verdictOf(c, host, "steering") == Verdict::Bad);
    // A rule that also compares the source takes maybe some of the line; one into an RSS context or to a VF, elsewhere.
    host.rules.rules = {FakeHost::udp4Rule(0, 0xEF010100, 0xFFFFFF00, 0, 0, 1)};
    host.rules.rules[0].partial = true;
    CHECK(verdictOf(c, host, "steering") == Verdict::Warn);
    host.rules.rules[0].partial = false;
    host.rules.rules[0].rss = true;
    CHECK(verdictOf(c, host, "steering") == Verdict::Warn);
    host.rules.rules[0].rss = false;
    host.rules.rules[0].toVf = true;
    CHECK(verdictOf(c, host, "steering") == Verdict::Warn);
  }
  SECTION("a driver without ntuple filters: RSS spreads the feed over every queue") {
    host.rules = {false, "Operation not supported", {}};
    CHECK(verdictOf(c, host, "steering") == Verdict::Warn);
    f.queues = {0, 1, 2, 3};
    CHECK(verdictOf(c, host, "steering") == Verdict::Ok);
    f.source = fh::daemon::Source::Udp;
    CHECK(verdictOf(c, host, "steering") == Verdict::NotApplicable);
  }
  SECTION("the stores placed off the NIC's node, on no node, or on a node the host lacks") {
    c.memory.place = fh::daemon::NodeChoice::Number;
    c.memory.node = 3;
    CHECK(verdictOf(c, host, "memory.numa") == Verdict::Bad);
    c.memory.node = 0;
    CHECK(verdictOf(c, host, "memory.numa") == Verdict::Ok);
    c.memory.place = fh::daemon::NodeChoice::Any;
    CHECK(verdictOf(c, host, "memory.numa") == Verdict::Warn);
    c.memory.place = fh::daemon::NodeChoice::Cpu;
    CHECK(verdictOf(c, host, "memory.numa") == Verdict::Ok);  // cpu 2 on node 0, the NIC's
    host.put("/sys/class/net/eth0/device/numa_node", "1\n");
    CHECK(verdictOf(c, host, "memory.numa") == Verdict::Warn);
    f.cpu = -1;
    CHECK(verdictOf(c, host, "memory.numa") == Verdict::Warn);
    c.memory.place = fh::daemon::NodeChoice::Nic;
    host.put("/sys/class/net/eth0/device/numa_node", "-1\n");
    CHECK(verdictOf(c, host, "memory.numa") == Verdict::NotApplicable);
  }
  SECTION("the housekeeping thread on a CPU that is not online") {
    c.housekeepingCpu = 5;  // online: 0-3
    CHECK(verdictOf(c, host, "cpu.housekeeping") == Verdict::Bad);
    c.housekeepingCpu = 1;
    CHECK(verdictOf(c, host, "cpu.housekeeping") == Verdict::Ok);
  }
  SECTION("the housekeeping thread pinned to the worker's CPU") {
    c.housekeepingCpu = f.cpu;
    CHECK(verdictOf(c, host, "cpu.housekeeping") == Verdict::Bad);
  }
  SECTION("explicit huge pages asked for: enough on the stores' node, too few, or none") {
    c.memory.pages = fh::HugePages::Explicit;
    c.book.maxInstruments = 1024;
    c.book.maxOrders = 1 << 20;  // 2^21 order slots of 16 bytes: 32 MiB
    c.book.maxLevels = 1 << 20;
    // 32 MiB of orders + 2 MiB of books + the levels + the handler's 2 x 2 MiB + 2 UMEMs of 16 MiB.
    const size_t need = (fh::book::OrderBooks::mappedBytesFor(c.book) + 4 * 1048576 + 32 * 1048576) >> 21;
    const std::string node0 = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/";
    host.put(node0 + "nr_hugepages", "0\n");
    host.put(node0 + "free_hugepages", "0\n");
    CHECK(verdictOf(c, host, "huge_pages") == Verdict::Bad);  // the NIC's node 0 has none
    host.put(node0 + "free_hugepages", std::to_string(need - 1) + "\n");
    CHECK(verdictOf(c, host, "huge_pages") == Verdict::Warn);
    host.put(node0 + "free_hugepages", std::to_string(need) + "\n");
    CHECK(verdictOf(c, host, "huge_pages") == Verdict::Ok);
    // Pages on another node do not count for node 0's stores; without a node, the host's pool does.
    c.memory.place = fh::daemon::NodeChoice::Number;
    c.memory.node = 1;
    CHECK(verdictOf(c, host, "huge_pages") == Verdict::Bad);
    c.memory.place = fh::daemon::NodeChoice::Any;
    host.put("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "100000\n");
    CHECK(verdictOf(c, host, "huge_pages") == Verdict::Ok);
  }
  SECTION("a memlock limit and no CAP_IPC_LOCK") {
    host.put("/proc/self/status", "CapEff:\t0000000000000000\n");
    CHECK(verdictOf(c, host, "memlock") == Verdict::Warn);
    host.put("/proc/self/limits", "Max locked memory         unlimited            unlimited            bytes\n");
    CHECK(verdictOf(c, host, "memlock") == Verdict::Ok);
    f.source = fh::daemon::Source::Udp;
    CHECK(verdictOf(c, host, "memlock") == Verdict::NotApplicable);
  }
  SECTION("a governor that slows the core") {
    host.put("/sys/devices/system/cpu/cpu2/cpufreq/scaling_governor", "powersave\n");
    CHECK(verdictOf(c, host, "cpu.governor") == Verdict::Warn);
    host.remove("/sys/devices/system/cpu/cpu2/cpufreq");
    CHECK(verdictOf(c, host, "cpu.governor") == Verdict::NotApplicable);
  }
  SECTION("a deep idle state enabled while the worker sleeps in poll()") {
    host.state(1, "C6", 100, 0);
    CHECK(verdictOf(c, host, "cpu.idle_states") == Verdict::Ok);  // a spinning worker never idles
    f.idle = fh::daemon::Idle::Poll;
    CHECK(verdictOf(c, host, "cpu.idle_states") == Verdict::Warn);
  }
  SECTION("a driver without native XDP, and a virtual device") {
    host.dir("/sys/bus/pci/drivers/r8169");
    host.remove("/sys/class/net/eth0/device/driver");
    fs::create_directory_symlink(fs::path(host.root()) / "sys/bus/pci/drivers/r8169",
                                 fs::path(host.root()) / "sys/class/net/eth0/device/driver");
    CHECK(verdictOf(c, host, "xdp.driver") == Verdict::Warn);
    host.remove("/sys/class/net/eth0/device");
    CHECK(verdictOf(c, host, "xdp.driver") == Verdict::NotApplicable);
    CHECK(verdictOf(c, host, "irq.affinity") == Verdict::NotApplicable);
  }
  SECTION("two feeds on one cpu") {
    fh::daemon::Feed g = f;
    g.name = "other";
    c.feeds.push_back(g);
    CHECK(verdictOf(c, host, "cpu.shared") == Verdict::Bad);
  }
}

TEST_CASE("host check: cpu lists as the kernel writes them", "[host]") {
  using fh::daemon::parseCpuList;
  CHECK(parseCpuList("0-3,8,10-11") == std::vector<int>{0, 1, 2, 3, 8, 10, 11});
  CHECK(parseCpuList("").empty());
  CHECK(parseCpuList("3-1").empty());
  CHECK(parseCpuList("x").empty());
}

TEST_CASE("host check: this machine's report is complete and consistent", "[host]") {
  // fhd --check on a veth-less config of this host: every item of the feed
  // once, a verdict for each, and the JSON the same as the text.
  TempDir dir;
  const std::string config = dir.str() + "/fhd.toml";
  std::ofstream(config) << "[[feed]]\nname = \"lo\"\nsource = \"xdp\"\ninterface = \"lo\"\nqueues = [0]\ncpu = 0\n"
                           "[feed.line_a]\ngroup = \"239.1.1.1\"\nport = 26400\n";
  const fh::test::Run text = fh::test::run("fhd", {"--check", "--config", config});
  INFO(text.err);
  REQUIRE(text.exitCode == 0);
  CHECK(text.out.find("configuration OK") != std::string::npos);
  const fh::test::Run json = fh::test::run("fhd", {"--check", "--json", "--config", config});
  REQUIRE(json.exitCode == 0);
  for (const char* item : {"interface", "cpu.pinned", "cpu.online", "cpu.isolated", "numa", "queues", "steering",
                           "irq.affinity", "irqbalance", "busy_poll", "huge_pages", "memlock", "cpu.governor",
                           "cpu.idle_states", "xdp.driver", "cpu.housekeeping"}) {
    INFO(item);
    CHECK(json.out.find(std::string("\"item\":\"") + item + "\"") != std::string::npos);
    CHECK(text.out.find(std::string(" ") + item + " ") != std::string::npos);
  }
  // lo exists and is online; it has no NUMA node, IRQs or driver.
  CHECK(json.out.find(R"("item":"interface","verdict":"ok")") != std::string::npos);
  CHECK(json.out.find(R"("item":"cpu.online","verdict":"ok")") != std::string::npos);
  CHECK(json.out.find(R"("item":"numa","verdict":"n/a")") != std::string::npos);
  CHECK(json.out.find(R"("item":"xdp.driver","verdict":"n/a")") != std::string::npos);
}

TEST_CASE("host check: ntuple rules as the ethtool ioctl gives them, and read from this machine", "[host]") {
  ethtool_rx_flow_spec spec{};
  spec.flow_type = UDP_V4_FLOW | FLOW_EXT;
  spec.location = 7;
  spec.h_u.udp_ip4_spec.ip4dst = htonl(0xEF010101);
  spec.m_u.udp_ip4_spec.ip4dst = htonl(0xFFFFFF00);
  spec.h_u.udp_ip4_spec.pdst = htons(26400);
  spec.m_u.udp_ip4_spec.pdst = htons(0xFFFF);
  spec.ring_cookie = 3;
  fh::daemon::SteeringRule r = fh::daemon::decodeSteeringRule(spec);
  CHECK(r.udp4);
  CHECK(r.location == 7);
  CHECK(r.queue == 3);
  CHECK_FALSE(r.drop);
  CHECK(r.matches(0xEF0101FE, 26400));  // the /24
  CHECK_FALSE(r.matches(0xEF010201, 26400));
  CHECK_FALSE(r.matches(0xEF010101, 26401));
  CHECK(r.partial);  // FLOW_EXT: a VLAN or user-defined field compared too
  spec.flow_type = UDP_V4_FLOW;
  CHECK_FALSE(fh::daemon::decodeSteeringRule(spec).partial);
  spec.m_u.udp_ip4_spec.ip4src = htonl(0xFFFFFFFF);
  CHECK(fh::daemon::decodeSteeringRule(spec).partial);
  spec.m_u.udp_ip4_spec.ip4src = 0;
  spec.ring_cookie = RX_CLS_FLOW_DISC;
  CHECK(fh::daemon::decodeSteeringRule(spec).drop);
  CHECK_FALSE(fh::daemon::decodeSteeringRule(spec).toVf);
  spec.ring_cookie = (uint64_t{2} << ETHTOOL_RX_FLOW_SPEC_RING_VF_OFF) | 5;  // VF 1, its queue 5
  CHECK(fh::daemon::decodeSteeringRule(spec).toVf);
  spec.flow_type = UDP_V4_FLOW | FLOW_RSS;
  CHECK(fh::daemon::decodeSteeringRule(spec).rss);
  // An ip4 rule of protocol 17 (or any) with the ports in l4_4_bytes.
  ethtool_rx_flow_spec user{};
  user.flow_type = IPV4_USER_FLOW;
  user.h_u.usr_ip4_spec.ip4dst = htonl(0xEF010102);
  user.m_u.usr_ip4_spec.ip4dst = htonl(0xFFFFFFFF);
  user.h_u.usr_ip4_spec.l4_4_bytes = htonl(26401);
  user.m_u.usr_ip4_spec.l4_4_bytes = htonl(0xFFFF);
  user.h_u.usr_ip4_spec.proto = 17;
  user.ring_cookie = RX_CLS_FLOW_DISC;
  const fh::daemon::SteeringRule u = fh::daemon::decodeSteeringRule(user);
  CHECK(u.matches(0xEF010102, 26401));
  CHECK_FALSE(u.matches(0xEF010102, 26400));
  CHECK(u.drop);
  CHECK_FALSE(u.partial);
  user.h_u.usr_ip4_spec.proto = 6;
  CHECK_FALSE(fh::daemon::decodeSteeringRule(user).udp4);
  spec.flow_type = TCP_V4_FLOW;
  CHECK_FALSE(fh::daemon::decodeSteeringRule(spec).udp4);
  CHECK_FALSE(fh::daemon::decodeSteeringRule(spec).matches(0xEF010101, 26400));
  // The loopback device has no ntuple filters; a missing device is named so.
  const fh::daemon::SteeringRules lo = fh::daemon::readSteeringRules("lo");
  CHECK_FALSE(lo.supported);
  CHECK(lo.error == std::strerror(EOPNOTSUPP));
  CHECK(fh::daemon::readSteeringRules("fh-no-such0").error == std::strerror(ENODEV));
}
