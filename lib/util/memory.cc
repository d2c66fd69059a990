#include "util/memory.h"

#include <linux/mempolicy.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>

namespace fh {
namespace {

constexpr size_t kSmallPage = 4096;
constexpr size_t kHugePage = size_t{2} << 20;

std::string mib(size_t bytes) {
  char buf[32];
  if (bytes >= (size_t{1} << 30))
    std::snprintf(buf, sizeof buf, "%.1f GiB", double(bytes) / double(size_t{1} << 30));
  else
    std::snprintf(buf, sizeof buf, "%zu MiB", bytes >> 20);
  return buf;
}

std::string firstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// A field of /proc/meminfo, e.g. "HugePages_Free"; -1 when missing.
long meminfo(const char* field) {
  std::ifstream in("/proc/meminfo");
  const std::string prefix = std::string(field) + ":";
  for (std::string line; std::getline(in, line);)
    if (line.compare(0, prefix.size(), prefix) == 0) return std::strtol(line.c_str() + prefix.size(), nullptr, 10);
  return -1;
}

// The smaps entry of the mapping that starts at `data`: its kernel page size
// and the bytes of it on transparent huge pages (both in bytes).
struct Smaps {
  size_t kernelPage = kSmallPage;
  size_t anonHuge = 0;
};
Smaps smapsOf(const void* data) {
  Smaps out;
  std::ifstream in("/proc/self/smaps");
  const auto start = reinterpret_cast<uintptr_t>(data);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    uintptr_t from = 0, to = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR " ", &from, &to) == 2 && line.find(':') > line.find(' ')) {
      if (inside) break;
      inside = from <= start && start < to;
      continue;
    }
    if (!inside) continue;
    size_t kb = 0;
    if (std::sscanf(line.c_str(), "KernelPageSize: %zu kB", &kb) == 1) out.kernelPage = kb << 10;
    if (std::sscanf(line.c_str(), "AnonHugePages: %zu kB", &kb) == 1) out.anonHuge = kb << 10;
  }
  return out;
}

// mbind(2) MPOL_PREFERRED: the pages go to `node` while it has room. No
// libnuma for one system call.
bool preferNode(void* data, size_t bytes, int node) {
  constexpr size_t kMaxNodes = 1024, kBits = 8 * sizeof(unsigned long);
  if (node < 0 || size_t(node) >= kMaxNodes) {
    errno = EINVAL;
    return false;
  }
  unsigned long mask[kMaxNodes / kBits] = {};
  mask[size_t(node) / kBits] = 1ul << (size_t(node) % kBits);
  // The kernel reads maxnode - 1 bits of the mask.
  return ::syscall(SYS_mbind, data, bytes, MPOL_PREFERRED, mask, kMaxNodes + 1, 0u) == 0;
}

// Where the pages of [data, data+bytes) are, page by page of `step` bytes.
// False when the kernel cannot tell (no NUMA).
bool nodesOf(void* data, size_t bytes, size_t step, MemoryGrant& grant) {
  constexpr size_t kBatch = 4096;
  std::vector<void*> pages;
  std::vector<int> status;
  pages.reserve(kBatch);
  status.resize(kBatch);
  for (size_t at = 0; at < bytes;) {
    pages.clear();
    for (; at < bytes && pages.size() < kBatch; at += step) pages.push_back(static_cast<char*>(data) + at);
    if (::syscall(SYS_move_pages, 0, pages.size(), pages.data(), nullptr, status.data(), 0) != 0) return false;
    for (size_t i = 0; i < pages.size(); ++i) {
      if (status[i] < 0) continue;  // not present: cannot happen after the fault-in
      const auto node = static_cast<size_t>(status[i]);
      if (grant.bytesByNode.size() <= node) grant.bytesByNode.resize(node + 1);
      grant.bytesByNode[node] += step;
    }
  }
  return true;
}

