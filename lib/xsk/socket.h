// One AF_XDP socket on one (interface, queue), with a UMEM of its own, made
// with libxdp's xsk API: the mode asked for first (zero-copy), copy mode as
// the fallback, and the mode in use reported; busy polling asked for and
// reported. The receive side (peek/release/refill, in the style of libxdp's
// xsk.h) belongs to the one worker thread that owns the socket.
#pragma once

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include <cstdint>
#include <string>

#include "util/memory.h"
#include "xsk/steering.h"

namespace fh::xsk {

struct SocketConfig {
  std::string interface;
  uint32_t queue = 0;
  XdpMode xdpMode = XdpMode::Native;  // must match the program's attachment
  bool zeroCopy = true;               // tried first; copy mode if refused
  uint32_t frames = 4096;             // UMEM frames, a power of two
  uint32_t frameSize = XSK_UMEM__DEFAULT_FRAME_SIZE;
  uint32_t ringSize = 2048;  // rx and fill rings
  bool busyPoll = true;
  uint32_t busyPollUs = 20;
  uint32_t busyPollBudget = 64;
  MemoryPolicy memory;  // the UMEM's NUMA node and page size (util/memory.h)
};

struct SocketStats {
  uint64_t rxDropped = 0;      // no room in the rx ring, or other drops by the kernel
  uint64_t rxInvalid = 0;      // invalid descriptors
  uint64_t rxRingFull = 0;     // frames dropped because the rx ring was full
  uint64_t fillRingEmpty = 0;  // times the fill ring was empty when a frame came
};

class Socket {
 public:
  explicit Socket(const SocketConfig& config);  // throws std::runtime_error naming interface and queue
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fd() const noexcept { return xsk_socket__fd(xsk_); }
  bool zeroCopy() const noexcept { return zeroCopy_; }
  bool busyPolling() const noexcept { return busyPolling_; }
  uint32_t queue() const noexcept { return config_.queue; }
  const std::string& interface() const noexcept { return config_.interface; }
  SocketStats stats() const noexcept;
  // What the kernel gave the UMEM: node, page size, and any fallback. At start only.
  MemoryGrant memoryGrant() const { return inspectMemory(area_); }

  // Hands each received frame to f(const uint8_t* data, uint32_t length),
  // at most `batch`, then gives the frames back to the fill ring at once.
  // Returns the number of frames.
  template <class F>
  uint32_t receive(uint32_t batch, F&& f) noexcept {
    uint32_t index = 0;
    const uint32_t n = xsk_ring_cons__peek(&rx_, batch, &index);
    if (n == 0) {
      if (xsk_ring_prod__needs_wakeup(&fill_)) wakeup();
      return 0;
    }
    uint32_t fillIndex = 0;
    // The fill ring has room for every frame the rx ring holds: each frame is in one of them.
    while (xsk_ring_prod__reserve(&fill_, n, &fillIndex) != n) {
    }
    for (uint32_t i = 0; i < n; ++i) {
      const xdp_desc* d = xsk_ring_cons__rx_desc(&rx_, index + i);
      const auto* data = static_cast<const uint8_t*>(xsk_umem__get_data(area_.data, d->addr));
      f(data, d->len);
      *xsk_ring_prod__fill_addr(&fill_, fillIndex + i) = xsk_umem__extract_addr(d->addr);
    }
    xsk_ring_prod__submit(&fill_, n);
    xsk_ring_cons__release(&rx_, n);
    return n;
  }

  // Blocks in poll() until frames arrive or `timeoutMs` passes (idle strategy "poll").
  bool wait(int timeoutMs) noexcept;

 private:
  void wakeup() noexcept;

  SocketConfig config_;
  Mapping area_;          // the UMEM, rounded up to 2 MiB
  size_t areaBytes_ = 0;  // of it registered: frames * frameSize
  xsk_umem* umem_ = nullptr;
  xsk_socket* xsk_ = nullptr;
  xsk_ring_prod fill_{};
  xsk_ring_cons comp_{};
  xsk_ring_cons rx_{};
  bool zeroCopy_ = false;
  bool busyPolling_ = false;
};

}  // namespace fh::xsk
