#include "host_check.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "feed/feed.h"
#include "xsk/socket.h"

namespace fh::daemon {

namespace {

// A path under the host's root.
class Host {
 public:
  explicit Host(std::string root) : root_(root == "/" ? "" : std::move(root)) {}
  const std::string& root() const noexcept { return root_; }  // "" for this host

  // The file's contents, trailing whitespace removed; nullopt if unreadable.
  std::optional<std::string> read(const std::string& path) const {
    std::ifstream in(root_ + path);
    if (!in) return std::nullopt;
    std::stringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    return text;
  }
  bool exists(const std::string& path) const { return ::access((root_ + path).c_str(), F_OK) == 0; }
  std::vector<std::string> list(const std::string& path) const {
    std::vector<std::string> names;
    if (DIR* d = ::opendir((root_ + path).c_str())) {
      while (const dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') names.push_back(e->d_name);
      ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  std::optional<std::string> linkName(const std::string& path) const {
    char buf[4096];
    const ssize_t n = ::readlink((root_ + path).c_str(), buf, sizeof buf - 1);
    if (n <= 0) return std::nullopt;
    const std::string target(buf, size_t(n));
    return target.substr(target.find_last_of('/') + 1);
  }

 private:
  std::string root_;
};

// A number as the kernel writes it (base 10, or 16 with `base`); `otherwise` if it is not one.
uint64_t number(const std::optional<std::string>& text, uint64_t otherwise, int base = 10) {
  if (!text || text->empty()) return otherwise;
  char* end = nullptr;
  const uint64_t v = std::strtoull(text->c_str(), &end, base);
  return end != nullptr && *end == '\0' ? v : otherwise;
}

bool contains(const std::vector<int>& list, int cpu) { return std::find(list.begin(), list.end(), cpu) != list.end(); }

std::string joinInts(const std::vector<int>& v) {
  std::string s;
  for (const int i : v) {
    if (!s.empty()) s += ',';
    s += std::to_string(i);
  }
  return s.empty() ? "none" : s;
}

// A value of /proc/meminfo, in its unit (kB or pages).
std::optional<uint64_t> meminfo(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, key.size() + 1, key + ":") == 0) {
      std::string v = line.substr(key.size() + 1);
      v.erase(0, v.find_first_not_of(' '));
      v = v.substr(0, v.find(' '));
      return number(v, 0);
    }
  return std::nullopt;
}

// Drivers with native XDP (the driver runs the program before it allocates
// an skb) and AF_XDP redirect, in Linux 6.x.
constexpr const char* kNativeXdpDrivers[] = {"mlx5_core", "mlx4_en",   "ice",   "i40e",       "ixgbe",  "igb",
                                             "igc",       "bnxt_en",   "ena",   "virtio_net", "sfc",    "nfp",
                                             "qede",      "tun",       "veth",  "stmmaceth",  "mvneta", "mvpp2",
                                             "thunderx",  "dpaa2-eth", "enetc", "fec",        "cpsw",   "xsk"};

class Checker {
 public:
  Checker(const Config& config, const Feed& feed, const Host& host, const SteeringReader& steering,
          std::vector<HostItem>& out)
      : c_(config), f_(feed), host_(host), steering_(steering), out_(out) {}

  void run() {
    const bool network = f_.source != Source::File;
    if (!network) {
      add("source", Verdict::NotApplicable, "a file replay", "no network path to tune", "");
      return;
    }
    ifExists_ = host_.exists("/sys/class/net/" + f_.interface);
    const bool ifExists = ifExists_;
    add("interface", ifExists ? Verdict::Ok : Verdict::Bad, f_.interface + (ifExists ? " exists" : " does not exist"),
        "the feed's lines arrive on it",
        ifExists ? "" : "interface = the NIC the feed's multicast arrives on (ip -br link)");
    cpu();
    numa();
    memoryNode();
    queues();
    steering();
    irqs();
    irqbalance();
    busyPoll();
    hugePages();
    memlock();
    governor();
    idleStates();
    xdpDriver();
  }

 private:
  void add(std::string item, Verdict v, std::string found, std::string why, std::string fix) {
    out_.push_back({f_.name, std::move(item), v, std::move(found), std::move(why),
                    v == Verdict::Ok || v == Verdict::NotApplicable ? std::string() : std::move(fix)});
  }
  // An item of the interface, which is not there: nothing to say.
  bool noInterface(const char* item) {
    if (ifExists_) return false;
    add(item, Verdict::NotApplicable, "no interface " + f_.interface, "", "");
    return true;
  }
  std::string cpuDir() const { return "/sys/devices/system/cpu/cpu" + std::to_string(f_.cpu); }

