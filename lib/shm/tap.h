// A capture's end of a region's tap (layout.h): it attaches by holding
// flock(LOCK_SH) on DIR/.NAME.tap, which the writer's housekeeping sees
// within 100 ms and answers by copying every packet its worker receives into
// the tap's ring; it reads those copies, and counts the ones a slow reader
// was lapped past. Detaches when destroyed (or when its process ends). One
// thread; not for the writer's process.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "shm/consumer.h"
#include "shm/layout.h"

namespace fh::shm {

class TapReader {
 public:
  // Throws std::runtime_error saying why: the region has no tap (shm.tap_mib
  // = 0, or an older fhd), or its lock cannot be opened or taken.
  explicit TapReader(const Consumer& region);
  ~TapReader();
  TapReader(const TapReader&) = delete;
  TapReader& operator=(const TapReader&) = delete;

  // Whether the writer copies packets into the tap (for this reader, or for
  // another capture attached before it).
  bool active() const noexcept { return header_->active.load(std::memory_order_relaxed) != 0; }
  // Reading starts at the packet the writer writes next.
  void start() noexcept;

  struct Packet {
    TapLine line;
    uint64_t recvNs;
    uint64_t index;                    // frames the writer tapped before this one
    std::span<const uint8_t> payload;  // valid until the next call of next()
  };
  // The next packet, or false when there is none yet.
  bool next(Packet& out) noexcept;
  // Packets the writer tapped after start() that this reader never saw.
  uint64_t lost() const noexcept { return lost_; }
  // Frames that were not whole when read, or not frames at all (a ring
  // that lies): skipped, and counted in lost() if they were packets.
  uint64_t resyncs() const noexcept { return resyncs_; }
  const TapEndpoints& endpoints(TapLine line) const noexcept { return endpoints_[static_cast<uint32_t>(line)]; }

 private:
  const TapHeader* header_;
  const uint8_t* ring_;
  uint64_t mask_;
  int fd_ = -1;
  TapEndpoints endpoints_[kTapLines] = {};
  uint64_t cursor_ = 0;
  uint64_t expected_ = 0;
  bool knowExpected_ = false;
  uint64_t lost_ = 0;
  uint64_t resyncs_ = 0;
  std::vector<uint64_t> buffer_;
};

}  // namespace fh::shm