// Faults every page in. False when the kernel has not the memory (rather
// than a SIGBUS or the OOM killer on a write).
bool populate(void* data, size_t bytes, size_t step) {
#ifdef MADV_POPULATE_WRITE
  if (::madvise(data, bytes, MADV_POPULATE_WRITE) == 0) return true;
  if (errno != EINVAL) return false;
#endif
  auto* p = static_cast<volatile unsigned char*>(data);  // kernels before 5.14
  for (size_t at = 0; at < bytes; at += step) p[at] = 0;
  return true;
}

void append(std::string& to, const std::string& what) {
  if (!to.empty()) to += "; ";
  to += what;
}

}  // namespace

int MemoryGrant::node() const noexcept {
  const auto most = std::max_element(bytesByNode.begin(), bytesByNode.end());
  return most == bytesByNode.end() ? 0 : int(most - bytesByNode.begin());
}

size_t MemoryGrant::pageBytes() const noexcept { return hugeBytes * 2 > bytes ? kHugePage : kSmallPage; }

MemoryGrant& MemoryGrant::operator+=(const MemoryGrant& o) {
  bytes += o.bytes;
  hugeBytes += o.hugeBytes;
  explicitBytes += o.explicitBytes;
  offNodeBytes += o.offNodeBytes;
  if (bytesByNode.size() < o.bytesByNode.size()) bytesByNode.resize(o.bytesByNode.size());
  for (size_t n = 0; n < o.bytesByNode.size(); ++n) bytesByNode[n] += o.bytesByNode[n];
  if (!o.fallback.empty() && fallback.find(o.fallback) == std::string::npos) append(fallback, o.fallback);
  return *this;
}

std::string describe(const MemoryGrant& g) {
  std::string s = mib(g.bytes) + " on node " + std::to_string(g.node());
  if (g.offNodeBytes > 0) s += " (" + mib(g.offNodeBytes) + " elsewhere)";
  const size_t percent = g.bytes == 0 ? 0 : g.hugeBytes * 100 / g.bytes;
  s += ", " + std::to_string(percent) + "% in 2 MiB pages";
  if (g.hugeBytes > 0)
    s += g.explicitBytes == g.hugeBytes ? " (explicit)" : g.explicitBytes == 0 ? " (transparent)" : "";
  return s;
}

const char* describe(HugePages pages) noexcept {
  switch (pages) {
    case HugePages::Explicit:
      return "explicit huge pages";
    case HugePages::Transparent:
      return "transparent huge pages";
    case HugePages::Off:
      break;
  }
  return "4 KiB pages";
}

namespace {

// 4 KiB-page memory for `bytes` (a multiple of 2 MiB) starting on a 2 MiB
// boundary, so that transparent huge pages can back all of it, followed by
// one PROT_NONE guard page: the kernel cannot merge the mapping with a
// neighbour, so its smaps entry (AnonHugePages) is its own. Unmapped with
// bytes + kSmallPage.
void* mapAligned(size_t bytes) {
  void* p = ::mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = (start + kHugePage - 1) & ~uintptr_t(kHugePage - 1);
  if (aligned > start) ::munmap(p, aligned - start);
  const uintptr_t guard = aligned + bytes, end = start + bytes + kHugePage;  // end - guard >= kSmallPage
  ::mprotect(reinterpret_cast<void*>(guard), kSmallPage, PROT_NONE);
  if (end > guard + kSmallPage) ::munmap(reinterpret_cast<void*>(guard + kSmallPage), end - guard - kSmallPage);
  return reinterpret_cast<void*>(aligned);
}

}  // namespace