  void cpu() {
    if (f_.cpu < 0) {
      add("cpu.pinned", Verdict::Warn, "the worker is not pinned",
          "a busy-polling worker the scheduler moves loses its caches and shares a core with other work",
          "cpu = N in [[feed]]: an isolated core of the NIC's NUMA node");
      for (const char* item : {"cpu.online", "cpu.isolated"})
        add(item, Verdict::NotApplicable, "no cpu configured", "", "");
      return;
    }
    add("cpu.pinned", Verdict::Ok, "cpu " + std::to_string(f_.cpu), "", "");
    const std::vector<int> online = parseCpuList(host_.read("/sys/devices/system/cpu/online").value_or(""));
    const std::vector<int> possible = parseCpuList(host_.read("/sys/devices/system/cpu/possible").value_or(""));
    if (!contains(online, f_.cpu))
      add("cpu.online", Verdict::Bad,
          "cpu " + std::to_string(f_.cpu) + (contains(possible, f_.cpu) ? " is offline" : " does not exist") +
              " (online: " + joinInts(online) + ")",
          "fhd cannot pin its worker there and does not start",
          contains(possible, f_.cpu) ? "echo 1 > /sys/devices/system/cpu/cpu" + std::to_string(f_.cpu) + "/online"
                                     : "cpu = one of " + joinInts(online));
    else
      add("cpu.online", Verdict::Ok, "cpu " + std::to_string(f_.cpu) + " is online", "", "");
    const std::vector<int> isolated = parseCpuList(host_.read("/sys/devices/system/cpu/isolated").value_or(""));
    const std::vector<int> nohz = parseCpuList(host_.read("/sys/devices/system/cpu/nohz_full").value_or(""));
    const bool iso = contains(isolated, f_.cpu), tickless = contains(nohz, f_.cpu);
    add("cpu.isolated", iso && tickless ? Verdict::Ok : Verdict::Warn,
        "isolcpus: " + joinInts(isolated) + "; nohz_full: " + joinInts(nohz),
        "on a core that is not isolated, other tasks (fhd's own housekeeping and snapshot threads too) and the "
        "scheduler tick preempt the worker: microseconds of jitter each time",
        "kernel command line: isolcpus=" + std::to_string(f_.cpu) + " nohz_full=" + std::to_string(f_.cpu) +
            " rcu_nocbs=" + std::to_string(f_.cpu) + " (or a cpuset that keeps other tasks off it)");
  }

  void numa() {
    if (noInterface("numa")) return;
    const std::optional<std::string> node = host_.read("/sys/class/net/" + f_.interface + "/device/numa_node");
    if (!node || *node == "-1") {
      add("numa", Verdict::NotApplicable,
          node ? "the NIC reports no NUMA node (one node)" : "no NUMA node for " + f_.interface + " (a virtual device)",
          "", "");
      return;
    }
    if (f_.cpu < 0) {
      add("numa", Verdict::Warn, "the NIC is on node " + *node + "; the worker is not pinned",
          "a worker on the far node reads every packet across the interconnect",
          "cpu = a CPU of node " + *node + " (lscpu -e)");
      return;
    }
    std::string cpuNode;
    for (const std::string& e : host_.list(cpuDir()))
      if (e.compare(0, 4, "node") == 0) cpuNode = e.substr(4);
    if (cpuNode.empty()) {
      add("numa", Verdict::NotApplicable,
          "the NIC is on node " + *node + "; cpu " + std::to_string(f_.cpu) + " reports no node", "", "");
      return;
    }
    add("numa", cpuNode == *node ? Verdict::Ok : Verdict::Bad,
        "the NIC is on node " + *node + ", cpu " + std::to_string(f_.cpu) + " on node " + cpuNode,
        "a worker on the far node reads every packet, and its stores, across the interconnect",
        "cpu = a CPU of node " + *node + " (lscpu -e)");
  }

  int storesNode() const { return daemon::storesNode(c_, f_, host_.root().empty() ? "/" : host_.root()); }

