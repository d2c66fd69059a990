#include "shm/tap.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "shm/words.h"

namespace fh::shm {

namespace {

const TapHeader* tapOf(const Consumer& region) {
  const TapHeader* h = region.tapHeader();
  if (h == nullptr)
    throw std::runtime_error(region.path() + " has no capture tap (fhd's shm.tap_mib is 0, or it predates layout 1.4)");
  return h;
}

}  // namespace

TapReader::TapReader(const Consumer& region)
    : header_(tapOf(region)),
      ring_(region.tapRing()),
      mask_(region.tapBytes() - 1),
      buffer_((kMaxTapPayload + 7) / 8 + 1) {
  const std::string path = region.tapLockPath();
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd_ < 0) {
    const int e = errno;
    throw std::runtime_error(path + ": cannot open the capture tap's lock: " + std::strerror(e) +
                             (e == EACCES ? " (captures need the region's group)" : ""));
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw std::runtime_error(path + " is not a capture tap's lock (not a regular file)");
  }
  // Blocks only while the writer's housekeeping probes the lock (microseconds).
  if (::flock(fd_, LOCK_SH) != 0) {
    const int e = errno;
    ::close(fd_);
    throw std::runtime_error(path + ": cannot lock: " + std::strerror(e));
  }
  // A copy, read once: shared memory may change under us.
  for (uint32_t i = 0; i < kTapLines; ++i) std::memcpy(&endpoints_[i], &header_->lines[i], sizeof endpoints_[i]);
  start();
}

TapReader::~TapReader() { ::close(fd_); }  // the lock goes with it

void TapReader::start() noexcept {
  // After the newest whole frame, whose index says which comes next: every
  // packet tapped from then on is read or counted lost.
  const uint64_t capacity = mask_ + 1;
  for (int tries = 0; tries < 64; ++tries) {
    const uint64_t latest = header_->latest.load(std::memory_order_acquire);
    if (header_->tail.load(std::memory_order_acquire) == 0) {  // nothing tapped yet
      cursor_ = 0;
      expected_ = 0;
      knowExpected_ = true;
      return;
    }
    TapFrame frame{};
    if ((latest & 7) == 0 && capacity - (latest & mask_) >= sizeof frame)
      loadWords(&frame, ring_ + (latest & mask_), sizeof frame);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (latest + capacity >= header_->tailIntent.load(std::memory_order_relaxed) &&
        frame.type == TapFrameType::Packet && frame.length >= sizeof frame && frame.length % 8 == 0) {
      cursor_ = latest + frame.length;
      expected_ = frame.index + 1;
      knowExpected_ = true;
      return;
    }
  }
  // A ring that lies: read on from its tail, counting from the first frame.
  cursor_ = header_->tail.load(std::memory_order_acquire);
  knowExpected_ = false;
}

bool TapReader::next(Packet& out) noexcept {
  const uint64_t capacity = mask_ + 1;
  // Bounded: a reader lapped (or facing a lying ring) this often in one call
  // gives up until the next.
  for (int step = 0; step < 4096; ++step) {
    const uint64_t tail = header_->tail.load(std::memory_order_acquire);
    if (cursor_ >= tail) return false;
    const uint64_t offset = cursor_ & mask_;
    const uint64_t room = capacity - offset;
    if (room < sizeof(TapFrame)) {  // an unmarked end of lap
      cursor_ += room;
      continue;
    }
    TapFrame frame{};
    loadWords(&frame, ring_ + offset, sizeof frame);
    const bool packet = frame.type == TapFrameType::Packet;
    const bool plausible = frame.length >= sizeof(TapFrame) && frame.length % 8 == 0 && frame.length <= room &&
                           (frame.type == TapFrameType::Padding ||
                            (packet && frame.line < kTapLines && frame.payloadBytes <= kMaxTapPayload &&
                             (sizeof(TapFrame) + frame.payloadBytes + 7) / 8 * 8 == frame.length));
    if (plausible && packet) loadWords(buffer_.data(), ring_ + offset + sizeof frame, frame.length - sizeof frame);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (cursor_ + capacity < header_->tailIntent.load(std::memory_order_relaxed) || !plausible) {
      // Overwritten while (or before) we copied: on at the newest whole frame.
      ++resyncs_;
      cursor_ = header_->latest.load(std::memory_order_acquire);
      continue;
    }
    cursor_ += frame.length;
    if (!packet) continue;
    if (knowExpected_ && frame.index < expected_) continue;  // seen already (a resync went back)
    if (knowExpected_ && frame.index > expected_) lost_ += frame.index - expected_;
    expected_ = frame.index + 1;
    knowExpected_ = true;
    out = Packet{static_cast<TapLine>(frame.line),
                 frame.recvNs,
                 frame.index,
                 {reinterpret_cast<const uint8_t*>(buffer_.data()), frame.payloadBytes}};
    return true;
  }
  return false;
}

}  // namespace fh::shm
