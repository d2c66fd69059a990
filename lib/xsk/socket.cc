#include "xsk/socket.h"

#include "xsk/capabilities.h"

#include "util/busy_poll.h"

#include <linux/if_link.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace fh::xsk {

Socket::Socket(const SocketConfig& config) : config_(config) {
  const std::string where = config.interface + " queue " + std::to_string(config.queue);
  if (config.frames == 0 || (config.frames & (config.frames - 1)) != 0 || config.ringSize > config.frames)
    throw std::invalid_argument(where + ": UMEM frames must be a power of two, at least the ring size");
  areaBytes_ = size_t{config.frames} * config.frameSize;
  try {
    area_ = mapMemory(areaBytes_, config.memory);
  } catch (const std::bad_alloc&) {
    throw std::runtime_error(where + ": cannot map the UMEM (" + std::to_string(areaBytes_ >> 20) + " MiB)");
  }

  const auto fail = [&](const std::string& what, int error) {
    const std::string message = where + ": " + what + ": " + std::strerror(error < 0 ? -error : error);
    if (xsk_ != nullptr) xsk_socket__delete(xsk_);
    if (umem_ != nullptr) xsk_umem__delete(umem_);
    unmapMemory(area_);
    throw std::runtime_error(message);
  };
  const xsk_umem_config umemConfig{config.ringSize, config.ringSize, config.frameSize, 0, 0};
  // libxdp 1.3.1 leaves fill_.cached_prod unset: the rings start zeroed.
  std::memset(&fill_, 0, sizeof fill_);
  std::memset(&comp_, 0, sizeof comp_);
  if (const int e = xsk_umem__create(&umem_, area_.data, areaBytes_, &fill_, &comp_, &umemConfig); e != 0)
    fail("cannot create the UMEM" +
             missingCapabilities({{CAP_NET_RAW, "CAP_NET_RAW"}, {CAP_IPC_LOCK, "CAP_IPC_LOCK"}}, -e) +
             (e == -ENOMEM || e == -ENOBUFS || e == -EPERM
                  ? " (the UMEM, " + std::to_string(areaBytes_ >> 20) +
                        " MiB, must fit the locked-memory limit: raise it, e.g. LimitMEMLOCK=infinity, or grant "
                        "CAP_IPC_LOCK)"
                  : ""),
         e);

  xsk_socket_config socketConfig{};
  socketConfig.rx_size = config.ringSize;
  socketConfig.tx_size = 0;
  socketConfig.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // our own program steers
  socketConfig.xdp_flags = config.xdpMode == XdpMode::Native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
  int error = -EOPNOTSUPP;
  if (config.zeroCopy && config.xdpMode == XdpMode::Native) {
    socketConfig.bind_flags = XDP_USE_NEED_WAKEUP | XDP_ZEROCOPY;
    error = xsk_socket__create(&xsk_, config.interface.c_str(), config.queue, umem_, &rx_, nullptr, &socketConfig);
    zeroCopy_ = error == 0;
  }
  if (error != 0) {
    xsk_ = nullptr;
    socketConfig.bind_flags = XDP_USE_NEED_WAKEUP | XDP_COPY;
    error = xsk_socket__create(&xsk_, config.interface.c_str(), config.queue, umem_, &rx_, nullptr, &socketConfig);
    if (error != 0)
      fail("cannot create the AF_XDP socket" +
               missingCapabilities({{CAP_NET_RAW, "CAP_NET_RAW"}, {CAP_IPC_LOCK, "CAP_IPC_LOCK"}}, -error),
           error);
  }

  // Every frame goes to the fill ring first; the kernel hands them back in rx.
  uint32_t index = 0;
  const uint32_t n = xsk_ring_prod__reserve(&fill_, config.ringSize, &index);
  for (uint32_t i = 0; i < n; ++i) *xsk_ring_prod__fill_addr(&fill_, index + i) = uint64_t{i} * config.frameSize;
  xsk_ring_prod__submit(&fill_, n);

  if (config.busyPoll) busyPolling_ = enableBusyPoll(fd(), config.busyPollUs, config.busyPollBudget);
}

Socket::~Socket() {
  xsk_socket__delete(xsk_);
  xsk_umem__delete(umem_);
  unmapMemory(area_);
}

SocketStats Socket::stats() const noexcept {
  xdp_statistics s{};
  socklen_t length = sizeof s;
  SocketStats out;
  if (::getsockopt(fd(), SOL_XDP, XDP_STATISTICS, &s, &length) != 0) return out;
  out.rxDropped = s.rx_dropped;
  out.rxInvalid = s.rx_invalid_descs;
  out.rxRingFull = s.rx_ring_full;
  out.fillRingEmpty = s.rx_fill_ring_empty_descs;
  return out;
}

void Socket::wakeup() noexcept { ::recvfrom(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr); }

bool Socket::wait(int timeoutMs) noexcept {
  pollfd p{fd(), POLLIN, 0};
  return ::poll(&p, 1, timeoutMs) > 0;
}

}  // namespace fh::xsk