  // Where [memory] numa_node puts the stores and the UMEM, against the NIC's node.
  void memoryNode() {
    const int nic = ifExists_ ? interfaceNode(f_.interface, host_.root()) : -1;
    const std::string nicText = nic >= 0 ? "; the NIC is on node " + std::to_string(nic) : "";
    const std::string why =
        "the worker reads the UMEM and the stores for every message: across the interconnect each "
        "miss costs more";
    const std::string fix = "numa_node = \"nic\" in [memory] (or the NIC's node)";
    const int node = storesNode();
    switch (c_.memory.place) {
      case NodeChoice::Number: {
        const std::vector<int> nodes = numaNodes(host_.root());
        if (!contains(nodes, node)) {
          add("memory.numa", Verdict::Bad,
              "memory.numa_node " + std::to_string(node) + ": the host has nodes " + joinInts(nodes) +
                  " (fhd refuses to start)",
              "the stores cannot be placed on a node that does not exist", "numa_node = one of " + joinInts(nodes));
          return;
        }
        break;
      }
      case NodeChoice::Cpu:
        if (f_.cpu < 0) {
          add("memory.numa", Verdict::Warn,
              "memory.numa_node = \"cpu\", but the worker is not pinned: where first "
              "touched" +
                  nicText,
              why, "cpu = N in [[feed]], or numa_node = \"nic\"");
          return;
        }
        break;
      case NodeChoice::Nic:
        if (nic < 0) {
          add("memory.numa", Verdict::NotApplicable,
              ifExists_ ? "the NIC has no NUMA node (a virtual device, or one node): where first touched"
                        : "no interface " + f_.interface + ": where first touched",
              "", "");
          return;
        }
        break;
      case NodeChoice::Any:
        add("memory.numa", nic >= 0 ? Verdict::Warn : Verdict::Ok,
            "memory.numa_node = \"any\": where first touched" + nicText, why, fix);
        return;
    }
    if (node < 0) {
      add("memory.numa", Verdict::NotApplicable, "cpu " + std::to_string(f_.cpu) + " reports no node", "", "");
      return;
    }
    add("memory.numa", nic < 0 || nic == node ? Verdict::Ok : Verdict::Warn,
        "the stores and the UMEM on node " + std::to_string(node) + nicText, why, fix);
  }

  void queues() {
    if (noInterface("queues")) return;
    const auto rx = static_cast<uint32_t>(rxQueues());
    if (f_.source != Source::Xdp) {
      add("queues", Verdict::Ok, std::to_string(rx) + " rx queues; the kernel's sockets take every one", "", "");
      return;
    }
    std::vector<int> missing;
    for (const uint32_t q : f_.queues)
      if (q >= rx) missing.push_back(int(q));
    add("queues", missing.empty() ? Verdict::Ok : Verdict::Bad,
        std::to_string(rx) + " rx queues; fhd reads " + joinInts(std::vector<int>(f_.queues.begin(), f_.queues.end())),
        "AF_XDP sockets bind to queues that exist; the feed's packets on any other queue go to the kernel, unseen",
        "queues = those of 0.." + std::to_string(rx == 0 ? 0 : rx - 1) +
            " the NIC steers the feed's groups to "
            "(ethtool -L " +
            f_.interface + " combined N, ethtool -N " + f_.interface +
            " flow-type udp4 dst-ip "
            "GROUP dst-port PORT action Q)");
  }

  // Whether the NIC puts each line's packets on a queue fhd reads: its
  // ntuple rules where the driver has them, else RSS, which spreads them
  // over every queue.
  void steering() {
    if (noInterface("steering")) return;
    if (f_.source != Source::Xdp) {
      add("steering", Verdict::NotApplicable, "kernel sockets see every queue", "", "");
      return;
    }
    const auto rx = static_cast<uint32_t>(rxQueues());
    const bool everyQueue =
        std::all_of(f_.queues.begin(), f_.queues.end(), [&](uint32_t q) { return q < rx; }) && f_.queues.size() >= rx;
    const std::string fix = "ethtool -N " + f_.interface + " flow-type udp4 dst-ip GROUP dst-port PORT action Q " +
                            "(Q one of queues), or queues = every rx queue";
    if (!steering_) {
      add("steering", Verdict::NotApplicable, "the NIC's rules are not read under --host-root", "", "");
      return;
    }
    const SteeringRules rules = steering_(f_.interface);
    if (!rules.supported) {
      add("steering", everyQueue ? Verdict::Ok : Verdict::Warn,
          "no ntuple rules (" + rules.error + "); fhd reads " + std::to_string(f_.queues.size()) + " of " +
              std::to_string(rx) + " rx queues",
          "without a rule the NIC hashes each flow onto any queue: the feed's packets on a queue without a "
          "socket go to the kernel, unseen by fhd",
          everyQueue ? "" : "queues = every rx queue, or a NIC whose driver has ntuple filters");
      return;
    }
    std::vector<std::string> bad, unsteered, unsure, ok;
    const auto check = [&](const char* name, const Line& l) {
      const std::string line = std::string(name) + " " + formatIpv4(l.group) + ":" + std::to_string(l.port);
      const auto rule = std::find_if(rules.rules.begin(), rules.rules.end(),
                                     [&](const SteeringRule& r) { return r.matches(l.group, l.port); });
      const std::string by = " by rule " + std::to_string(rule == rules.rules.end() ? 0 : rule->location);
      if (rule == rules.rules.end())
        unsteered.push_back(line + " by no rule");
      else if (rule->partial)
        unsure.push_back(line + " maybe" + by + ", which also compares other fields");
      else if (rule->rss)
        unsure.push_back(line + " into an RSS context" + by);
      else if (rule->toVf)
        unsure.push_back(line + " to a virtual function" + by);
      else if (rule->drop)
        bad.push_back(line + " dropped by rule " + std::to_string(rule->location));
      else if (std::find(f_.queues.begin(), f_.queues.end(), rule->queue) == f_.queues.end())
        bad.push_back(line + " to queue " + std::to_string(rule->queue) + " by rule " + std::to_string(rule->location));
      else
        ok.push_back(line + " to queue " + std::to_string(rule->queue) + " by rule " + std::to_string(rule->location));
    };
    check("line A", f_.lineA);
    if (f_.lineB) check("line B", *f_.lineB);
    std::string found = std::to_string(rules.rules.size()) + " ntuple rules: ";
    std::string list;
    for (const auto* group : {&bad, &unsure, &unsteered, &ok})
      for (const std::string& s : *group) {
        if (!list.empty()) list += "; ";
        list += s;
      }
    found += list;
    Verdict v = Verdict::Ok;
    if (!bad.empty())
      v = Verdict::Bad;
    else if (!unsure.empty() || (!unsteered.empty() && !everyQueue))
      v = Verdict::Warn;
    add("steering", v, found, "a rule sends the line's packets to one queue: it must be a queue fhd reads",
        v == Verdict::Ok ? "" : fix);
  }

