// A fixed array of trivially constructible T in anonymous memory
// (util/memory.h): on the NUMA node and the huge pages the policy asks for
// where the host has them (fewer TLB misses on the large, randomly accessed
// stores of the books), every page faulted in at construction and zeroed
// once, by the kernel, so later accesses never fault. grant() asks the kernel
// what it gave. Owned by one thread.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "util/memory.h"

namespace fh {

template <class T>
class HugeArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  HugeArray() = default;
  explicit HugeArray(size_t count, const MemoryPolicy& policy = {}) : count_(count) {
    mapping_ = mapMemory(count * sizeof(T), policy);
    data_ = static_cast<T*>(mapping_.data);
  }
  ~HugeArray() { unmapMemory(mapping_); }
  HugeArray(HugeArray&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), count_(o.count_), mapping_(std::exchange(o.mapping_, {})) {}
  HugeArray& operator=(HugeArray&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
    std::swap(mapping_, o.mapping_);
    return *this;
  }

  T& operator[](size_t i) noexcept { return data_[i]; }
  const T& operator[](size_t i) const noexcept { return data_[i]; }
  T* get() const noexcept { return data_; }
  size_t size() const noexcept { return count_; }
  // What the kernel gave (util/memory.h): at start, not on the hot path.
  MemoryGrant grant() const { return data_ != nullptr ? inspectMemory(mapping_) : MemoryGrant{}; }

 private:
  T* data_ = nullptr;
  size_t count_ = 0;
  Mapping mapping_;
};

}  // namespace fh
