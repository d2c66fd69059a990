// The XDP steering program on one interface (bpf/fh_steer.bpf.c): loaded from
// the skeleton embedded in the binary, attached through a BPF link so that
// the kernel detaches it when the daemon exits in any way (SIGKILL included:
// feed packets then reach the kernel again, and a restart attaches afresh).
// Control plane; construction throws std::runtime_error naming the interface.
#pragma once

#include <net/if.h>

#include <array>
#include <cstdint>
#include <string>

#include "fh_steer_kern_user.h"

struct fh_steer;

namespace fh::xsk {

enum class XdpMode { Native, Generic };  // driver (XDP_FLAGS_DRV_MODE) or skb
const char* name(XdpMode mode) noexcept;

struct SteeringCounters {
  std::array<fh_counter, FH_REASON_COUNT> byReason{};  // summed over CPUs
};
const char* reasonName(fh_reason reason) noexcept;

class Steering {
 public:
  // Loads the program (not attached yet). Needs CAP_BPF/CAP_NET_ADMIN.
  Steering();
  ~Steering();
  Steering(const Steering&) = delete;
  Steering& operator=(const Steering&) = delete;

  // Attaches to `interface`, native mode first unless `allowNative` is false,
  // then generic; returns the mode in effect.
  XdpMode attach(const std::string& interface, bool allowNative = true);
  void detach() noexcept;
  bool attached() const noexcept { return linkFd_ >= 0; }

  // Feed lines: IPv4 group and UDP port in host byte order.
  void addLine(uint32_t group, uint16_t port, uint32_t lineId, uint32_t feedId);
  // The AF_XDP socket that receives steered packets of `queue`.
  void setSocket(uint32_t queue, int xskFd);
  void clearSocket(uint32_t queue) noexcept;

  SteeringCounters counters() const;
  int programFd() const noexcept;
  int socketMapFd() const noexcept;
  int statsMapFd() const noexcept;
  int linesMapFd() const noexcept;

 private:
  fh_steer* skel_ = nullptr;
  int linkFd_ = -1;
  std::string interface_;
};

}  // namespace fh::xsk
