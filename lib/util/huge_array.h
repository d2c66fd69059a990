// A fixed array of trivially constructible T in anonymous memory, backed by
// transparent huge pages where the kernel allows (fewer TLB misses on the
// large, randomly accessed stores of the books). Faulted in at construction
// (the kernel hands out zeroed pages, so nothing is zeroed twice), so later
// accesses never fault. Owned by one thread.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>

namespace fh {

template <class T>
class HugeArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  HugeArray() = default;
  explicit HugeArray(size_t count) : count_(count) {
    constexpr size_t kHugePage = size_t{2} << 20;
    bytes_ = (count * sizeof(T) + kHugePage - 1) & ~(kHugePage - 1);
    void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    ::madvise(p, bytes_, MADV_HUGEPAGE);  // advice only: without THP, 4 KiB pages still work
    data_ = static_cast<T*>(p);
    populate();
  }
  ~HugeArray() {
    if (data_ != nullptr) ::munmap(data_, bytes_);
  }
  HugeArray(HugeArray&& o) noexcept : data_(o.data_), count_(o.count_), bytes_(o.bytes_) { o.data_ = nullptr; }
  HugeArray& operator=(HugeArray&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }

  T& operator[](size_t i) noexcept { return data_[i]; }
  const T& operator[](size_t i) const noexcept { return data_[i]; }
  T* get() const noexcept { return data_; }
  size_t size() const noexcept { return count_; }

 private:
  // After the huge-page advice, so that the pages faulted in can be huge ones.
  void populate() noexcept {
#ifdef MADV_POPULATE_WRITE
    if (::madvise(data_, bytes_, MADV_POPULATE_WRITE) == 0) return;
#endif
    auto* bytes = reinterpret_cast<volatile unsigned char*>(data_);  // kernels before 5.14
    for (size_t at = 0; at < bytes_; at += 4096) bytes[at] = 0;
  }

  T* data_ = nullptr;
  size_t count_ = 0;
  size_t bytes_ = 0;
};

}  // namespace fh