  size_t rxQueues() const {
    const std::vector<std::string> entries = host_.list("/sys/class/net/" + f_.interface + "/queues");
    return size_t(std::count_if(entries.begin(), entries.end(),
                                [](const std::string& e) { return e.compare(0, 3, "rx-") == 0; }));
  }

  void irqs() {
    if (noInterface("irq.affinity")) return;
    const std::vector<std::string> irqs = host_.list("/sys/class/net/" + f_.interface + "/device/msi_irqs");
    if (irqs.empty()) {
      add("irq.affinity", Verdict::NotApplicable, "no MSI interrupts for " + f_.interface + " (a virtual device)", "",
          "");
      return;
    }
    if (f_.cpu < 0) {
      add("irq.affinity", Verdict::NotApplicable, std::to_string(irqs.size()) + " interrupts; no cpu configured", "",
          "");
      return;
    }
    std::vector<int> onWorker;
    for (const std::string& irq : irqs)
      if (contains(parseCpuList(host_.read("/proc/irq/" + irq + "/smp_affinity_list").value_or("")), f_.cpu))
        onWorker.push_back(std::stoi(irq));
    add("irq.affinity", onWorker.empty() ? Verdict::Ok : Verdict::Warn,
        std::to_string(irqs.size()) + " interrupts; allowed on cpu " + std::to_string(f_.cpu) + ": " +
            joinInts(onWorker),
        "an interrupt handled on the worker's core stops the worker for its duration",
        "echo OTHER_CPUS > /proc/irq/N/smp_affinity_list for each of " + joinInts(onWorker));
  }