Mapping mapMemory(size_t bytes, const MemoryPolicy& policy) {
  Mapping m;
  m.bytes = mappedBytes(bytes);
  // Unmapped again if anything below throws (a std::string of the report).
  struct Undo {
    Mapping& m;
    bool armed = true;
    ~Undo() {
      if (armed) unmapMemory(m);
    }
  } undo{m};
  MemoryGrant& g = m.grant;
  HugePages pages = policy.pages;
  if (pages == HugePages::Explicit) {
    void* p = ::mmap(nullptr, m.bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT), -1, 0);  // 2 MiB pages
    if (p != MAP_FAILED) {
      m.data = p;
      m.explicitPages = true;
    } else {
      const int e = errno;
      append(g.fallback, std::string("explicit huge pages: too few to be had (") + std::strerror(e) + "; " +
                             std::to_string(std::max(0L, meminfo("HugePages_Free"))) +
                             " of 2 MiB free, vm.nr_hugepages " + firstLine("/proc/sys/vm/nr_hugepages") +
                             "): transparent ones instead");
      pages = HugePages::Transparent;
    }
  }
  if (m.data == nullptr) {
    void* p = mapAligned(m.bytes);
    if (p == nullptr) throw std::bad_alloc();
    m.data = p;
    if (::madvise(p, m.bytes, pages == HugePages::Off ? MADV_NOHUGEPAGE : MADV_HUGEPAGE) != 0 &&
        pages == HugePages::Transparent)
      append(g.fallback, std::string("transparent huge pages: refused (") + std::strerror(errno) + ")");
  }
  if (policy.node >= 0 && !preferNode(m.data, m.bytes, policy.node))
    append(g.fallback, "NUMA node " + std::to_string(policy.node) + ": cannot place the pages there (" +
                           std::strerror(errno) + "): the kernel's choice instead");
  if (!populate(m.data, m.bytes, m.explicitPages ? kHugePage : kSmallPage)) throw std::bad_alloc();
  g.bytes = m.bytes;
  m.policy = policy;
  m.policy.pages = pages;
  undo.armed = false;
  return m;
}

MemoryGrant inspectMemory(const Mapping& m) {
  MemoryGrant g = m.grant;
  const Smaps smaps = smapsOf(m.data);
  if (smaps.kernelPage > kSmallPage) {
    g.hugeBytes = g.explicitBytes = m.bytes;
  } else {
    g.hugeBytes = std::min(smaps.anonHuge, m.bytes);
    if (m.policy.pages == HugePages::Transparent && g.hugeBytes < m.bytes) {
      const std::string mode = firstLine("/sys/kernel/mm/transparent_hugepage/enabled");
      append(g.fallback, "transparent huge pages: not for every page (transparent_hugepage/enabled: " +
                             (mode.empty() ? "absent" : mode) + ")");
    }
  }
  if (!nodesOf(m.data, m.bytes, smaps.kernelPage, g)) {
    g.bytesByNode.assign(1, m.bytes);  // without NUMA, one node holds everything
  } else if (m.policy.node >= 0) {
    const auto node = size_t(m.policy.node);
    g.offNodeBytes = m.bytes - std::min(node < g.bytesByNode.size() ? g.bytesByNode[node] : 0, m.bytes);
    if (g.offNodeBytes > 0)
      append(g.fallback, "NUMA node " + std::to_string(node) + ": some pages placed elsewhere (the node is full)");
  }
  return g;
}

void unmapMemory(Mapping& m) noexcept {
  if (m.data != nullptr) ::munmap(m.data, m.explicitPages ? m.bytes : m.bytes + kSmallPage);  // with the guard
  m.data = nullptr;
}

std::vector<int> numaNodes(const std::string& root) {
  std::vector<int> nodes;
  std::error_code e;
  for (const auto& entry : std::filesystem::directory_iterator(root + "/sys/devices/system/node", e)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.compare(0, 4, "node") == 0 &&
        std::all_of(name.begin() + 4, name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      nodes.push_back(std::stoi(name.substr(4)));
  }
  std::sort(nodes.begin(), nodes.end());
  return nodes;
}

int cpuNode(int cpu, const std::string& root) {
  if (cpu < 0) return -1;
  std::error_code e;
  const std::string dir = root + "/sys/devices/system/cpu/cpu" + std::to_string(cpu);
  for (const auto& entry : std::filesystem::directory_iterator(dir, e)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.compare(0, 4, "node") == 0) return std::atoi(name.c_str() + 4);
  }
  return -1;
}

int interfaceNode(const std::string& interface, const std::string& root) {
  const std::string line = firstLine(root + "/sys/class/net/" + interface + "/device/numa_node");
  return line.empty() ? -1 : std::atoi(line.c_str());
}

}  // namespace fh
