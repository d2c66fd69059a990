// Memory for the large stores of the hot path (the book stores, the AF_XDP
// UMEM): anonymous mappings placed on a NUMA node and backed by huge pages as
// the configuration asks, every page faulted in at once (zeroed by the kernel,
// so nothing is zeroed twice and later accesses never fault), then read back
// from the kernel (move_pages(2), /proc/self/smaps), so that what was
// obtained is reported rather than assumed. Control plane: called at start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fh {

enum class HugePages : uint8_t {
  Explicit,     // hugetlbfs pages (MAP_HUGETLB), reserved by vm.nr_hugepages; transparent ones when none are free
  Transparent,  // transparent huge pages where the kernel finds them (madvise MADV_HUGEPAGE)
  Off,          // 4 KiB pages (MADV_NOHUGEPAGE)
};

struct MemoryPolicy {
  int node = -1;  // NUMA node the pages are placed on (preferred: a full node spills over); -1: where touched
  HugePages pages = HugePages::Transparent;
};

// What a mapping got, as the kernel tells it; summed over several mappings.
struct MemoryGrant {
  size_t bytes = 0;                 // mapped (and faulted in)
  size_t hugeBytes = 0;             // of them on huge pages, explicit or transparent
  size_t explicitBytes = 0;         // of them on hugetlbfs pages
  size_t offNodeBytes = 0;          // of them not on the node asked for (0 when none was)
  std::vector<size_t> bytesByNode;  // by NUMA node, as move_pages(2) finds the pages
  std::string fallback;             // what was asked and not obtained, and why; empty when all was

  int node() const noexcept;          // the node holding most of the bytes (0 without NUMA)
  size_t pageBytes() const noexcept;  // the page size holding most of the bytes
  MemoryGrant& operator+=(const MemoryGrant& other);
};

// "1.1 GiB on node 0, 100% in 2 MiB pages (explicit)"
std::string describe(const MemoryGrant& grant);
// "explicit huge pages", "transparent huge pages", "4 KiB pages"
const char* describe(HugePages pages) noexcept;

// An anonymous private mapping of at least `bytes` (rounded up to 2 MiB), as
// `policy` asks where the host allows, every page faulted in. Throws
// std::bad_alloc when not even 4 KiB pages can be had. The grant holds what
// mapping found (an explicit page shortage, a refused node);
// inspectMemory() asks the kernel for the rest.
struct Mapping {
  void* data = nullptr;
  size_t bytes = 0;
  MemoryPolicy policy;  // as obtained: Transparent after an explicit shortage
  bool explicitPages = false;
  MemoryGrant grant;
};
Mapping mapMemory(size_t bytes, const MemoryPolicy& policy);
// What mapMemory maps for `bytes`: rounded up to 2 MiB.
constexpr size_t mappedBytes(size_t bytes) noexcept {
  return (bytes == 0 ? 1 : bytes + (size_t{2} << 20) - 1) & ~((size_t{2} << 20) - 1);
}
// The grant of a mapping, read back from the kernel: the pages' nodes
// (move_pages(2)) and sizes (/proc/self/smaps). Milliseconds: at start only.
MemoryGrant inspectMemory(const Mapping& m);
void unmapMemory(Mapping& m) noexcept;  // and m.data = nullptr

// The nodes the host has (/sys/devices/system/node), empty without NUMA.
// `root` is where /sys is ("": this host; tests lay out a fake one).
std::vector<int> numaNodes(const std::string& root = "");
// The node of a CPU, and of a network interface's device (-1: none, e.g. a
// virtual device, or a host without NUMA).
int cpuNode(int cpu, const std::string& root = "");
int interfaceNode(const std::string& interface, const std::string& root = "");

}  // namespace fh
