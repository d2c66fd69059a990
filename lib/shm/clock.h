// The clocks of the shared-memory region: wall time for heartbeats and
// start times (comparable across processes), coarse monotonic time for the
// readers' periodic checks (a vDSO read, no system call).
#pragma once

#include <cstdint>
#include <ctime>

namespace fh::shm {

inline uint64_t clockNs(clockid_t clock) noexcept {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}
inline uint64_t realtimeNs() noexcept { return clockNs(CLOCK_REALTIME); }
inline uint64_t monotonicCoarseNs() noexcept { return clockNs(CLOCK_MONOTONIC_COARSE); }

}  // namespace fh::shm
