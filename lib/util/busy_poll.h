// Busy polling on a socket (kernel UDP or AF_XDP): SO_PREFER_BUSY_POLL,
// SO_BUSY_POLL and SO_BUSY_POLL_BUDGET together. True when the kernel took
// all three; it may still do nothing (veth has no NAPI to poll). Control plane.
#pragma once

#include <sys/socket.h>

#include <cstdint>

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

namespace fh {

inline bool enableBusyPoll(int fd, uint32_t microseconds, uint32_t budget) noexcept {
  const int one = 1, us = int(microseconds), packets = int(budget);
  return ::setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof one) == 0 &&
         ::setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof us) == 0 &&
         ::setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &packets, sizeof packets) == 0;
}

}  // namespace fh
