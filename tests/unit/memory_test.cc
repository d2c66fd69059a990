// util/memory.h against what the kernel says in /proc/self/numa_maps and
// /proc/self/smaps: the node and the page size a mapping asked for are the
// ones it got where the host has them, and the fallback is reported where it
// has not. Explicit huge pages are reserved for the test (vm.nr_hugepages,
// restored after) when the host has too few and the test runs as root.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "book/order_book.h"
#include "util/huge_array.h"
#include "util/memory.h"

namespace {

constexpr size_t kMiB = size_t{1} << 20;

// The numa_maps line of the mapping starting at `data`: its policy, pages by
// node and page size.
struct NumaMap {
  bool found = false;
  std::string policy;
  std::map<int, size_t> pagesByNode;
  size_t pageKiB = 0;
  bool huge = false;  // hugetlbfs
};

NumaMap numaMapOf(const void* data) {
  std::ifstream in("/proc/self/numa_maps");
  NumaMap m;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string start;
    fields >> start;
    if (std::stoull(start, nullptr, 16) != reinterpret_cast<uintptr_t>(data)) continue;
    m.found = true;
    fields >> m.policy;
    for (std::string f; fields >> f;) {
      if (f == "huge") m.huge = true;
      if (f.size() > 1 && f[0] == 'N' && f.find('=') != std::string::npos)
        m.pagesByNode[std::stoi(f.substr(1))] = std::stoull(f.substr(f.find('=') + 1));
      if (f.rfind("kernelpagesize_kB=", 0) == 0) m.pageKiB = std::stoull(f.substr(18));
    }
  }
  return m;
}

// AnonHugePages of the smaps entry of the mapping holding `data`, in bytes.
size_t anonHugeBytesOf(const void* data) {
  std::ifstream in("/proc/self/smaps");
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    uintptr_t from = 0, to = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &from, &to) == 2) {  // a mapping's first line
      inside = from <= reinterpret_cast<uintptr_t>(data) && reinterpret_cast<uintptr_t>(data) < to;
      continue;
    }
    size_t kb = 0;
    if (inside && std::sscanf(line.c_str(), "AnonHugePages: %zu kB", &kb) == 1) return kb << 10;
  }
  return 0;
}

// Node 0's pool of 2 MiB pages (on a multi-node host vm.nr_hugepages
// spreads over every node, and the test asks for node 0's).
const std::string kPool = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/";

long poolValue(const char* name) {
  long v = 0;
  std::ifstream(kPool + name) >> v;
  return v;
}
long freeHugePages() { return poolValue("free_hugepages"); }

// Raises node 0's pool so that `pages` are free, and puts it back after.
class HugePageReserve {
 public:
  explicit HugePageReserve(long pages) {
    before_ = poolValue("nr_hugepages");
    const long missing = pages - freeHugePages();
    if (missing <= 0 || ::geteuid() != 0) return;
    std::ofstream(kPool + "nr_hugepages") << before_ + missing;
    raised_ = true;
  }
  ~HugePageReserve() {
    if (raised_) std::ofstream(kPool + "nr_hugepages") << before_;
  }
  HugePageReserve(const HugePageReserve&) = delete;
  HugePageReserve& operator=(const HugePageReserve&) = delete;

 private:
  long before_ = 0;
  bool raised_ = false;
};

size_t pagesOf(const NumaMap& m) {
  size_t n = 0;
  for (const auto& [node, pages] : m.pagesByNode) n += pages;
  return n;
}

}  // namespace

TEST_CASE("memory: a mapping is where numa_maps says, on the pages smaps says, faulted in whole", "[memory]") {
  const std::vector<int> nodes = fh::numaNodes();
  REQUIRE_FALSE(nodes.empty());  // Debian's kernels have NUMA; a host with one node lists node0
  const int node = nodes.back();
  for (const fh::HugePages pages : {fh::HugePages::Transparent, fh::HugePages::Off}) {
    INFO(fh::describe(pages));
    fh::Mapping m = fh::mapMemory(9 * kMiB, {node, pages});
    const fh::MemoryGrant g = fh::inspectMemory(m);
    CHECK(m.bytes == 10 * kMiB);  // rounded up to 2 MiB
    CHECK(g.bytes == m.bytes);
    const NumaMap map = numaMapOf(m.data);
    REQUIRE(map.found);
    CHECK(map.policy == "prefer:" + std::to_string(node));
    CHECK(map.pageKiB == 4);
    CHECK_FALSE(map.huge);
    // Every page present (faulted in), all of them on the node asked for.
    CHECK(pagesOf(map) * 4096 == m.bytes);
    CHECK(map.pagesByNode.at(node) * 4096 == m.bytes);
    REQUIRE(g.bytesByNode.size() > size_t(node));
    CHECK(g.bytesByNode[size_t(node)] == m.bytes);
    CHECK(g.node() == node);
    CHECK(g.offNodeBytes == 0);
    CHECK(g.explicitBytes == 0);
    CHECK(g.hugeBytes == anonHugeBytesOf(m.data));
    if (pages == fh::HugePages::Off) CHECK(g.hugeBytes == 0);
    CHECK(g.fallback.find("NUMA") == std::string::npos);
    // Zeroed, and writable.
    const auto* bytes = static_cast<const unsigned char*>(m.data);
    CHECK(std::all_of(bytes, bytes + m.bytes, [](unsigned char b) { return b == 0; }));
    static_cast<unsigned char*>(m.data)[m.bytes - 1] = 1;
    fh::unmapMemory(m);
  }
}

