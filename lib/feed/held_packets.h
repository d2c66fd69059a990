// The packets a sequencer holds while a hole before them is open: their bytes
// in fixed slots, and an index kept in order of first sequence, so the next
// packet to release is always at the front and a packet of the other line (or
// of a retransmission) finds its copy by binary search. Packets mostly arrive
// in order behind a hole, so an insert is nearly always an append. Sized once;
// no allocation after construction.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace fh::feed {

class HeldPackets {
 public:
  static constexpr size_t kMaxPacket = 2048;

  struct Entry {
    uint64_t first = 0, end = 0;  // its messages: first .. end-1
    uint64_t recvNs = 0;
    uint32_t slot = 0;
    uint16_t bytes = 0;
    uint8_t line = 0;  // 0 A, 1 B, 2 a retransmission
  };

  explicit HeldPackets(uint32_t capacity) : store_(size_t{capacity} * kMaxPacket), capacity_(capacity) {
    index_.reserve(capacity);
    free_.reserve(capacity);
    for (uint32_t s = capacity; s-- > 0;) free_.push_back(s);
  }

  size_t size() const noexcept { return index_.size(); }
  bool empty() const noexcept { return index_.empty(); }
  bool full() const noexcept { return index_.size() == capacity_; }
  const Entry& front() const noexcept { return index_.front(); }
  const Entry& operator[](size_t i) const noexcept { return index_[i]; }
  std::span<const uint8_t> bytes(const Entry& e) const noexcept {
    return {store_.data() + size_t{e.slot} * kMaxPacket, e.bytes};
  }

  // A packet with exactly these messages is held already.
  bool contains(uint64_t first, uint64_t end) const noexcept {
    const auto it = lowerBound(first);
    for (auto i = it; i != index_.end() && i->first == first; ++i)
      if (i->end == end) return true;
    return false;
  }

  // Keeps a copy; false when full or too large for a slot.
  bool add(std::span<const uint8_t> payload, uint64_t first, uint64_t end, uint64_t recvNs, uint8_t line) noexcept {
    if (full() || payload.size() > kMaxPacket) return false;
    const uint32_t slot = free_.back();
    free_.pop_back();
    std::memcpy(store_.data() + size_t{slot} * kMaxPacket, payload.data(), payload.size());
    const Entry e{first, end, recvNs, slot, static_cast<uint16_t>(payload.size()), line};
    if (index_.empty() || index_.back().first <= first) {
      index_.push_back(e);  // the usual case
    } else {
      auto it =
          std::upper_bound(index_.begin(), index_.end(), first, [](uint64_t f, const Entry& x) { return f < x.first; });
      index_.insert(it, e);  // within the reserved capacity: no allocation
    }
    return true;
  }

  // Forgets the first `n` entries; their slots may be taken again.
  void popFront(size_t n) noexcept {
    for (size_t i = 0; i < n; ++i) free_.push_back(index_[i].slot);
    index_.erase(index_.begin(), index_.begin() + static_cast<std::ptrdiff_t>(n));
  }

  void clear() noexcept { popFront(index_.size()); }

 private:
  std::vector<Entry>::const_iterator lowerBound(uint64_t first) const noexcept {
    return std::lower_bound(index_.begin(), index_.end(), first,
                            [](const Entry& x, uint64_t f) { return x.first < f; });
  }

  std::vector<uint8_t> store_;
  std::vector<Entry> index_;
  std::vector<uint32_t> free_;
  uint32_t capacity_;
};

}  // namespace fh::feed