  void irqbalance() {
    for (const std::string& pid : host_.list("/proc")) {
      if (!std::all_of(pid.begin(), pid.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        continue;
      if (host_.read("/proc/" + pid + "/comm").value_or("") == "irqbalance") {
        add("irqbalance", Verdict::Warn, "irqbalance runs (pid " + pid + ")",
            "it moves interrupts, the feed's queues' too, onto whatever core it judges idle: the worker's",
            "systemctl disable --now irqbalance, or IRQBALANCE_BANNED_CPULIST=" + std::to_string(f_.cpu) +
                " in /etc/default/irqbalance");
        return;
      }
    }
    add("irqbalance", Verdict::Ok, "irqbalance does not run", "", "");
  }

  void busyPoll() {
    if (f_.idle == Idle::Poll || f_.busyPollUs == 0) {
      add("busy_poll", Verdict::NotApplicable,
          f_.busyPollUs == 0 ? "busy_poll = 0: fhd asks for no busy polling" : "idle = \"poll\": fhd sleeps in poll()",
          "", "");
      return;
    }
    if (f_.source == Source::Udp) {
      const std::string read = host_.read("/proc/sys/net/core/busy_read").value_or("?");
      add("busy_poll", Verdict::Ok,
          "fhd sets SO_BUSY_POLL " + std::to_string(f_.busyPollUs) +
              " µs on its sockets (net.core.busy_read = " + read + " applies to the others)",
          "", "");
      return;
    }
    if (noInterface("busy_poll")) return;
    const std::string dir = "/sys/class/net/" + f_.interface;
    const std::optional<std::string> defer = host_.read(dir + "/napi_defer_hard_irqs");
    const std::optional<std::string> gro = host_.read(dir + "/gro_flush_timeout");
    if (!defer || !gro) {
      add("busy_poll", Verdict::NotApplicable, "no napi_defer_hard_irqs or gro_flush_timeout for " + f_.interface, "",
          "");
      return;
    }
    const bool ok = *defer != "0" && *gro != "0";
    add("busy_poll", ok ? Verdict::Ok : Verdict::Warn, "napi_defer_hard_irqs " + *defer + ", gro_flush_timeout " + *gro,
        "fhd asks for preferred busy polling (SO_PREFER_BUSY_POLL); without deferred interrupts the NIC's "
        "interrupt still fires and competes with the worker",
        "echo 2 > " + dir + "/napi_defer_hard_irqs; echo 200000 > " + dir + "/gro_flush_timeout");
  }

  void hugePages() {
    const std::string thp = host_.read("/sys/kernel/mm/transparent_hugepage/enabled").value_or("");
    const std::string info = host_.read("/proc/meminfo").value_or("");
    const uint64_t freePages = meminfo(info, "HugePages_Free").value_or(0);
    const uint64_t pageKb = meminfo(info, "Hugepagesize").value_or(0);
    const std::string explicitText =
        std::to_string(freePages) + " explicit huge pages of " + std::to_string(pageKb) + " kB free";
    if (c_.memory.pages == HugePages::Explicit) {  // [memory] huge_pages = "explicit"
      explicitPages(thp);
      return;
    }
    if (thp.find("[never]") != std::string::npos || thp.empty()) {
      add("huge_pages", freePages > 0 ? Verdict::Warn : Verdict::Bad,
          "transparent huge pages: " + (thp.empty() ? std::string("unknown") : thp) + "; " + explicitText,
          "fhd's order and level stores are hundreds of MiB touched at random: on 4 KiB pages every access misses "
          "the TLB",
          "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled");
      return;
    }
    add("huge_pages", Verdict::Ok, "transparent huge pages: " + thp + " (fhd asks for them); " + explicitText, "", "");
  }

  // With memory.huge_pages = "explicit": enough free 2 MiB pages, in the
  // pool of the node the stores go to, for the stores and the UMEMs as
  // configured.
  void explicitPages(const std::string& thp) {
    const size_t bytes =
        book::OrderBooks::mappedBytesFor(c_.book) + feed::ItchFeed::Handler::mappedBytesFor(c_.book.maxInstruments) +
        (f_.source == Source::Xdp
             ? f_.queues.size() * mappedBytes(size_t{xsk::SocketConfig{}.frames} * xsk::SocketConfig{}.frameSize)
             : 0);
    const uint64_t need = bytes >> 21;
    const int node = storesNode();
    const std::string pool =
        node >= 0 ? "/sys/devices/system/node/node" + std::to_string(node) + "/hugepages/hugepages-2048kB"
                  : "/sys/kernel/mm/hugepages/hugepages-2048kB";
    const uint64_t free = number(host_.read(pool + "/free_hugepages"), 0);
    const uint64_t total = number(host_.read(pool + "/nr_hugepages"), 0);
    add("huge_pages",
        free >= need ? Verdict::Ok
        : free > 0   ? Verdict::Warn
                     : Verdict::Bad,
        std::to_string(free) + " of 2 MiB free" + (node >= 0 ? " on node " + std::to_string(node) : "") +
            "; the stores and UMEM as configured take " + std::to_string(need) +
            " (memory.huge_pages = \"explicit\"); transparent huge pages: " + (thp.empty() ? "unknown" : thp),
        "what explicit pages do not cover falls back to transparent huge pages, where the kernel finds them "
        "(fhd warns, and fhctl stats shows memory.*_huge_page_bytes)",
        "echo " + std::to_string(total + (need > free ? need - free : 0)) + " > " + pool +
            "/nr_hugepages (or hugepages=N on the kernel command line)");
  }

  void memlock() {
    if (f_.source != Source::Xdp) {
      add("memlock", Verdict::NotApplicable, "kernel sockets lock no memory", "", "");
      return;
    }
    const std::string limits = host_.read("/proc/self/limits").value_or("");
    std::string soft = "?";
    std::istringstream in(limits);
    for (std::string line; std::getline(in, line);)
      if (line.compare(0, 17, "Max locked memory") == 0) {
        std::istringstream fields(line.substr(17));
        fields >> soft;
      }
    bool ipcLock = false;
    std::istringstream status(host_.read("/proc/self/status").value_or(""));
    for (std::string line; std::getline(status, line);)
      if (line.compare(0, 7, "CapEff:") == 0) {
        std::string v = line.substr(7);
        v.erase(0, v.find_first_not_of(" \t"));
        ipcLock = (number(v, 0, 16) >> 14 & 1) != 0;
      }
    const bool ok = soft == "unlimited" || ipcLock;
    add("memlock", ok ? Verdict::Ok : Verdict::Warn,
        "RLIMIT_MEMLOCK " + (soft == "unlimited" ? soft : soft + " bytes") +
            (ipcLock ? "; CAP_IPC_LOCK held" : "; no CAP_IPC_LOCK"),
        "the UMEM is pinned memory: without room under the limit (or CAP_IPC_LOCK) the AF_XDP socket is refused",
        "LimitMEMLOCK=infinity, or CAP_IPC_LOCK (systemd/fhd.service grants it)");
  }

  void governor() {
    if (f_.cpu < 0) {
      add("cpu.governor", Verdict::NotApplicable, "no cpu configured", "", "");
      return;
    }
    const std::optional<std::string> g = host_.read(cpuDir() + "/cpufreq/scaling_governor");
    if (!g) {
      add("cpu.governor", Verdict::NotApplicable,
          "no cpufreq for cpu " + std::to_string(f_.cpu) + " (a VM, or the firmware sets the frequency)", "", "");
      return;
    }
    add("cpu.governor", *g == "performance" ? Verdict::Ok : Verdict::Warn, "governor " + *g,
        "a governor that lowers the clock of a core it thinks idle slows the first packets after a quiet spell",
        "cpupower -c " + std::to_string(f_.cpu) + " frequency-set -g performance");
  }

  void idleStates() {
    if (f_.cpu < 0) {
      add("cpu.idle_states", Verdict::NotApplicable, "no cpu configured", "", "");
      return;
    }
    const std::string dir = cpuDir() + "/cpuidle";
    std::vector<std::string> deep;
    for (const std::string& state : host_.list(dir)) {
      const std::string base = dir + "/" + state;
      const uint64_t latency = number(host_.read(base + "/latency"), 0);
      if (latency > 10 && host_.read(base + "/disable").value_or("0") == "0")
        deep.push_back(host_.read(base + "/name").value_or(state) + " (" + std::to_string(latency) + " µs)");
    }
    if (host_.list(dir).empty()) {
      add("cpu.idle_states", Verdict::NotApplicable, "no cpuidle states for cpu " + std::to_string(f_.cpu), "", "");
      return;
    }
    std::string found;
    for (const std::string& d : deep) {
      if (!found.empty()) found += ", ";
      found += d;
    }
    const bool spins = f_.idle != Idle::Poll;
    add("cpu.idle_states", deep.empty() || spins ? Verdict::Ok : Verdict::Warn,
        deep.empty() ? "no idle state deeper than 10 µs enabled"
                     : "enabled deeper than 10 µs: " + found + (spins ? " (unused: the worker spins)" : ""),
        "a core that sleeps in a deep idle state takes that long to wake for the next packet",
        "idle = \"spin\", or echo 1 > " + dir + "/stateN/disable for each deep state");
  }

  void xdpDriver() {
    if (noInterface("xdp.driver")) return;
    if (f_.source != Source::Xdp) {
      add("xdp.driver", Verdict::NotApplicable, "kernel sockets", "", "");
      return;
    }
    const std::optional<std::string> driver = host_.linkName("/sys/class/net/" + f_.interface + "/device/driver");
    if (!driver) {
      add("xdp.driver", Verdict::NotApplicable,
          "a virtual device (no driver in sysfs): veth runs XDP natively; fhd reports the mode it got "
          "(xdp.native_mode)",
          "", "");
      return;
    }
    const bool native = std::any_of(std::begin(kNativeXdpDrivers), std::end(kNativeXdpDrivers),
                                    [&](const char* d) { return *driver == d; });
    add("xdp.driver", native ? Verdict::Ok : Verdict::Warn,
        "driver " + *driver + (native ? " runs XDP natively" : ": native XDP not known for it"),
        "in generic mode the kernel builds an skb for every packet before the program runs: most of what bypass "
        "saves",
        "a NIC whose driver has native XDP; xdp_mode = \"native\" makes fhd refuse to start without it");
  }

  const Config& c_;
  const Feed& f_;
  const Host& host_;
  const SteeringReader& steering_;
  bool ifExists_ = false;
  std::vector<HostItem>& out_;
};

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

const char* verdictName(Verdict v) noexcept {
  switch (v) {
    case Verdict::Ok:
      return "ok";
    case Verdict::Warn:
      return "warn";
    case Verdict::Bad:
      return "bad";
    case Verdict::NotApplicable:
      return "n/a";
  }
  return "?";
}

std::vector<int> parseCpuList(const std::string& text) {
  std::vector<int> cpus;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    if (part.empty()) continue;
    const size_t dash = part.find('-');
    try {
      const int from = std::stoi(part.substr(0, dash));
      const int to = dash == std::string::npos ? from : std::stoi(part.substr(dash + 1));
      if (from < 0 || to < from || to - from > 65536) return {};
      for (int c = from; c <= to; ++c) cpus.push_back(c);
    } catch (const std::exception&) {
      return {};
    }
  }
  return cpus;
}

int storesNode(const Config& c, const Feed& f, const std::string& root) {
  const std::string r = root == "/" ? "" : root;
  switch (c.memory.place) {
    case NodeChoice::Number:
      return c.memory.node;
    case NodeChoice::Nic:
      if (f.source != Source::File) return interfaceNode(f.interface, r);
      [[fallthrough]];  // a replay has no NIC: the worker's node
    case NodeChoice::Cpu:
      return cpuNode(f.cpu, r);
    case NodeChoice::Any:
      break;
  }
  return -1;
}

SteeringRule decodeSteeringRule(const ethtool_rx_flow_spec& spec) noexcept {
  SteeringRule r;
  r.location = spec.location;
  const uint32_t type = spec.flow_type & ~uint32_t(FLOW_EXT | FLOW_MAC_EXT | FLOW_RSS);
  if (type == UDP_V4_FLOW) {
    const ethtool_tcpip4_spec &h = spec.h_u.udp_ip4_spec, &m = spec.m_u.udp_ip4_spec;
    r.udp4 = true;
    r.dstIp = ntohl(h.ip4dst);
    r.dstIpMask = ntohl(m.ip4dst);
    r.dstPort = ntohs(h.pdst);
    r.dstPortMask = ntohs(m.pdst);
    r.partial = m.ip4src != 0 || m.psrc != 0 || m.tos != 0;
  } else if (type == IPV4_USER_FLOW && (spec.h_u.usr_ip4_spec.proto == 0 || spec.h_u.usr_ip4_spec.proto == 17)) {
    const ethtool_usrip4_spec &h = spec.h_u.usr_ip4_spec, &m = spec.m_u.usr_ip4_spec;
    r.udp4 = true;
    r.dstIp = ntohl(h.ip4dst);
    r.dstIpMask = ntohl(m.ip4dst);
    // The first 4 bytes of the transport header: source port, destination port.
    r.dstPort = uint16_t(ntohl(h.l4_4_bytes));
    r.dstPortMask = uint16_t(ntohl(m.l4_4_bytes));
    r.partial = m.ip4src != 0 || (ntohl(m.l4_4_bytes) >> 16) != 0 || m.tos != 0;
  }
  r.partial = r.partial || (spec.flow_type & (FLOW_EXT | FLOW_MAC_EXT)) != 0;
  r.rss = (spec.flow_type & FLOW_RSS) != 0;
  r.drop = spec.ring_cookie == RX_CLS_FLOW_DISC;
  r.toVf = !r.drop && ethtool_get_flow_spec_ring_vf(spec.ring_cookie) != 0;
  r.queue = uint32_t(ethtool_get_flow_spec_ring(spec.ring_cookie));
  return r;
}

SteeringRules readSteeringRules(const std::string& interface) {
  SteeringRules out;
  struct Socket {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ~Socket() {
      if (fd >= 0) ::close(fd);
    }
  } socket;
  const auto ask = [&](void* data) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, interface.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = static_cast<char*>(data);
    return ::ioctl(socket.fd, SIOCETHTOOL, &ifr) == 0;
  };
  // ethtool_rxnfc ends in a flexible array of rule locations. A rule added
  // between the count and the list makes the list EMSGSIZE: counted again.
  std::vector<uint8_t> all;
  ethtool_rxnfc* list = nullptr;
  for (int attempt = 0;; ++attempt) {
    ethtool_rxnfc count{};
    count.cmd = ETHTOOL_GRXCLSRLCNT;
    if (socket.fd < 0 || !ask(&count)) {
      out.error = std::strerror(errno);
      return out;
    }
    all.assign(sizeof(ethtool_rxnfc) + count.rule_cnt * sizeof(uint32_t), 0);
    list = reinterpret_cast<ethtool_rxnfc*>(all.data());
    list->cmd = ETHTOOL_GRXCLSRLALL;
    list->rule_cnt = count.rule_cnt;
    if (ask(list)) break;
    if (errno != EMSGSIZE || attempt == 3) {
      out.error = std::strerror(errno);
      return out;
    }
  }
  out.supported = true;
  for (uint32_t i = 0; i < list->rule_cnt; ++i) {
    ethtool_rxnfc rule{};
    rule.cmd = ETHTOOL_GRXCLSRULE;
    rule.fs.location = list->rule_locs[i];
    if (ask(&rule)) out.rules.push_back(decodeSteeringRule(rule.fs));
  }
  std::sort(out.rules.begin(), out.rules.end(),
            [](const SteeringRule& a, const SteeringRule& b) { return a.location < b.location; });
  return out;
}

std::vector<HostItem> checkHost(const Config& config, const std::string& root, const SteeringReader& steering) {
  const Host host(root);
  const SteeringReader reader = steering ? steering : root == "/" ? SteeringReader(readSteeringRules) : nullptr;
  std::vector<HostItem> items;
  for (const Feed& f : config.feeds) {
    Checker(config, f, host, reader, items).run();
    if (f.source == Source::File) continue;  // one "source" item says it all
    if (f.cpu < 0)
      items.push_back({f.name, "cpu.housekeeping", Verdict::NotApplicable,
                       "the worker is not pinned: every thread runs anywhere", "", ""});
    else if (const std::vector<int> online = parseCpuList(host.read("/sys/devices/system/cpu/online").value_or(""));
             config.housekeepingCpu >= 0 && !contains(online, config.housekeepingCpu))
      items.push_back({f.name, "cpu.housekeeping", Verdict::Bad,
                       "instance.housekeeping_cpu " + std::to_string(config.housekeepingCpu) +
                           " is not online (online: " + joinInts(online) + "; fhd refuses to start)",
                       "the housekeeping thread cannot run there", "housekeeping_cpu = an online CPU, or -1"});
    else if (config.housekeepingCpu == f.cpu)
      items.push_back({f.name, "cpu.housekeeping", Verdict::Bad,
                       "instance.housekeeping_cpu " + std::to_string(f.cpu) + " is the worker's",
                       "the housekeeping and snapshot threads take turns with the spinning worker",
                       "housekeeping_cpu = a CPU that is not a worker's, or -1 (any CPU but the workers')"});
    else
      items.push_back({f.name, "cpu.housekeeping", Verdict::Ok,
                       config.housekeepingCpu >= 0
                           ? "the other threads on CPU " + std::to_string(config.housekeepingCpu)
                           : "the other threads on every CPU but the worker's " + std::to_string(f.cpu),
                       "", ""});
  }
  // A CPU given to two workers: each takes half of it.
  for (size_t i = 0; i < config.feeds.size(); ++i)
    for (size_t j = i + 1; j < config.feeds.size(); ++j)
      if (config.feeds[i].cpu >= 0 && config.feeds[i].cpu == config.feeds[j].cpu)
        items.push_back({config.feeds[j].name, "cpu.shared", Verdict::Bad,
                         "cpu " + std::to_string(config.feeds[j].cpu) + " is also " + config.feeds[i].name + "'s",
                         "two spinning workers on one core each get half of it",
                         "cpu = a core of its own for each feed"});
  return items;
}

std::string formatHostReport(const std::vector<HostItem>& items) {
  std::string out;
  for (const HostItem& i : items) {
    char head[64];
    std::snprintf(head, sizeof head, "%-4s %-16s ", verdictName(i.verdict), i.item.c_str());
    out += head + i.feed + ": " + i.found + "\n";
    if (i.verdict == Verdict::Warn || i.verdict == Verdict::Bad) {
      out += "       why: " + i.why + "\n";
      out += "       fix: " + i.fix + "\n";
    }
  }
  return out;
}

std::string formatHostReportJson(const std::vector<HostItem>& items) {
  std::string out = "{\"items\":[";
  int counts[4] = {};
  for (size_t k = 0; k < items.size(); ++k) {
    const HostItem& i = items[k];
    ++counts[static_cast<int>(i.verdict)];
    if (k != 0) out += ',';
    out += "{\"feed\":" + jsonString(i.feed) + ",\"item\":" + jsonString(i.item) +
           ",\"verdict\":" + jsonString(verdictName(i.verdict)) + ",\"found\":" + jsonString(i.found) +
           ",\"why\":" + jsonString(i.why) + ",\"fix\":" + jsonString(i.fix) + "}";
  }
  out += "],\"ok\":" + std::to_string(counts[0]) + ",\"warn\":" + std::to_string(counts[1]) +
         ",\"bad\":" + std::to_string(counts[2]) + ",\"n/a\":" + std::to_string(counts[3]) + "}\n";
  return out;
}

}  // namespace fh::daemon