TEST_CASE("memory: neighbouring mappings stay apart, each with its own page count", "[memory]") {
  // Mapped one after the other, the kernel would put them side by side and,
  // with the same flags, merge them: each has a guard page of its own.
  fh::Mapping huge = fh::mapMemory(4 * kMiB, {-1, fh::HugePages::Transparent});
  fh::Mapping small = fh::mapMemory(4 * kMiB, {-1, fh::HugePages::Off});
  fh::Mapping huge2 = fh::mapMemory(4 * kMiB, {-1, fh::HugePages::Transparent});
  for (const fh::Mapping* m : {&huge, &small, &huge2}) {
    CHECK(reinterpret_cast<uintptr_t>(m->data) % (2 * kMiB) == 0);  // where a huge page can start
    CHECK(numaMapOf(m->data).found);                                // a mapping of its own
    CHECK(fh::inspectMemory(*m).hugeBytes == anonHugeBytesOf(m->data));
  }
  CHECK(fh::inspectMemory(small).hugeBytes == 0);
  fh::unmapMemory(huge);
  fh::unmapMemory(small);
  fh::unmapMemory(huge2);
  CHECK(huge.data == nullptr);
}

TEST_CASE("memory: a node the host does not have is reported, and the mapping still made", "[memory]") {
  fh::Mapping m = fh::mapMemory(2 * kMiB, {1000, fh::HugePages::Transparent});
  const fh::MemoryGrant g = fh::inspectMemory(m);
  CHECK(g.fallback.find("NUMA node 1000: cannot place the pages there") != std::string::npos);
  CHECK(pagesOf(numaMapOf(m.data)) > 0);
  fh::unmapMemory(m);
}

TEST_CASE("memory: explicit huge pages where the host has them, transparent ones and the reason where not",
          "[memory]") {
  const HugePageReserve reserve(8);
  const long free = freeHugePages();
  if (free >= 8) {
    fh::Mapping m = fh::mapMemory(16 * kMiB, {0, fh::HugePages::Explicit});
    const fh::MemoryGrant g = fh::inspectMemory(m);
    const NumaMap map = numaMapOf(m.data);
    REQUIRE(map.found);
    CHECK(map.huge);
    CHECK(map.pageKiB == 2048);
    CHECK(pagesOf(map) == 8);
    CHECK(map.pagesByNode.at(0) == 8);
    CHECK(g.explicitBytes == 16 * kMiB);
    CHECK(g.hugeBytes == 16 * kMiB);
    CHECK(g.pageBytes() == 2 * kMiB);
    CHECK(g.fallback.empty());
    CHECK(fh::describe(g) == "16 MiB on node 0, 100% in 2 MiB pages (explicit)");
    fh::unmapMemory(m);
  } else {
    WARN("only " << free
                 << " explicit huge pages free on node 0 and none could be reserved (not root): the "
                    "fallback only");
  }
  // More than are free: transparent pages, and why.
  long freeEverywhere = 0;
  std::ifstream("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") >> freeEverywhere;
  const size_t tooMany = size_t(freeEverywhere + 1) * 2 * kMiB;
  fh::Mapping m = fh::mapMemory(tooMany, {-1, fh::HugePages::Explicit});
  const fh::MemoryGrant g = fh::inspectMemory(m);
  CHECK(g.explicitBytes == 0);
  CHECK(g.fallback.find("explicit huge pages: too few to be had") != std::string::npos);
  CHECK(g.fallback.find("transparent ones instead") != std::string::npos);
  const NumaMap map = numaMapOf(m.data);
  CHECK_FALSE(map.huge);
  CHECK(map.pageKiB == 4);
  CHECK(m.policy.pages == fh::HugePages::Transparent);
  fh::unmapMemory(m);
}

TEST_CASE("memory: the book stores and a HugeArray take the policy, and their grants add up", "[memory]") {
  fh::book::BookConfig config;
  config.maxInstruments = 1024;
  config.maxOrders = 1 << 16;
  config.maxLevels = 1 << 16;
  config.memory = {0, fh::HugePages::Off};
  const fh::book::OrderBooks books(config);
  const fh::MemoryGrant g = books.memoryGrant();
  CHECK(g.bytes >= books.reservedBytes());
  CHECK(g.bytes % (2 * kMiB) == 0);
  CHECK(g.hugeBytes == 0);
  CHECK(g.offNodeBytes == 0);
  CHECK(g.node() == 0);
  fh::HugeArray<uint64_t> array(1000, {0, fh::HugePages::Off});
  CHECK(numaMapOf(array.get()).policy == "prefer:0");
  CHECK(array.grant().bytes == 2 * kMiB);
  fh::MemoryGrant sum = g;
  sum += array.grant();
  CHECK(sum.bytes == g.bytes + 2 * kMiB);
  CHECK(sum.bytesByNode[0] == sum.bytes);
}
