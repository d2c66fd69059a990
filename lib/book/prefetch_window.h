// Holds the next few messages of a stream back from the BookBuilder so that
// their memory loads start early: kFar messages ahead their order and book
// slots are prefetched, kNear ahead the best levels of their book. For any
// caller that sees messages in bulk (a file, a batch of packets). One thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace fh::book {

template <class Builder>
class PrefetchWindow {
 public:
  static constexpr size_t kFar = 16;
  static constexpr size_t kNear = 8;

  struct Entry {
    uint64_t position;  // the feed sequence, or a position in a file
    uint64_t recvNs;
    const uint8_t* msg;
    uint16_t length;
  };

  explicit PrefetchWindow(const Builder& builder) noexcept : builder_(builder) {}

  // Takes a message; hands the one kFar messages older to process(const Entry&).
  template <class Process>
  void push(const Entry& e, Process&& process) {
    builder_.prefetchFar(e.msg, e.length);
    ring_[(head_ + count_) % kSize] = e;
    ++count_;
    if (count_ > kNear) {
      const Entry& near = ring_[(head_ + count_ - 1 - kNear) % kSize];
      builder_.prefetchNear(near.msg, near.length);
    }
    if (count_ > kFar) pop(process);
  }

  // Hands over what is still held, in order.
  template <class Process>
  void drain(Process&& process) {
    while (count_ > 0) pop(process);
  }
  bool empty() const noexcept { return count_ == 0; }

 private:
  static constexpr size_t kSize = 32;
  static_assert(kFar < kSize && kNear < kFar);

  template <class Process>
  void pop(Process& process) {
    const Entry e = ring_[head_];
    head_ = (head_ + 1) % kSize;
    --count_;
    process(e);
  }

  const Builder& builder_;
  std::array<Entry, kSize> ring_{};
  size_t head_ = 0;
  size_t count_ = 0;
};

}  // namespace fh::book
